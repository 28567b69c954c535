// Two Managers on one Lease: only the leader reconciles; a stopped leader releases the Lease
// and the standby (its cache already warm) takes over at once; a leader that cannot renew
// stops its workers and Run returns non-zero.
#include <prometheus/text_serializer.h>

#include "controller_test_env.h"

namespace zkop::op::testing {
namespace {

class ControllerLeaderTest : public OperatorEnv {
 protected:
  static ManagerOptions Elected(const std::string& identity, std::chrono::milliseconds lease,
                                std::chrono::milliseconds renew, std::chrono::milliseconds retry) {
    ManagerOptions o = Options();
    o.leader_election.enabled = true;
    o.leader_election.lease_namespace = "default";
    o.leader_election.identity = identity;
    o.leader_election.lease_duration = lease;
    o.leader_election.renew_deadline = renew;
    o.leader_election.retry_period = retry;
    return o;
  }
  // The zkop_operator_leader sample: "1" or "0".
  static std::string LeaderGauge(Manager& m) {
    std::string text = prometheus::TextSerializer().Serialize(m.metrics().registry()->Collect());
    size_t at = text.find("\nzkop_operator_leader ");
    return at == std::string::npos ? text : text.substr(at + 22, 1);
  }
};

TEST_F(ControllerLeaderTest, OnlyTheLeaderReconcilesAndAStoppedLeaderHandsOverAtOnce) {
  // A 10 s lease: a takeover well under it can only come from the release.
  auto a = Start(Elected("a", 10s, 5s, 200ms));
  ASSERT_TRUE(WaitUntil([&] { return a->manager->Leading(); }, 10s));
  auto b = Start(Elected("b", 10s, 5s, 200ms));
  ASSERT_TRUE(WaitUntil([&] { return b->manager->Ready(); }, 20s)) << "a standby gets ready";
  EXPECT_EQ(Lease().at("spec").at("holderIdentity").as_string(), "a");

  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return a->reconciler->Count("default/demo") >= 1; }, 10s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(b->reconciler->Count("default/demo"), 0) << "the standby reconciled";
  EXPECT_FALSE(b->manager->Leading());
  EXPECT_EQ(LeaderGauge(*a->manager), "1");
  EXPECT_EQ(LeaderGauge(*b->manager), "0");

  a->Stop();  // SIGTERM's path
  auto released = Clock::now();
  EXPECT_EQ(a->exit_code, 0);
  // Released on stop: free ("") or already taken by b, never still "a".
  EXPECT_NE(Lease().at("spec").at("holderIdentity").as_string(), "a") << "not released on stop";
  ASSERT_TRUE(WaitUntil([&] { return b->manager->Leading(); }, 10s));
  EXPECT_LT(Clock::now() - released, 5s) << "took over through the release, not the expiry";
  // The standby's queue kept the key its informer saw: it reconciles without a new event.
  ASSERT_TRUE(WaitUntil([&] { return b->reconciler->Count("default/demo") >= 1; }, 10s));
  EXPECT_EQ(Lease().at("spec").at("holderIdentity").as_string(), "b");
  b->Stop();
  EXPECT_EQ(b->exit_code, 0);
}

TEST_F(ControllerLeaderTest, ALeaderThatCannotRenewStopsItsWorkersAndFails) {
  std::atomic<bool> in_reconcile{false}, saw_stop{false};
  auto a = Start(Elected("a", 3s, 1500ms, 250ms), [&](const ReconcileRequest&, std::stop_token s) {
    in_reconcile = true;
    while (!s.stop_requested()) std::this_thread::sleep_for(5ms);
    saw_stop = true;
    return ReconcileOutcome::Done();
  });
  ASSERT_TRUE(WaitUntil([&] { return a->manager->Leading(); }, 10s));
  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return in_reconcile.load(); }, 10s));
  a->transport->SetBlocked(true);  // the API server is unreachable: no renewal
  ASSERT_TRUE(WaitUntil([&] { return a->exit_code != -1; }, 20s));
  EXPECT_EQ(a->exit_code, 1) << "losing the Lease must end the process non-zero";
  EXPECT_TRUE(saw_stop) << "the in-flight reconcile was told to stop";
  EXPECT_FALSE(a->manager->Leading());
  a->Stop();
}

}  // namespace
}  // namespace zkop::op::testing
