// Dynamic reconfiguration as the super user, and its refusal without the credential.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "wait.h"
#include "zkop/testing/zk_ensemble.h"
#include "zkop/zk/client.h"

namespace zkop::zk {
namespace {

using std::chrono::seconds;
using testing::Eventually;
using zkop::testing::ZkEnsemble;

std::set<int> MemberIds(Client& c) {
  EnsembleConfig cfg;
  Status s = c.GetEnsembleConfig(&cfg);
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::set<int> ids;
  for (const Member& m : cfg.members) ids.insert(m.id);
  return ids;
}

// Runs `reconfig` until the membership is `want`. A joiner that has not synced yet is
// refused with NEWCONFIGNOQUORUM, a change still being applied with RECONFIGINPROGRESS:
// both are retried. A membership change can cost the client its connection (growing from
// one member to two makes the ensemble elect its leader again; a removed server drops its
// clients), which leaves the outcome unknown: the configuration read back decides whether
// to submit again. Returns the reconfig's answer, or the configuration read back when that
// showed it applied, or the last refusal.
DataResult Reconfigure(Client& admin, const std::function<DataResult()>& reconfig,
                       const std::set<int>& want) {
  DataResult result;
  const bool settled = Eventually(
      [&] {
        result = reconfig();
        const Error e = result.status.code();
        if (e == Error::kNewConfigNoQuorum || e == Error::kReconfigInProgress) return false;
        if (!IsOutcomeUnknown(e)) return true;
        DataResult read;
        std::set<int> ids;
        if (!Eventually([&] {
              read = admin.GetConfig();
              EnsembleConfig cfg;
              if (!read.status.ok() || !ParseEnsembleConfig(read.data, &cfg).ok()) return false;
              for (const Member& m : cfg.members) ids.insert(m.id);
              return true;
            })) {
          return false;
        }
        if (ids != want) return false;  // not applied: submit again
        result = read;
        return true;
      },
      seconds(60));
  if (!settled) {
    result.status = Status(result.status.code(),
                           "membership never became as wanted; last: " + result.status.ToString());
  }
  return result;
}

TEST(ReconfigTest, RemoveAndAddMembersAsTheSuperUser) {
  ZkEnsemble ensemble;
  ClientOptions o;
  o.connect = ensemble.ConnectString();
  o.session_timeout = seconds(8);

  // Without the super credential: refused, nothing changes.
  Client anonymous(o);
  ASSERT_TRUE(anonymous.Connect(seconds(20)).ok());
  const int leader = ensemble.Leader();
  const int follower = leader == 3 ? 2 : 3;
  DataResult refused = anonymous.RemoveMembers({follower});
  EXPECT_EQ(refused.status.code(), Error::kNoAuth) << refused.status.ToString();
  ClientOptions wrong = o;
  wrong.digest_auth = {{"super", "not-the-password"}};
  Client impostor(wrong);
  ASSERT_TRUE(impostor.Connect(seconds(20)).ok());
  EXPECT_EQ(impostor.AddMembers({ensemble.MemberConfig(follower)}).status.code(), Error::kNoAuth);
  EXPECT_EQ(MemberIds(anonymous), (std::set<int>{1, 2, 3}));

  // As super: remove a follower.
  ClientOptions super = o;
  super.digest_auth = {{ensemble.super_user(), ensemble.super_password()}};
  Client admin(super);
  ASSERT_TRUE(admin.Connect(seconds(20)).ok());
  std::set<int> without_follower{1, 2, 3};
  without_follower.erase(follower);
  DataResult removed = Reconfigure(
      admin, [&] { return admin.RemoveMembers({follower}); }, without_follower);
  ASSERT_TRUE(removed.status.ok()) << removed.status.ToString();
  EnsembleConfig after;
  ASSERT_TRUE(ParseEnsembleConfig(removed.data, &after).ok()) << removed.data;
  EXPECT_EQ(after.Find(follower), nullptr);
  EXPECT_EQ(after.members.size(), 2u);
  EXPECT_EQ(MemberIds(admin), without_follower);

  // A brand-new server joins: started outside the config, then reconfig-added.
  const int joiner = ensemble.AddMember();
  std::set<int> want = without_follower;
  want.insert(joiner);
  DataResult added = Reconfigure(
      admin, [&] { return admin.AddMembers({ensemble.MemberConfig(joiner)}); }, want);
  ASSERT_TRUE(added.status.ok()) << added.status.ToString();
  EXPECT_EQ(MemberIds(admin), want);
  EXPECT_TRUE(Eventually(
      [&] {
        ServerMode m = ensemble.Mode(joiner);
        return m == ServerMode::kFollower || m == ServerMode::kLeader;
      },
      seconds(30)));
  // The ensemble still serves writes with its new membership.
  EXPECT_TRUE(admin.Create("/after-reconfig", "ok").status.ok());
}

TEST(ReconfigTest, AnEnsembleCanStartSmallAndGrow) {
  zkop::testing::ZkEnsembleOptions opts;
  opts.size = 1;
  ZkEnsemble ensemble(opts);
  EXPECT_EQ(ensemble.Leader(), 1);
  ClientOptions o;
  o.connect = ensemble.ConnectString();
  o.digest_auth = {{ensemble.super_user(), ensemble.super_password()}};
  Client admin(o);
  ASSERT_TRUE(admin.Connect(seconds(20)).ok());
  const int second = ensemble.AddMember();
  const std::set<int> want{1, second};
  DataResult added = Reconfigure(
      admin, [&] { return admin.AddMembers({ensemble.MemberConfig(second)}); }, want);
  ASSERT_TRUE(added.status.ok()) << added.status.ToString();
  EXPECT_EQ(MemberIds(admin), want);
  EXPECT_TRUE(ensemble.WaitForQuorum(seconds(30)));
}

}  // namespace
}  // namespace zkop::zk
