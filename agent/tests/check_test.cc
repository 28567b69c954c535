#include "zkop/agent/check.h"

#include <gtest/gtest.h>

#include <sstream>

#include "fake_probe.h"
#include "zkop/dubbo/url_encode.h"
// cpprest defines a macro U; include it after gtest.
#include <cpprest/json.h>

namespace zkop::agent {
namespace {

TEST(Check, ReportsStatesAndExitStatus) {
  AgentConfig c = ParseConfig(config::YamlReader::LoadString(
      "zookeeper: {connect: z:2181}\napplication: demo\nhost: 10.0.0.1\nservices:\n"
      "  - interface: a.B\n    port: 20880\n    methods: [x]\n"
      "  - interface: c.D\n    port: 20881\n    process: demo.jar\n",
      "agent.yaml"));
  auto declared = Resolve(
      c, [](const std::string&) { return std::nullopt; },
      [] { return std::vector<std::string>{}; });
  testing::FakeProbe probe;
  probe.Listen(20880);
  std::ostringstream out;
  EXPECT_EQ(RunCheck(c, declared, probe, false, out), 0);
  std::string text = out.str();
  EXPECT_NE(text.find("services[0] a.B"), std::string::npos) << text;
  EXPECT_NE(text.find("state:  would register (port 20880)"), std::string::npos) << text;
  EXPECT_NE(text.find("path:   /dubbo/a.B/providers/dubbo%3A%2F%2F10.0.0.1%3A20880%2Fa.B%3F"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("url:    dubbo://10.0.0.1:20880/a.B?anyhost=false&application=demo"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("state:  not listening"), std::string::npos) << text;
  EXPECT_NE(text.find("summary: 1 would register, 1 not listening, 0 conflict, 0 config error"),
            std::string::npos)
      << text;

  probe.Listen(20881, 99);
  probe.Process(99, "redis-server *:20881");
  std::ostringstream json;
  EXPECT_EQ(RunCheck(c, declared, probe, true, json), 1);
  auto j = json.str();
  EXPECT_NE(j.find("\"state\":\"conflict\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"ok\":false"), std::string::npos) << j;
  EXPECT_NE(j.find("redis-server"), std::string::npos) << j;
}

TEST(Check, JsonIsValidWhateverTheInput) {
  AgentConfig c = ParseConfig(config::YamlReader::LoadString(
      "zookeeper: {connect: z:2181}\napplication: demo\nhost: 10.0.0.1\nservices:\n"
      "  - interface: a.B\n    port: 20880\n  - interface: a.B\n    port: 20880\n",
      "agent.yaml"));
  auto declared = Resolve(
      c, [](const std::string&) { return std::nullopt; },
      [] { return std::vector<std::string>{}; });
  declared[0].application = std::string("bad\xff\xc3 \"quoted\"\n\x01");
  declared[1].config_error = std::string("/x/dubbo.properties:1: \xed\xa0\x80");
  testing::FakeProbe probe;
  probe.Listen(20880, 5);
  probe.Process(5, std::string("java \xfe -jar app.jar"));
  std::ostringstream json;
  RunCheck(c, declared, probe, true, json);
  std::string j = json.str();
  EXPECT_TRUE(dubbo::IsValidUtf8(j)) << j;
  EXPECT_NO_THROW(web::json::value::parse(j)) << j;
  EXPECT_NE(j.find("\"warnings\":[\"agent.yaml:5: services[0] (a.B) is listed 2 times"),
            std::string::npos)
      << j;
  std::ostringstream error;
  PrintCheckError("agent.yaml:1:1: \xff", true, error);
  EXPECT_NO_THROW(web::json::value::parse(error.str())) << error.str();
  EXPECT_NE(error.str().find("\"ok\":false"), std::string::npos);
}

}  // namespace
}  // namespace zkop::agent
