// Sessions across server failures: each test owns its ensemble (members get killed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <mutex>

#include "listener_log.h"
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
  std::mutex mu;  // with the state the callbacks touch: outlives the Client
  std::vector<std::string> seen;
  ListenerLog log;
  Client c(o);
  log.Attach(c);
  ASSERT_TRUE(c.Connect(seconds(20)).ok());
  const int64_t session = c.session_id();
  CreateOptions eph;
  eph.mode = CreateMode::kEphemeral;
  ASSERT_TRUE(c.Create("/failover-eph", "x", eph).status.ok());
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
  EXPECT_EQ(log.Sessions(), 1);
  EXPECT_TRUE(log.Saw(State::kConnecting));
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

// Creates in flight when the connected server dies get CONNECTIONLOSS: some were applied,
// some not. CreateOwnedEphemeral must end with exactly one node per path, owned by us.
TEST(FailoverTest, OwnedEphemeralsSurviveTheServerDyingMidCreate) {
  constexpr int kCount = 300;
  ZkEnsemble ensemble;
  ClientOptions o;
  o.connect = ensemble.ConnectString();
  o.session_timeout = seconds(8);
  std::mutex mu;  // with the state the callbacks touch: outlives the Client
  std::condition_variable cv;
  int owned_done = 0, plain_done = 0, plain_lost = 0;
  std::vector<Status> owned_failures;
  Client c(o);
  ASSERT_TRUE(c.Connect(seconds(20)).ok());
  ASSERT_TRUE(c.Create("/owned", "").status.ok());
  ASSERT_TRUE(c.Create("/plain", "").status.ok());
  const int victim = IdOf(ensemble, c.connected_server());
  ASSERT_NE(victim, 0);

  CreateOptions eph;
  eph.mode = CreateMode::kEphemeral;
  for (int i = 0; i < kCount; ++i) {
    std::string n = std::to_string(i);
    ASSERT_TRUE(c.CreateOwnedEphemeralAsync("/owned/" + n, n, eph, [&](const CreateResult& r) {
                   std::lock_guard<std::mutex> lock(mu);
                   ++owned_done;
                   if (!r.status.ok()) owned_failures.push_back(r.status);
                   cv.notify_all();
                 }).ok());
    ASSERT_TRUE(c.CreateAsync("/plain/" + n, n, eph, [&](const CreateResult& r) {
                   std::lock_guard<std::mutex> lock(mu);
                   ++plain_done;
                   if (IsOutcomeUnknown(r.status.code())) ++plain_lost;
                   cv.notify_all();
                 }).ok());
  }
  {  // kill it while most requests are still in flight
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, seconds(5), [&] { return plain_done >= 20; });
  }
  ensemble.Kill(victim);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(60),
                            [&] { return owned_done == kCount && plain_done == kCount; }))
        << owned_done << " owned and " << plain_done << " plain creates completed";
    ASSERT_TRUE(owned_failures.empty()) << owned_failures.front().ToString();
  }
  ChildrenResult plain = c.GetChildren("/plain");
  ASSERT_TRUE(plain.status.ok());
  std::cout << "[ metric   ] " << plain_lost << " of " << kCount
            << " plain creates ended with an unknown outcome; " << plain.children.size()
            << " plain creates were applied\n";
  ChildrenResult children = c.GetChildren("/owned");
  ASSERT_TRUE(children.status.ok()) << children.status.ToString();
  EXPECT_EQ(children.children.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; i += 37) {
    StatResult st = c.Exists("/owned/" + std::to_string(i));
    ASSERT_TRUE(st.status.ok());
    EXPECT_EQ(st.stat.ephemeral_owner, c.session_id());
  }
}

TEST(FailoverTest, PausedFollowerDoesNotStopTheEnsemble) {
  ZkEnsemble ensemble;
  int leader = ensemble.Leader();
  ASSERT_NE(leader, 0);
  int follower = leader == 1 ? 2 : 1;
  ensemble.Pause(follower);
  // No answer while stopped (srvr times out).
  EXPECT_TRUE(
      Eventually([&] { return ensemble.Mode(follower) == ServerMode::kUnknown; }, seconds(10)));
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
