// Issue 11 #4 against the real binary: inputs that used to crash (bad_alloc), hang (a FIFO)
// or be accepted silently (a directory) end, under a memory and a time limit, with exit
// status 1, a message naming the file, and valid JSON from `check --json`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <sstream>

#include "harness.h"
// cpprest defines a macro U; include it last.
#include <cpprest/json.h>

namespace zkop::agent::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::TempDir;

std::string BillionLaughs() {
  std::string y =
      "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (int i = 1; i < 9; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int k = 1; k < 9; ++k) y += "," + p;
    y += "]\n";
  }
  return y;
}

class HostileInput : public ::testing::Test {
 protected:
  // `zkop-agent check --json --config FILE` under a 1 GiB address-space limit and 20 s.
  RunResult Check(const std::string& config) {
    auto start = std::chrono::steady_clock::now();
    RunResult r = RunToEnd(dir_,
                           {"/usr/bin/prlimit", "--as=1073741824", "--", AgentBinary(), "check",
                            "--json", "--config", config},
                           20s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << config;
    return r;
  }
  // The JSON document in the output (stdout; stderr has the text form).
  web::json::value Json(const RunResult& r) {
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] == '{') {
        try {
          return web::json::value::parse(line);
        } catch (const std::exception& e) {
          ADD_FAILURE() << "invalid JSON: " << e.what() << "\n" << line;
        }
      }
    }
    ADD_FAILURE() << "no JSON document in:\n" << r.output;
    return {};
  }
  std::string Config(const std::string& source_key, const std::string& source) {
    return dir_.Write("agent-" + std::to_string(++n_) + ".yaml",
                      "zookeeper: {connect: \"127.0.0.1:2181\"}\napplication: a\nhost: 10.0.0.1\n"
                      "sources:\n  - " +
                          source_key + ": " + source +
                          "\nservices:\n  - {interface: a.B, methods: [x]}\n");
  }

  TempDir dir_{"agent-hostile"};
  int n_ = 0;
};

TEST_F(HostileInput, TheConfigFileItself) {
  std::string fifo = dir_.Path("fifo.yaml");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string laughs = dir_.Write("laughs.yaml", BillionLaughs());
  struct Case {
    std::string file, expect;
  };
  for (const Case& c : {Case{"/dev/zero", "/dev/zero: is a character device, not a regular file"},
                        Case{fifo, fifo + ": is a FIFO, not a regular file"},
                        Case{dir_.path(), dir_.path() + ": is a directory, not a regular file"},
                        Case{laughs, laughs + ":"}}) {
    RunResult r = Check(c.file);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << r.output;
    web::json::value j = Json(r);
    ASSERT_TRUE(j.is_object()) << r.output;
    EXPECT_FALSE(j.at("ok").as_bool());
    EXPECT_NE(j.at("error").as_string().find(c.expect), std::string::npos) << r.output;
  }
}

TEST_F(HostileInput, ProviderFiles) {
  std::string fifo = dir_.Path("fifo.properties");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string laughs = dir_.Write("laughs/application.yml", BillionLaughs());
  std::string deep = dir_.Write("deep/application.yml", std::string(5000, '[') + "\n");
  struct Case {
    std::string key, file, expect;
  };
  for (const Case& c : {Case{"dubboProperties", "/dev/zero", "/dev/zero: is a character device"},
                        Case{"dubboProperties", fifo, fifo + ": is a FIFO"},
                        Case{"dubboProperties", dir_.path(), dir_.path() + ": is a directory"},
                        Case{"springBoot", laughs, laughs + ":"},
                        Case{"springBoot", deep, deep + ":1: nested more than 64 levels"}}) {
    RunResult r = Check(Config(c.key, c.file));
    EXPECT_EQ(r.status, 1) << r.output;
    web::json::value j = Json(r);
    ASSERT_TRUE(j.is_object()) << r.output;
    auto service = j.at("services").as_array().at(0);
    EXPECT_EQ(service.at("state").as_string(), "config_error") << r.output;
    EXPECT_NE(service.at("reason").as_string().find(c.expect), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace zkop::agent::testing
