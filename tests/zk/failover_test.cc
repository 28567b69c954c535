// Sessions across server failures: each test owns its ensemble (members get killed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>

#include "wait.h"
#include "zkop/testing/zk_ensemble.h"
#include "zkop/zk/client.h"

namespace zkop::zk {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Eventually;
using zkop::testing::ZkEnsemble;

int IdOf(const ZkEnsemble& ensemble, const std::string& client_address) {
  for (int id : ensemble.Ids()) {
    if (ensemble.ClientAddress(id) == client_address) return id;
  }
  return 0;
}

TEST(FailoverTest, KillingTheConnectedServerKeepsTheSessionAndItsEphemerals) {
  ZkEnsemble ensemble;
  ClientOptions o;
  o.connect = ensemble.ConnectString();
  o.session_timeout = seconds(8);
  o.name = "failover";
  Client c(o);
  std::mutex mu;
  std::vector<State> states;
  int sessions = 0;
  c.AddStateListener([&](State s) {
    std::lock_guard<std::mutex> lock(mu);
    states.push_back(s);
  });
  c.AddSessionListener([&](int64_t) {
    std::lock_guard<std::mutex> lock(mu);
    ++sessions;
  });
  ASSERT_TRUE(c.Connect(seconds(20)).ok());
  const int64_t session = c.session_id();
  CreateOptions eph;
  eph.mode = CreateMode::kEphemeral;
  ASSERT_TRUE(c.Create("/failover-eph", "x", eph).status.ok());
  std::vector<std::string> seen;
  auto kept = c.KeepWatchingData("/failover-cfg", [&](const DataResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(r.status.ok() ? r.data : "<absent>");
  });

  const std::string server = c.connected_server();
  const int victim = IdOf(ensemble, server);
  ASSERT_NE(victim, 0) << server;
  ensemble.Kill(victim);

  // The client moves to another server with the same session.
  ASSERT_TRUE(Eventually(
      [&] {
        return c.state() == State::kConnected && !c.connected_server().empty() &&
               c.connected_server() != server;
      },
      seconds(30)))
      << "state " << StateName(c.state());
  EXPECT_EQ(c.session_id(), session);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(sessions, 1);
    EXPECT_NE(std::find(states.begin(), states.end(), State::kConnecting), states.end());
  }
  StatResult st = c.Exists("/failover-eph");
  ASSERT_TRUE(st.status.ok()) << st.status.ToString();
  EXPECT_EQ(st.stat.ephemeral_owner, session);

  // The kept watch still works after the move.
  ClientOptions wo = o;
  wo.name = "writer";
  Client writer(wo);
  ASSERT_TRUE(writer.Connect(seconds(20)).ok());
  ASSERT_TRUE(writer.Create("/failover-cfg", "after-failover").status.ok());
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !seen.empty() && seen.back() == "after-failover";
  }));

  // The member comes back and rejoins.
  ensemble.Start(victim);
  EXPECT_TRUE(ensemble.WaitForQuorum(seconds(60)));
  kept.reset();
}

TEST(FailoverTest, PausedFollowerDoesNotStopTheEnsemble) {
  ZkEnsemble ensemble;
  int leader = ensemble.Leader();
  ASSERT_NE(leader, 0);
  int follower = leader == 1 ? 2 : 1;
  ensemble.Pause(follower);
  EXPECT_EQ(ensemble.Mode(follower), ServerMode::kUnknown);  // no answer while stopped
  // Connect only to the servers that still answer.
  ClientOptions o;
  o.connect = ensemble.ClientAddress(leader);
  Client c(o);
  ASSERT_TRUE(c.Connect(seconds(20)).ok());
  EXPECT_TRUE(c.Create("/while-paused", "ok").status.ok());  // 2 of 3 is a quorum
  ensemble.Resume(follower);
  EXPECT_TRUE(ensemble.WaitForQuorum(seconds(30)));
  // The follower caught up.
  ClientOptions fo;
  fo.connect = ensemble.ClientAddress(follower);
  Client f(fo);
  ASSERT_TRUE(f.Connect(seconds(20)).ok());
  EXPECT_EQ(f.Get("/while-paused").data, "ok");
}

}  // namespace
}  // namespace zkop::zk
