// The seed's story against a real ensemble: two providers whose dubbo.properties keep the
// same port, only one can bind. The agent registers exactly the one that listens, names the
// conflict (both applications, files, the pid, the fix) in check, log and metrics — and once
// the port is fixed, both are registered.
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>

#include "harness.h"
#include "zkop/testing/loopback.h"

namespace zkop::agent::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::TempDir;

class AgentConflict : public SharedEnsembleTest {
 protected:
  void SetUp() override {
    root_ = "/dubbo-conflict-" + UniqueSuffix();
    addr_ = zkop::testing::PickLoopbackAddress({});
    metrics_port_ = zkop::testing::PickFreePort(addr_);
  }
  std::string Properties(const std::string& app, int port) {
    return dir_.Write(
        app + "/conf/dubbo.properties",
        "# " + app + "'s provider config\ndubbo.application.name=" + app +
            "\ndubbo.protocol.name=dubbo\ndubbo.protocol.port=" + std::to_string(port) + "\n");
  }
  std::string Config(const std::string& orders_file, const std::string& billing_file) {
    std::ostringstream y;
    y << "zookeeper:\n  connect: " << ensemble_->ConnectString() << "\n  root: " << root_
      << "\nhost: " << addr_ << "\nprobeInterval: 200ms\nmetricsAddress: " << addr_ << ":"
      << metrics_port_ << "\nsources:\n  - dubboProperties: " << orders_file
      << "\n  - dubboProperties: " << billing_file << "\nservices:\n"
      << "  - interface: com.example.orders.OrderService\n    methods: [place, cancel]\n"
      << "    source: " << orders_file << "\n"
      << "  - interface: com.example.billing.BillingService\n    methods: [charge]\n"
      << "    source: " << billing_file << "\n";
    return dir_.Write("agent.yaml", y.str());
  }
  size_t Registered(zk::Client& c, const std::string& iface) {
    return Children(c, root_ + "/" + iface + "/providers").size();
  }

  TempDir dir_{"agent-conflict"};
  std::string root_, addr_;
  int metrics_port_ = 0;
};

TEST_F(AgentConflict, SeedCaseOneListenerTwoProvidersOnePort) {
  FakeProvider orders(dir_, "orders", addr_, 0);
  ASSERT_TRUE(orders.bound());
  FakeProvider billing(dir_, "billing", addr_, orders.port());  // same port: cannot bind
  ASSERT_FALSE(billing.bound()) << billing.output();
  std::string orders_file = Properties("orders", orders.port());
  std::string billing_file = Properties("billing", orders.port());
  std::string config = Config(orders_file, billing_file);

  auto check = RunToEnd(dir_, {AgentBinary(), "check", "--config", config});
  EXPECT_EQ(check.status, 1) << check.output;
  const std::string& out = check.output;
  EXPECT_NE(
      out.find("port " + std::to_string(orders.port()) + " is claimed by application billing (" +
               billing_file + ":4 dubbo.protocol.port)"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("application orders (" + orders_file + ":4 dubbo.protocol.port)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("only application orders could bind it: pid " + std::to_string(orders.pid())),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("fix: change dubbo.protocol.port"), std::string::npos) << out;
  EXPECT_NE(out.find("set it to -1"), std::string::npos) << out;
  EXPECT_NE(out.find(orders_file + ":4 dubbo.protocol.port"), std::string::npos) << out;
  EXPECT_NE(out.find("summary: 1 would register, 0 not listening, 1 conflict, 0 config error"),
            std::string::npos)
      << out;
  auto json = RunToEnd(dir_, {AgentBinary(), "check", "--config", config, "--json"});
  EXPECT_EQ(json.status, 1);
  EXPECT_NE(json.output.find("\"ok\":false"), std::string::npos) << json.output;

  auto client = Connect(ensemble_->ConnectString());
  {
    AgentProcess agent(dir_, config);
    ASSERT_TRUE(Eventually([&] {
      return Registered(*client, "com.example.orders.OrderService") == 1;
    })) << agent.Log();
    std::this_thread::sleep_for(600ms);  // a few more rounds: the loser stays out
    EXPECT_EQ(Registered(*client, "com.example.billing.BillingService"), 0u);
    EXPECT_EQ(Registered(*client, "com.example.orders.OrderService"), 1u);
    std::string m = HttpGet(addr_, metrics_port_, "/metrics");
    EXPECT_EQ(Metric(m, "zkop_agent_port_conflicts"), 1) << m;
    EXPECT_EQ(Metric(m, "zkop_agent_registrations{state=\"conflict\"}"), 1) << m;
    EXPECT_EQ(Metric(m, "zkop_agent_registrations{state=\"registered\"}"), 1) << m;
    std::string log = agent.Log();
    EXPECT_NE(log.find("port conflict"), std::string::npos) << log;
    EXPECT_NE(log.find("billing"), std::string::npos) << log;
    agent.process().Terminate(10s);
  }

  // The fix: billing gets its own port; both providers run and both are registered.
  FakeProvider billing2(dir_, "billing", addr_, 0);
  ASSERT_TRUE(billing2.bound());
  Properties("billing", billing2.port());
  auto fixed = RunToEnd(dir_, {AgentBinary(), "check", "--config", config});
  EXPECT_EQ(fixed.status, 0) << fixed.output;
  AgentProcess agent(dir_, config);
  ASSERT_TRUE(Eventually([&] {
    return Registered(*client, "com.example.orders.OrderService") == 1 &&
           Registered(*client, "com.example.billing.BillingService") == 1;
  })) << agent.Log();
  EXPECT_TRUE(Eventually([&] {
    return Metric(HttpGet(addr_, metrics_port_, "/metrics"), "zkop_agent_port_conflicts") == 0;
  }));
}

TEST_F(AgentConflict, ConfiguredPortHeldByAnotherProcess) {
  // Positive evidence that the holder is someone else: process: names the provider's
  // command line and the listener's does not contain it.
  FakeProvider intruder(dir_, "intruder", addr_, 0);
  std::string file = Properties("orders", intruder.port());
  std::ostringstream y;
  y << "zookeeper:\n  connect: " << ensemble_->ConnectString() << "\nhost: " << addr_
    << "\nsources:\n  - dubboProperties: " << file << "\n    process: orders-main.jar"
    << "\nservices:\n  - interface: com.example.orders.OrderService\n";
  std::string config = dir_.Write("held.yaml", y.str());
  auto check = RunToEnd(dir_, {AgentBinary(), "check", "--config", config});
  EXPECT_EQ(check.status, 1) << check.output;
  EXPECT_NE(check.output.find("is held by pid " + std::to_string(intruder.pid()) + " (" +
                              DemoProviderBinary() + " --app intruder"),
            std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find("which is not orders (its command line does not contain process: "
                              "\"orders-main.jar\")"),
            std::string::npos)
      << check.output;
}

TEST_F(AgentConflict, LoneProviderWhoseCommandLineDoesNotNameItIsRegistered) {
  // Issue 11 item 1: `java -jar app.jar` for an application called echo-provider. Nothing
  // says the listener is someone else, so it is registered and check names the holder.
  FakeProvider provider(dir_, "app.jar", addr_, 0);
  ASSERT_TRUE(provider.bound());
  std::ostringstream y;
  y << "zookeeper:\n  connect: " << ensemble_->ConnectString() << "\n  root: " << root_
    << "\napplication: echo-provider\nhost: " << addr_
    << "\nprobeInterval: 200ms\nmetricsAddress: \"\"\nservices:\n"
    << "  - interface: com.example.echo.EchoService\n    port: " << provider.port() << "\n";
  std::string config = dir_.Write("lone.yaml", y.str());
  auto check = RunToEnd(dir_, {AgentBinary(), "check", "--config", config});
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_NE(check.output.find("state:  would register"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("holder: pid " + std::to_string(provider.pid()) + " (" +
                              DemoProviderBinary() + " --app app.jar"),
            std::string::npos)
      << check.output;
  auto client = Connect(ensemble_->ConnectString());
  AgentProcess agent(dir_, config);
  EXPECT_TRUE(Eventually([&] { return Registered(*client, "com.example.echo.EchoService") == 1; }))
      << agent.Log();
}

TEST_F(AgentConflict, BadConfigIsRefusedWithAPreciseError) {
  std::string bad = dir_.Write("bad.yaml",
                               "zookeeper: {connect: 127.0.0.1:1}\napplication: a\nservices:\n"
                               "  - interface: com.example.Demo\n    prot: 20880\n");
  auto run = RunToEnd(dir_, {AgentBinary(), "run", "--config", bad});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find(
                bad + ":5:11: services[0].prot: unknown key \"prot\"; did you mean \"port\"?"),
            std::string::npos)
      << run.output;
  std::string props = dir_.Write("p/dubbo.properties", "dubbo.protocol.port=twenty\n");
  std::string bad_source =
      dir_.Write("bad-source.yaml",
                 "zookeeper: {connect: 127.0.0.1:1}\napplication: a\nsources:\n"
                 "  - dubboProperties: " +
                     props + "\nservices:\n  - interface: com.example.Demo\n");
  run = RunToEnd(dir_, {AgentBinary(), "run", "--config", bad_source});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.output.find(props + ":1: dubbo.protocol.port: expected a port number"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("refusing to start"), std::string::npos) << run.output;
  auto check = RunToEnd(dir_, {AgentBinary(), "check", "--config", bad_source});
  EXPECT_EQ(check.status, 1);
  EXPECT_NE(check.output.find("state:  config error"), std::string::npos) << check.output;
}

}  // namespace
}  // namespace zkop::agent::testing
