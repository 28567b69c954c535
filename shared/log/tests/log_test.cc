#include "zkop/log/log.h"

#include <gtest/gtest.h>

#include <sstream>

namespace zkop::log {
namespace {

const auto kWhen = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764085300123));

TEST(LogFormat, TextLineHasTimestampLevelComponentAndFields) {
  std::string line = FormatLine(Format::kText, kWhen, Level::kWarn, "agent", "port conflict",
                                {{"port", 20880}, {"file", "/app/a b.properties"}});
  EXPECT_EQ(line,
            "2025-11-25T15:41:40.123Z WARN  agent: port conflict port=20880 "
            "file=\"/app/a b.properties\"");
}

TEST(LogFormat, JsonLineEscapes) {
  std::string line = FormatLine(Format::kJson, kWhen, Level::kInfo, "zk", "say \"hi\"\n",
                                {{"path", "/dubbo\t"}});
  EXPECT_EQ(line,
            "{\"ts\":\"2025-11-25T15:41:40.123Z\",\"level\":\"info\",\"component\":\"zk\","
            "\"msg\":\"say \\\"hi\\\"\\n\",\"path\":\"/dubbo\\t\"}");
}

TEST(LogFormat, SecretFieldsAreRedactedInBothFormats) {
  for (Format f : {Format::kText, Format::kJson}) {
    std::string line = FormatLine(f, kWhen, Level::kInfo, "op", "auth",
                                  {{"superDigest", "super:xyz"}, {"bearerToken", "abc123"},
                                   {"password", "hunter2"}, {"user", "super"}});
    EXPECT_EQ(line.find("xyz"), std::string::npos) << line;
    EXPECT_EQ(line.find("abc123"), std::string::npos) << line;
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_NE(line.find("super"), std::string::npos) << line;  // non-secret field kept
    EXPECT_NE(line.find("<redacted>"), std::string::npos) << line;
  }
}

TEST(LogLevels, ParseAndFilter) {
  Level l;
  ASSERT_TRUE(ParseLevel("WARN", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud", &l));
  Format f;
  ASSERT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));

  std::ostringstream sink;
  SetSinkForTesting(&sink);
  Configure(Level::kWarn, Format::kText);
  Logger logger("t");
  logger.Info("hidden");
  logger.Debug("hidden too");
  logger.Error("shown", {{"n", 1}});
  SetSinkForTesting(nullptr);
  Configure(Level::kInfo, Format::kText);
  EXPECT_EQ(sink.str().find("hidden"), std::string::npos);
  EXPECT_NE(sink.str().find("ERROR t: shown n=1\n"), std::string::npos) << sink.str();
}

}  // namespace
}  // namespace zkop::log
