// ZOOKEEPER-4306: closing or expiring one session whose ephemeral paths exceed the jute
// buffer stalls the whole ensemble. The agent spreads a large registration set (10,000
// Dubbo-length nodes) over sessions under a path-byte budget; this test registers it, ends
// the sessions both ways (SIGTERM: delete + close; SIGKILL: expiry) and proves the ensemble
// still serves afterwards.
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>

#include "harness.h"
#include "zkop/testing/loopback.h"
#include "zkop/zk/four_letter.h"

namespace zkop::agent::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::TempDir;
using zkop::testing::ZkEnsemble;

constexpr int kServices = 10000;

int64_t Ephemerals(const ZkEnsemble& e) {
  int leader = e.Leader();
  if (leader == 0) return -1;
  auto r = zk::FourLetterWord(e.ClientAddress(leader), "mntr", 2s);
  if (!r.status.ok()) return -1;
  auto m = zk::ParseMntr(r.text);
  return m.count("zk_ephemerals_count") ? std::stoll(m["zk_ephemerals_count"]) : -1;
}

// Every member serves, one leads, and a client can write and read.
void ExpectEnsembleServes(const ZkEnsemble& e) {
  ASSERT_TRUE(e.WaitForQuorum(30s));
  for (int id : e.Ids()) {
    EXPECT_TRUE(zk::IsServing(e.ClientAddress(id), 2s)) << "server " << id;
  }
  auto c = Connect(e.ConnectString());
  std::string path = "/budget-probe-" + std::to_string(getpid());
  auto created = c->Create(path, "still serving");
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  EXPECT_EQ(c->Get(path).data, "still serving");
  EXPECT_TRUE(c->Delete(path).ok());
}

TEST(AgentBudget, TenThousandRegistrationsEndWithoutHarmingTheEnsemble) {
  ZkEnsemble ensemble;
  TempDir dir("agent-budget");
  std::string addr = zkop::testing::PickLoopbackAddress({});
  int metrics_port = zkop::testing::PickFreePort(addr);
  FakeProvider provider(dir, "bench-provider", addr, 0);
  ASSERT_TRUE(provider.bound());
  std::ostringstream y;
  y << "zookeeper:\n  connect: " << ensemble.ConnectString()
    << "\n  sessionTimeout: 4s\napplication: bench-provider\nhost: " << addr
    << "\nprobeInterval: 500ms\nshutdownTimeout: 20s\nmetricsAddress: " << addr << ":"
    << metrics_port << "\nservices:\n";
  for (int i = 0; i < kServices; ++i) {
    y << "  - {interface: org.apache.dubbo.bench.generated.GeneratedService" << i
      << ", methods: [get, put], port: " << provider.port() << "}\n";
  }
  std::string config = dir.Write("agent.yaml", y.str());
  int64_t before = Ephemerals(ensemble);
  ASSERT_GE(before, 0);

  for (int signal : {SIGTERM, SIGKILL}) {
    AgentProcess agent(dir, config);
    ASSERT_TRUE(Eventually([&] { return Ephemerals(ensemble) >= before + kServices; }, 60s))
        << agent.Log();
    // Metrics are published when the round that created the nodes ends.
    std::string m;
    EXPECT_TRUE(Eventually(
        [&] {
          m = HttpGet(addr, metrics_port, "/metrics");
          return Metric(m, "zkop_agent_registrations{state=\"registered\"}") == kServices &&
                 Metric(m, "zkop_agent_zk_sessions{state=\"connected\"}") >= 1;
        },
        10s))
        << m;
    double sessions = Metric(m, "zkop_agent_zk_sessions{state=\"connected\"}");
    EXPECT_GE(sessions, 6) << m;
    double total = 0;
    for (int i = 0; i < sessions; ++i) {
      double bytes =
          Metric(m, "zkop_agent_session_path_bytes{session=\"" + std::to_string(i) + "\"}");
      EXPECT_GT(bytes, 0);
      EXPECT_LE(bytes, 512 * 1024);
      total += bytes;
    }
    EXPECT_GT(total / kServices, 250) << "Dubbo-length paths expected";

    agent.process().Signal(signal);
    if (signal == SIGTERM) {
      auto status = agent.process().Wait(30s);
      ASSERT_TRUE(status);
      EXPECT_EQ(*status, 0) << agent.Log();
    } else {
      agent.process().Wait(5s);
    }
    // Deleted (SIGTERM) or expired with their sessions (SIGKILL, after the 4 s timeout).
    ASSERT_TRUE(Eventually([&] { return Ephemerals(ensemble) == before; }, 60s))
        << "ephemerals: " << Ephemerals(ensemble);
    ExpectEnsembleServes(ensemble);
  }
}

}  // namespace
}  // namespace zkop::agent::testing
