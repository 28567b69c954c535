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

TEST(AgentConfig, HostMustBeAUnicastIpAddress) {
  auto with_host = [](const std::string& host) {
    return ErrorOf("zookeeper: {connect: z:2181}\nhost: \"" + host +
                   "\"\nservices:\n  - interface: a.B\n");
  };
  for (std::string bad : {"0.0.0.0", "localhost", "::", "not an ip", "999.1.1.1",
                          "127.0.0.1/x?y=1&z", "224.0.0.1", "10.0.0.1:80", ""}) {
    std::string e = with_host(bad);
    EXPECT_NE(e.find("agent.yaml:2:7: host: expected \"auto\" or the IP address to register"),
              std::string::npos)
        << bad << ": " << e;
  }
  EXPECT_NE(with_host("not an ip").find("is not an IP address"), std::string::npos);
  for (std::string good : {"10.0.0.5", "127.0.0.1", "fd00::5", "auto"}) {
    EXPECT_EQ(with_host(good), "") << good;
  }
}

TEST(AgentConfig, ConnectStringIsValidated) {
  auto with_connect = [](const std::string& connect) {
    return ErrorOf("zookeeper: {connect: \"" + connect + "\"}\nservices:\n  - interface: a.B\n");
  };
  for (std::string bad :
       {"::::,,,/", "", "zk", "zk:", "zk:0", "zk:65536", "zk:21x81", "a:1,,b:2", "a:1,", ",a:1",
        "a b:2181", "zk:2181/a/", "zk:2181/a//b", ":2181", "/chroot"}) {
    std::string e = with_connect(bad);
    EXPECT_NE(e.find("zookeeper.connect: expected a connect string"), std::string::npos)
        << bad << ": " << e;
  }
  for (std::string good : {"zk:2181", "10.0.0.1:2181,10.0.0.2:2181/dubbo/x", "zk-0.zk.ns.svc:2181",
                           "::1:2181", "zk:2181/"}) {
    EXPECT_EQ(with_connect(good), "") << good;
  }
}

TEST(AgentConfig, CommandLineOverridesConnectAndMetricsAddress) {
  auto parse = [](const std::string& yaml, const ConfigOverrides& o) {
    return ParseConfig(config::YamlReader::LoadString(yaml, "agent.yaml"), o);
  };
  ConfigOverrides o;
  o.connect = "demo-client.default.svc:2181";
  o.metrics_address = "10.1.2.3:9464";
  // The file may leave zookeeper.connect (and the whole zookeeper mapping) out.
  AgentConfig c = parse("services:\n  - interface: a.B\n", o);
  EXPECT_EQ(c.connect, "demo-client.default.svc:2181");
  EXPECT_EQ(c.metrics_address, "10.1.2.3:9464");
  c = parse(
      "zookeeper: {connect: z:2181, sessionTimeout: 10s}\nmetricsAddress: 0.0.0.0:1\n"
      "services:\n  - interface: a.B\n",
      o);
  EXPECT_EQ(c.connect, "demo-client.default.svc:2181");
  EXPECT_EQ(c.session_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.metrics_address, "10.1.2.3:9464");

  auto error = [&](const ConfigOverrides& bad) {
    try {
      parse("services:\n  - interface: a.B\n", bad);
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  ConfigOverrides bad = o;
  bad.connect = "zk:99999";
  EXPECT_NE(error(bad).find("--zookeeper: expected a connect string"), std::string::npos)
      << error(bad);
  EXPECT_NE(error(bad).find("\"zk:99999\""), std::string::npos);
  bad = o;
  bad.connect = "";  // an unset $(ZOOKEEPER) that Kubernetes left empty
  EXPECT_NE(error(bad).find("it is empty"), std::string::npos) << error(bad);
  bad = o;
  bad.metrics_address = "$(POD_IP):9464";  // a reference Kubernetes did not expand
  EXPECT_NE(error(bad).find("--metrics-address: \"$(POD_IP)\" is not an IP address"),
            std::string::npos)
      << error(bad);
  bad.metrics_address = "10.1.2.3";
  EXPECT_NE(error(bad).find("--metrics-address: \"10.1.2.3\" is not an address: missing port"),
            std::string::npos)
      << error(bad);
  // Without the flag the file's connect stays required.
  EXPECT_NE(ErrorOf("services:\n  - interface: a.B\n").find("zookeeper"), std::string::npos);
}

TEST(AgentConfig, DuplicateKeysAndServicesAreReported) {
  std::string e = ErrorOf(
      "zookeeper: {connect: z:2181}\nhost: 10.0.0.1\nhost: 10.0.0.2\n"
      "services:\n  - interface: a.B\n");
  EXPECT_EQ(e, "agent.yaml:3:1: duplicate key \"host\" (first set on line 2); remove one of them");
  std::string yaml = "zookeeper: {connect: z:2181}\nservices:\n";
  for (int i = 0; i < 10000; ++i) yaml += "  - {interface: a.B, port: 1}\n";
  yaml += "  - {interface: a.B, port: 2}\n";
  AgentConfig c = Parse(yaml);
  auto w = DuplicateServices(c);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "agent.yaml:3: services[0] (a.B) is listed 10000 times (also services[1] at line 4, "
            "services[2] at line 5, services[3] at line 6, ...); it is registered once: remove "
            "the repeats");
}

}  // namespace
}  // namespace zkop::agent
