#include "zkop/agent/check.h"

#include <gtest/gtest.h>

#include <sstream>

#include "fake_probe.h"

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

}  // namespace
}  // namespace zkop::agent
