#include "java_reference.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace zkop::dubbo::testing {

bool JavaAvailable() {
#ifdef ZKOP_JAVA
  return true;
#else
  return false;
#endif
}

std::vector<std::string> RunJava(const std::vector<std::string>& args, const std::string& input) {
#ifdef ZKOP_JAVA
  char in_path[] = "/tmp/zkop-java-in-XXXXXX";
  int fd = mkstemp(in_path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return {};
  }
  FILE* f = fdopen(fd, "w");
  fwrite(input.data(), 1, input.size(), f);
  fclose(f);
  std::string cmd = std::string(ZKOP_JAVA) + " " + ZKOP_DUBBO_JAVA_REFERENCE;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += std::string(" < ") + in_path;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  unlink(in_path);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "java failed: " << cmd;
  std::vector<std::string> lines;
  std::istringstream s(out);
  for (std::string line; std::getline(s, line);) lines.push_back(line);
  return lines;
#else
  (void)args;
  (void)input;
  return {};
#endif
}

std::string Hex(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

std::string Unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace zkop::dubbo::testing
