// The agent against a real ensemble: register while listening, remove when closed, survive
// server loss, come back after session expiry, restore external deletes, clean SIGTERM —
// and write node names exactly as Apache Dubbo does (the JDK is the reference).
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <sstream>

#include "harness.h"
#include "java_reference.h"
#include "zkop/dubbo/url_encode.h"
#include "zkop/testing/loopback.h"
#include "zkop/zk/four_letter.h"

namespace zkop::agent::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::TempDir;

constexpr const char* kIface = "org.apache.dubbo.demo.DemoService";

class AgentRegistration : public SharedEnsembleTest {
 protected:
  void SetUp() override {
    root_ = "/dubbo-reg-" + UniqueSuffix();
    addr_ = zkop::testing::PickLoopbackAddress({});
    metrics_port_ = zkop::testing::PickFreePort(addr_);
    client_ = Connect(ensemble_->ConnectString());
  }

  std::string Config(int port, const std::string& extra = "") {
    std::ostringstream y;
    y << "zookeeper:\n  connect: " << ensemble_->ConnectString()
      << "\n  sessionTimeout: 4s\n  root: " << root_ << "\n"
      << "application: demo-provider\nhost: " << addr_ << "\nprobeInterval: 200ms\n"
      << "verifyInterval: 1s\nmetricsAddress: " << addr_ << ":" << metrics_port_ << "\n"
      << extra << "services:\n  - interface: " << kIface
      << "\n    version: 1.0.0\n    methods: [sayHelloAsync, sayHello]\n    port: " << port << "\n";
    return dir_.Write("agent.yaml", y.str());
  }
  std::string ProvidersPath() const { return root_ + "/" + kIface + "/providers"; }
  std::vector<std::string> Nodes() { return Children(*client_, ProvidersPath()); }
  // The node's ephemeralOwner, 0 when it does not exist. Retries while the test's own
  // client is moving between servers (a killed member), -1 if that never ends.
  int64_t Owner(const std::string& name) {
    int64_t owner = -1;
    Eventually(
        [&] {
          auto r = client_->Exists(ProvidersPath() + "/" + name);
          if (r.status.code() == zk::Error::kNoNode) owner = 0;
          if (r.status.ok()) owner = r.stat.ephemeral_owner;
          return r.status.ok() || r.status.code() == zk::Error::kNoNode;
        },
        10s);
    return owner;
  }
  std::string Metrics() { return HttpGet(addr_, metrics_port_, "/metrics"); }

  TempDir dir_{"agent-reg"};
  std::string root_, addr_;
  int metrics_port_ = 0;
  std::unique_ptr<zk::Client> client_;
};

TEST_F(AgentRegistration, RegistersWhileListeningExactlyAsDubboWrites) {
  FakeProvider provider(dir_, "demo-provider", addr_, 0);
  ASSERT_TRUE(provider.bound()) << provider.output();
  AgentProcess agent(dir_, Config(provider.port()));
  ASSERT_TRUE(Eventually([&] { return Nodes().size() == 1; })) << agent.Log();
  std::string name = Nodes()[0];
  EXPECT_GT(Owner(name), 0);  // ephemeral

  std::string url;
  ASSERT_TRUE(dubbo::UrlDecode(name, &url));
  std::string prefix = "dubbo://" + addr_ + ":" + std::to_string(provider.port()) + "/" + kIface +
                       "?anyhost=false&application=demo-provider&deprecated=false&dubbo=2.0.2&"
                       "dynamic=true&generic=false&interface=" +
                       kIface +
                       "&methods=sayHello,sayHelloAsync&pid=" + std::to_string(provider.pid()) +
                       "&release=2.7.23&side=provider&timestamp=";
  EXPECT_EQ(url.rfind(prefix, 0), 0u) << url;
  EXPECT_NE(url.find("&version=1.0.0"), std::string::npos) << url;
  EXPECT_EQ(url.find("group="), std::string::npos) << url;

  // The JDK, given the same parameters in another order, builds and encodes the same name.
  if (dubbo::testing::JavaAvailable()) {
    std::string query = url.substr(url.find('?') + 1);
    std::vector<std::string> lines;
    std::istringstream q(query);
    for (std::string kv; std::getline(q, kv, '&');) {
      size_t eq = kv.find('=');
      lines.push_back(dubbo::testing::Hex(kv.substr(0, eq)) + " " +
                      dubbo::testing::Hex(kv.substr(eq + 1)));
    }
    std::string input =
        "dubbo " + addr_ + " " + std::to_string(provider.port()) + " " + kIface + "\n";
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) input += *it + "\n";
    auto java = dubbo::testing::RunJava({"provider"}, input);
    ASSERT_EQ(java.size(), 1u);
    EXPECT_EQ(java[0], name);
  }

  ASSERT_TRUE(Eventually([&] {
    return HttpGet(addr_, metrics_port_, "/readyz").find(" 200 ") != std::string::npos;
  })) << agent.Log();
  std::string m = Metrics();
  EXPECT_EQ(Metric(m, "zkop_agent_registrations{state=\"registered\"}"), 1) << m;
  EXPECT_EQ(Metric(m, "zkop_agent_services"), 1);
  EXPECT_EQ(Metric(m, "zkop_agent_port_conflicts"), 0);
  EXPECT_EQ(Metric(m, "zkop_agent_zk_session_up"), 1);
  EXPECT_EQ(Metric(m, "zkop_agent_session_path_budget_bytes"), 524288);
  EXPECT_NE(m.find("zkop_agent_build_info{version="), std::string::npos);

  // The port closes: the node goes within one probe interval (+ sync and polling slack).
  provider.Stop();
  auto closed = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return Nodes().empty(); }, 5s)) << agent.Log();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - closed);
  EXPECT_LT(took, 200ms + 300ms) << "node removed after " << took.count() << " ms";
  EXPECT_TRUE(Eventually(
      [&] { return Metric(Metrics(), "zkop_agent_registrations{state=\"not_listening\"}") == 1; },
      5s));
}

TEST_F(AgentRegistration, RestoresExternalDeleteAndReplacesStaleNode) {
  FakeProvider provider(dir_, "demo-provider", addr_, 0);
  AgentProcess agent(dir_, Config(provider.port()));
  ASSERT_TRUE(Eventually([&] { return Nodes().size() == 1; })) << agent.Log();
  std::string name = Nodes()[0];
  int64_t owner = Owner(name);
  ASSERT_TRUE(client_->Delete(ProvidersPath() + "/" + name).ok());
  EXPECT_TRUE(Nodes().empty());
  // Restored by anti-entropy (verifyInterval 1s), under the same name and session.
  ASSERT_TRUE(Eventually([&] { return Owner(name) == owner; }, 5s)) << agent.Log();

  // A stale copy owned by someone else (an earlier session) is replaced by ours.
  ASSERT_TRUE(client_->Delete(ProvidersPath() + "/" + name).ok());
  zk::CreateOptions eph;
  eph.mode = zk::CreateMode::kEphemeral;
  ASSERT_TRUE(client_->Create(ProvidersPath() + "/" + name, "stale", eph).status.ok());
  ASSERT_TRUE(Eventually([&] { return Owner(name) == owner; }, 5s)) << agent.Log();
  EXPECT_TRUE(Eventually([&] { return Metric(Metrics(), "zkop_agent_restored_total") >= 2; }, 5s));
}

TEST_F(AgentRegistration, KillingTheConnectedServerKeepsTheRegistration) {
  FakeProvider provider(dir_, "demo-provider", addr_, 0);
  AgentProcess agent(dir_, Config(provider.port()));
  ASSERT_TRUE(Eventually([&] { return Nodes().size() == 1; })) << agent.Log();
  std::string name = Nodes()[0];
  int64_t owner = Owner(name);
  std::ostringstream sid;
  sid << "sid=0x" << std::hex << owner;
  int connected = 0;
  for (int id : ensemble_->Ids()) {
    auto cons = zk::FourLetterWord(ensemble_->ClientAddress(id), "cons", 2s);
    if (cons.status.ok() && cons.text.find(sid.str() + ",") != std::string::npos) connected = id;
  }
  ASSERT_NE(connected, 0) << "no server lists " << sid.str();
  ensemble_->Kill(connected);
  // The agent moves to another server within its session; the node never goes.
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(Owner(name), owner);
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(
      Eventually([&] { return Metric(Metrics(), "zkop_agent_zk_reconnects_total") >= 1; }, 15s))
      << agent.Log();
  EXPECT_EQ(Metric(Metrics(), "zkop_agent_zk_session_expirations_total"), 0);
  EXPECT_EQ(Owner(name), owner);
  ensemble_->Start(connected);
  ASSERT_TRUE(ensemble_->WaitForQuorum(60s));
}

TEST_F(AgentRegistration, SessionExpiryBringsEverythingBack) {
  FakeProvider provider(dir_, "demo-provider", addr_, 0);
  AgentProcess agent(dir_, Config(provider.port()));
  ASSERT_TRUE(Eventually([&] { return Nodes().size() == 1; })) << agent.Log();
  std::string name = Nodes()[0];
  int64_t owner = Owner(name);
  // Freeze the agent past its 4 s session timeout: the ensemble expires the session.
  agent.process().Signal(SIGSTOP);
  ASSERT_TRUE(Eventually([&] { return Nodes().empty(); }, 15s));
  agent.process().Signal(SIGCONT);
  ASSERT_TRUE(Eventually([&] { return Owner(name) > 0 && Owner(name) != owner; }, 20s))
      << agent.Log();
  EXPECT_TRUE(Eventually(
      [&] { return Metric(Metrics(), "zkop_agent_zk_session_expirations_total") >= 1; }, 5s));
}

TEST_F(AgentRegistration, SigtermRemovesRegistrationsBeforeExit) {
  FakeProvider provider(dir_, "demo-provider", addr_, 0);
  AgentProcess agent(dir_, Config(provider.port(), "shutdownTimeout: 5s\n"));
  ASSERT_TRUE(Eventually([&] { return Nodes().size() == 1; })) << agent.Log();
  agent.process().Signal(SIGTERM);
  auto status = agent.process().Wait(10s);
  ASSERT_TRUE(status) << agent.Log();
  EXPECT_EQ(*status, 0) << agent.Log();
  EXPECT_TRUE(Nodes().empty());
  std::string log = agent.Log();
  size_t removed = log.find("agent: registrations removed");
  size_t stopped = log.find("agent: stopped");
  ASSERT_NE(removed, std::string::npos) << log;
  ASSERT_NE(stopped, std::string::npos) << log;
  EXPECT_LT(removed, stopped);
}

}  // namespace
}  // namespace zkop::agent::testing
