#include "zkop/agent/config.h"

#include <gtest/gtest.h>

namespace zkop::agent {
namespace {

AgentConfig Parse(const std::string& yaml) {
  return ParseConfig(config::YamlReader::LoadString(yaml, "agent.yaml"));
}

std::string ErrorOf(const std::string& yaml) {
  try {
    Parse(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kMinimal =
    "zookeeper:\n"
    "  connect: demo-client.default.svc:2181\n"
    "  sessionTimeout: 30s\n"
    "  root: /dubbo\n"
    "application: demo-provider\n"
    "host: auto\n"
    "probeInterval: 1s\n"
    "metricsAddress: 0.0.0.0:9464\n"
    "sources:\n"
    "  - dubboProperties: /app/conf/dubbo.properties\n"
    "services:\n"
    "  - interface: org.apache.dubbo.demo.DemoService\n"
    "    version: 1.0.0\n"
    "    group: \"\"\n"
    "    methods: [sayHello, sayHelloAsync]\n"
    "    port: 20880\n";

TEST(AgentConfig, DesignMinimalConfigParses) {
  AgentConfig c = Parse(kMinimal);
  EXPECT_EQ(c.connect, "demo-client.default.svc:2181");
  EXPECT_EQ(c.session_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.root, "/dubbo");
  EXPECT_EQ(c.application, "demo-provider");
  EXPECT_EQ(c.probe_interval, std::chrono::seconds(1));
  EXPECT_EQ(c.session_path_budget, 512 * 1024);
  EXPECT_EQ(c.register_mode, RegisterMode::kInterface);
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].path, "/app/conf/dubbo.properties");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].source, "/app/conf/dubbo.properties");  // the only source
  EXPECT_EQ(*c.services[0].port, 20880);
  EXPECT_EQ(c.services[0].methods, (std::vector<std::string>{"sayHello", "sayHelloAsync"}));
}

TEST(AgentConfig, PreciseErrors) {
  std::string base = "zookeeper: {connect: z:2181}\napplication: a\nservices:\n";
  EXPECT_NE(
      ErrorOf(base + "  - interface: org.example.Demo\n    prot: 1\n")
          .find("agent.yaml:5:11: services[0].prot: unknown key \"prot\"; did you mean \"port\"?"),
      std::string::npos)
      << ErrorOf(base + "  - interface: org.example.Demo\n    prot: 1\n");
  std::string e = ErrorOf(base + "  - interface: org.example.1Demo\n");
  EXPECT_NE(e.find("agent.yaml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("services[0].interface"), std::string::npos) << e;
  EXPECT_NE(e.find("Java interface name"), std::string::npos) << e;
  e = ErrorOf(base + "  - interface: org.example.Demo\n    port: 70000\n");
  EXPECT_NE(e.find("services[0].port"), std::string::npos) << e;
  e = ErrorOf(base + "  - interface: org.example.Demo\n    methods: [say-hello]\n");
  EXPECT_NE(e.find("services[0].methods[0]"), std::string::npos) << e;
  e = ErrorOf("zookeeper: {connect: z:2181}\nregisterMode: both\nservices:\n  - interface: a.B\n");
  EXPECT_NE(e.find("registerMode: expected one of interface, instance, all"), std::string::npos)
      << e;
  e = ErrorOf(
      "zookeeper: {connect: z:2181, sessionPathBudget: 4Mi}\nservices:\n  - interface: a.B\n");
  EXPECT_NE(e.find("ZOOKEEPER-4306"), std::string::npos) << e;
  e = ErrorOf("zookeeper: {connect: z:2181}\nservices: []\n");
  EXPECT_NE(e.find("services"), std::string::npos) << e;
  e = ErrorOf("zookeeper: {connect: z:2181}\nsoures: []\nservices:\n  - interface: a.B\n");
  EXPECT_NE(e.find("did you mean \"sources\""), std::string::npos) << e;
}

TEST(AgentConfig, SeveralSourcesNeedSourcePerService) {
  std::string yaml =
      "zookeeper: {connect: z:2181}\n"
      "sources:\n"
      "  - dubboProperties: /a/dubbo.properties\n"
      "  - springBoot: /b/application.yml\n"
      "    process: b.jar\n"
      "services:\n"
      "  - interface: a.A\n"
      "    source: /a/dubbo.properties\n"
      "  - interface: b.B\n";
  std::string e = ErrorOf(yaml);
  EXPECT_NE(e.find("services[1]: several sources are configured"), std::string::npos) << e;
  e = ErrorOf(yaml + "    source: /c/x.properties\n");
  EXPECT_NE(e.find("one of: /a/dubbo.properties, /b/application.yml"), std::string::npos) << e;
  AgentConfig c =
      Parse(yaml + "    source: /b/application.yml\n    parameters: {weight: \"50\"}\n");
  EXPECT_EQ(c.sources[1].kind, SourceConfig::Kind::kSpringBoot);
  EXPECT_EQ(c.sources[1].process, "b.jar");
  EXPECT_EQ(c.services[1].parameters.at(0), (std::pair<std::string, std::string>{"weight", "50"}));
}

}  // namespace
}  // namespace zkop::agent
