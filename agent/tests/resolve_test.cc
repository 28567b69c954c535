#include "zkop/agent/resolve.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>

namespace zkop::agent {
namespace {

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zkop-resolve-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::vector<Declared> Run(const std::string& yaml) {
    AgentConfig c = ParseConfig(config::YamlReader::LoadString(yaml, "agent.yaml"));
    return Resolve(
        c,
        [this](const std::string& k) -> std::optional<std::string> {
          auto it = env_.find(k);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        },
        [] {
          return std::vector<std::string>{"127.0.0.1", "10.1.2.3", "fe80::1"};
        });
  }
  std::string dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ResolveTest, PortAndApplicationFromDubboProperties) {
  std::string f = Write("dubbo.properties",
                        "dubbo.application.name=orders\n# c\ndubbo.protocol.port = 20881\n");
  auto d = Run("zookeeper: {connect: z:2181}\nsources:\n  - dubboProperties: " + f +
               "\nservices:\n  - interface: a.B\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].config_error, "");
  EXPECT_EQ(d[0].application, "orders");
  EXPECT_EQ(d[0].bind_port, 20881);
  EXPECT_EQ(d[0].port_origin, f + ":3 dubbo.protocol.port");
  EXPECT_EQ(d[0].host, "10.1.2.3");  // first non-loopback
  EXPECT_TRUE(d[0].anyhost);
}

TEST_F(ResolveTest, EnvironmentPrecedence) {
  std::string f = Write("application.yml",
                        "spring:\n  application:\n    name: pay\ndubbo:\n  protocols:\n"
                        "    tri:\n      name: tri\n      port: 50052\n");
  std::string yaml =
      "zookeeper: {connect: z:2181}\nhost: 10.9.9.9\nsources:\n  - springBoot: " + f +
      "\nservices:\n  - interface: a.B\n    protocol: tri\n";
  auto d = Run(yaml);
  EXPECT_EQ(d[0].protocol, "tri");
  EXPECT_EQ(d[0].bind_port, 50052);
  EXPECT_EQ(d[0].host, "10.9.9.9");
  EXPECT_FALSE(d[0].anyhost);  // a configured host is a bind host

  env_["POD_IP"] = "10.5.5.5";
  env_["DUBBO_PORT_TO_REGISTRY"] = "30000";
  env_["DUBBO_IP_TO_REGISTRY"] = "10.7.7.7";
  d = Run(yaml);
  EXPECT_EQ(d[0].registry_port, 30000);
  EXPECT_EQ(d[0].host, "10.7.7.7");
  // The protocol-prefixed form wins over the plain one.
  env_["TRI_DUBBO_PORT_TO_REGISTRY"] = "31000";
  env_["TRI_DUBBO_IP_TO_REGISTRY"] = "10.8.8.8";
  env_["DUBBO_PORT_TO_BIND"] = "50060";
  d = Run(yaml);
  EXPECT_EQ(d[0].registry_port, 31000);
  EXPECT_EQ(d[0].host, "10.8.8.8");
  EXPECT_EQ(d[0].bind_port, 50060);  // environment before file
  EXPECT_EQ(d[0].port_origin, "environment DUBBO_PORT_TO_BIND");
  // Empty counts as unset (Dubbo's StringUtils.isEmpty).
  env_["TRI_DUBBO_IP_TO_REGISTRY"] = "";
  d = Run(yaml);
  EXPECT_EQ(d[0].host, "10.7.7.7");
}

TEST_F(ResolveTest, HostFallsBackToPodIpThenInterfaces) {
  std::string yaml =
      "zookeeper: {connect: z:2181}\napplication: x\nservices:\n  - interface: a.B\n";
  env_["POD_IP"] = "10.5.5.5";
  auto d = Run(yaml);
  EXPECT_EQ(d[0].host, "10.5.5.5");
  EXPECT_EQ(d[0].bind_port, 20880);  // dubbo's default port
  EXPECT_TRUE(d[0].anyhost);
  env_["DUBBO_IP_TO_BIND"] = "10.6.6.6";
  d = Run(yaml);
  EXPECT_EQ(d[0].host, "10.6.6.6");
  EXPECT_FALSE(d[0].anyhost);
}

TEST_F(ResolveTest, ProblemsAreConfigErrorsOfTheService) {
  std::string bad = Write("bad.properties", "dubbo.protocol.port=abc\n");
  auto d =
      Run("zookeeper: {connect: z:2181}\napplication: x\nsources:\n  - dubboProperties: " + bad +
          "\nservices:\n  - interface: a.B\n");
  EXPECT_NE(d[0].config_error.str().find(bad + ":1: dubbo.protocol.port: expected a port number"),
            std::string::npos)
      << d[0].config_error;
  d = Run("zookeeper: {connect: z:2181}\napplication: x\nsources:\n  - dubboProperties: " + dir_ +
          "/missing.properties\nservices:\n  - interface: a.B\n");
  EXPECT_NE(d[0].config_error.str().find("missing.properties"), std::string::npos);
  env_["DUBBO_PORT_TO_BIND"] = "99999";
  d = Run("zookeeper: {connect: z:2181}\napplication: x\nservices:\n  - interface: a.B\n");
  EXPECT_EQ(d[0].config_error,
            "environment variable DUBBO_PORT_TO_BIND=\"99999\": expected a port number 1-65535");
  env_.clear();
  d = Run("zookeeper: {connect: z:2181}\nservices:\n  - interface: a.B\n");
  EXPECT_NE(d[0].config_error.str().find("no application name"), std::string::npos);
}

TEST_F(ResolveTest, RegistryHostsFromEnvFilesAndPodIpAreValidated) {
  const std::string svc =
      "zookeeper: {connect: z:2181}\napplication: x\nservices:\n"
      "  - interface: a.B\n";
  for (std::string var :
       {"DUBBO_IP_TO_REGISTRY", "DUBBO_DUBBO_IP_TO_REGISTRY", "DUBBO_IP_TO_BIND", "POD_IP"}) {
    for (std::string bad : {"0.0.0.0", "localhost", "::", "127.0.0.1/x?y=1&z", "999.1.1.1"}) {
      env_ = {{var, bad}};
      auto d = Run(svc);
      EXPECT_NE(d[0].config_error.str().find("registry host from environment " + var + ": \""),
                std::string::npos)
          << var << "=" << bad << ": " << d[0].config_error;
    }
  }
  env_.clear();
  std::string f =
      Write("dubbo.properties", "dubbo.application.name=o\n\ndubbo.protocol.host=0.0.0.0\n");
  auto d = Run("zookeeper: {connect: z:2181}\nsources:\n  - dubboProperties: " + f +
               "\nservices:\n  - interface: a.B\n");
  EXPECT_EQ(d[0].config_error.str(),
            "registry host from " + f +
                ":3 dubbo.protocol.host: \"0.0.0.0\" is not an address consumers "
                "can reach; give the provider's IP");
  env_ = {{"DUBBO_IP_TO_REGISTRY", "127.0.0.5"}};  // loopback is accepted (single host, tests)
  EXPECT_EQ(Run(svc)[0].config_error, "");
}

TEST_F(ResolveTest, MessagesNameThePlace) {
  std::string f = Write("dubbo.properties", "dubbo.application.name=o\ndubbo.protocol.name=dubb\n");
  auto d = Run("zookeeper: {connect: z:2181}\nsources:\n  - dubboProperties: " + f +
               "\nservices:\n  - interface: a.B\n");
  EXPECT_EQ(d[0].config_error.str().rfind(f + ":2: dubbo.protocol.name: protocol \"dubb\" has no "
                                              "default port",
                                          0),
            0u)
      << d[0].config_error;
  // A missing source: no ":0", and the entry of the agent config that names it.
  d = Run("zookeeper: {connect: z:2181}\napplication: x\nsources:\n  - dubboProperties: " + dir_ +
          "/missing.properties\nservices:\n  - interface: a.B\n");
  EXPECT_EQ(d[0].config_error.str(),
            dir_ +
                "/missing.properties: cannot open the file: No such file or "
                "directory (check the path in the agent config's sources) "
                "[sources[0] at agent.yaml:4]");
  // A directory is not a provider file.
  d = Run("zookeeper: {connect: z:2181}\napplication: x\nsources:\n  - dubboProperties: " + dir_ +
          "\nservices:\n  - interface: a.B\n");
  EXPECT_NE(d[0].config_error.str().find(dir_ + ": is a directory, not a regular file"),
            std::string::npos)
      << d[0].config_error;
}

}  // namespace
}  // namespace zkop::agent

namespace zkop::agent {
namespace {

TEST_F(ResolveTest, InstanceModesNeedAnApplicationThatCanNameANode) {
  const std::string base =
      "zookeeper: {connect: 'zk:2181'}\nhost: 10.0.0.1\nservices:\n"
      "  - {interface: a.B, methods: [m], port: 20880, application: 'x/y'}\n";
  EXPECT_TRUE(Run(base)[0].config_error.empty());  // interface mode: only a URL parameter
  auto d = Run(base + "registerMode: instance\n");
  EXPECT_NE(d[0].config_error.str().find(
                "services[0]: application \"x/y\" cannot name a ZooKeeper node (registerMode "
                "instance"),
            std::string::npos)
      << d[0].config_error.str();
  EXPECT_FALSE(
      Run("zookeeper: {connect: 'zk:2181'}\nhost: 10.0.0.1\nregisterMode: all\n"
          "services:\n  - {interface: a.B, methods: [m], port: 20880, application: '..'}\n")[0]
          .config_error.empty());
  EXPECT_TRUE(
      Run("zookeeper: {connect: 'zk:2181'}\nhost: 10.0.0.1\nregisterMode: all\n"
          "services:\n  - {interface: a.B, methods: [m], port: 20880, application: a.b-c}\n")[0]
          .config_error.empty());
}

}  // namespace
}  // namespace zkop::agent
