#include "zkop/dubbo/properties.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "java_reference.h"

namespace zkop::dubbo {
namespace {

std::map<std::string, std::string> Values(const SettingMap& m) {
  std::map<std::string, std::string> out;
  for (const auto& [k, s] : m) out[k] = s.value;
  return out;
}

TEST(Properties, SeparatorsAndComments) {
  auto m = ParseProperties(
      "# comment\n! bang comment\n  a=1\nb : 2\nc 3\nd\t=\t4\ne\nf=\n g:=5\nh==6\n", "t");
  std::map<std::string, std::string> want = {{"a", "1"}, {"b", "2"}, {"c", "3"},  {"d", "4"},
                                             {"e", ""},  {"f", ""},  {"g", "=5"}, {"h", "=6"}};
  EXPECT_EQ(Values(m), want);
  EXPECT_EQ(m.at("a").line, 3);
  EXPECT_EQ(m.at("h").line, 10);
}

TEST(Properties, ContinuationsAndEscapes) {
  auto m = ParseProperties(
      "k1 = one \\\n     two\\\n three\n"
      "k\\ 2 = x\\ty\\nz\n"
      "k3 = \\u0041\\u00e9\\q\n"
      "k4 = ends with two backslashes \\\\\n"
      "k5 = value\\\n# not a comment\n"
      "dubbo.protocol.port=20880\r\n"
      "k6=mac\rk7=last\\",
      "t");
  EXPECT_EQ(m.at("k1").value, "one twothree");  // leading blanks of a continuation go
  EXPECT_EQ(m.at("k 2").value, "x\ty\nz");
  EXPECT_EQ(m.at("k3").value, "A\xC3\xA9q");
  EXPECT_EQ(m.at("k4").value, "ends with two backslashes \\");
  EXPECT_EQ(m.at("k5").value, "value# not a comment");
  EXPECT_EQ(m.at("dubbo.protocol.port").value, "20880");
  EXPECT_EQ(m.at("dubbo.protocol.port").line, 9);
  EXPECT_EQ(m.at("k6").value, "mac");
  EXPECT_EQ(m.at("k7").value, "last");
}

TEST(Properties, LaterKeyWinsAndLatin1) {
  auto m = ParseProperties("a=1\na=2\nb=\xE9\n", "t");
  EXPECT_EQ(m.at("a").value, "2");
  EXPECT_EQ(m.at("a").line, 2);
  EXPECT_EQ(m.at("b").value, "\xC3\xA9");  // the ISO-8859-1 byte 0xE9 is é
}

TEST(Properties, MalformedUnicodeEscapeNamesTheLine) {
  try {
    ParseProperties("ok=1\nbad=\\u12G4\n", "conf/dubbo.properties");
    FAIL() << "expected an error";
  } catch (const PropertiesError& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("conf/dubbo.properties:2: Malformed \\uxxxx"),
              std::string::npos)
        << e.what();
  }
}

TEST(Properties, MissingFileIsAPreciseError) {
  try {
    LoadPropertiesFile("/nonexistent/dubbo.properties");
    FAIL();
  } catch (const PropertiesError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dubbo.properties"), std::string::npos);
  }
}

// Every case is also loaded by java.util.Properties; both must agree exactly.
TEST(Properties, MatchesJdkPropertiesLoad) {
  if (!testing::JavaAvailable()) GTEST_SKIP() << "no java";
  std::vector<std::string> cases = {
      "a=1\nb : 2\nc 3\n  d\t\f=\t4\n#x\n!y\n",
      "k1 = one \\\n     two\\\n three\nk5 = value\\\n# not a comment\n",
      "k\\ 2 = x\\ty\\nz\\=\\:\nk\\=k=v\nk\\:k:v\n",
      "u=\\u0041\\u00e9\\uD83D\\uDE00\\q\\\\\n",
      "blank-continuation=\\\n\nnext=1\n\\\n\nx=\\\n",
      "crlf=1\r\ncr=2\rlf=3\n   \n\t\n",
      "latin=\xE9\xFC\ndup=1\ndup=2\n",
      "trailing=\\",
      "odd\\\\\\\nkey=v\n",
      "  # indented comment \\\nnot-continued=1\n",
      "sep-only=\n:colon-key\n=eq-key\n",
      "bad=\\u12",
  };
  char dir[] = "/tmp/zkop-props-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::vector<std::string> args = {"properties"};
  for (size_t i = 0; i < cases.size(); ++i) {
    args.push_back(std::string(dir) + "/case" + std::to_string(i) + ".properties");
    std::ofstream(args.back(), std::ios::binary) << cases[i];
  }
  // One JVM for all cases: its output is "FILE" followed by that file's entries.
  std::vector<std::vector<std::string>> java;
  for (const auto& line : testing::RunJava(args, "")) {
    if (line == "FILE") {
      java.emplace_back();
    } else if (!java.empty()) {
      java.back().push_back(line.rfind("ERROR", 0) == 0 ? "ERROR" : line);
    }
  }
  ASSERT_EQ(java.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<std::string> ours;
    try {
      // Java's TreeMap orders by UTF-16; these keys are ASCII so std::map agrees.
      for (const auto& [k, s] : ParseProperties(cases[i], args[i + 1])) {
        ours.push_back(testing::Hex(k) + " " + testing::Hex(s.value));
      }
    } catch (const PropertiesError&) {
      ours = {"ERROR"};
    }
    EXPECT_EQ(ours, java[i]) << "case " << i << ": " << cases[i];
    unlink(args[i + 1].c_str());
  }
  rmdir(dir);
}

TEST(ProviderFiles, OnlyRegularFilesUnderTheCapAreRead) {
  auto error_of = [](const std::string& path) {
    try {
      LoadPropertiesFile(path);
    } catch (const PropertiesError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error_of("/dev/zero"),
            "/dev/zero: is a character device, not a regular file (check the path in the agent "
            "config's sources)");
  EXPECT_EQ(error_of("/tmp"),
            "/tmp: is a directory, not a regular file (check the path in the agent config's "
            "sources)");
  // A missing file has no line: the message has no ":0".
  EXPECT_EQ(error_of("/nonexistent/dubbo.properties"),
            "/nonexistent/dubbo.properties: cannot open the file: No such file or directory "
            "(check the path in the agent config's sources)");
}

}  // namespace
}  // namespace zkop::dubbo
