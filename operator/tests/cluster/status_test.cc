#include "zkop/operator/cluster/status.h"

#include <gtest/gtest.h>

namespace zkop::op::cluster {
namespace {

ClusterSpec Spec() {
  ClusterSpec s;
  s.name = "demo";
  s.ns = "ns";
  s.generation = 2;
  return s;
}

MemberState Member(int id, zk::ServerMode mode, bool ready = true) {
  MemberState m;
  m.id = id;
  m.pod = "demo-" + std::to_string(id);
  m.pod_exists = true;
  m.pod_ready = ready;
  m.claim_exists = true;
  m.pod_ip = "127.42.0." + std::to_string(id);
  m.server.answered = mode != zk::ServerMode::kUnknown;
  m.server.mode = mode;
  m.server.version = "3.8.0";
  return m;
}

Observation Obs(std::vector<MemberState> members) {
  Observation o;
  o.members = std::move(members);
  return o;
}

std::map<std::string, Condition> ByType(const std::vector<Condition>& cs) {
  std::map<std::string, Condition> out;
  for (const auto& c : cs) out[c.type] = c;
  return out;
}

ReconcileFacts Facts(bool bootstrapping = false) {
  ReconcileFacts f;
  f.membership = {1, 2, 3};
  f.bootstrapping = bootstrapping;
  return f;
}

using zk::ServerMode;

TEST(ConditionsTest, HealthyEnsembleIsReadyStableAndNotDegraded) {
  auto c = ByType(
      ComputeConditions(Spec(),
                        Obs({Member(1, ServerMode::kFollower), Member(2, ServerMode::kLeader),
                             Member(3, ServerMode::kFollower)}),
                        Facts()));
  EXPECT_EQ(c["Ready"].status, "True");
  EXPECT_EQ(c["Ready"].reason, "QuorumAvailable");
  EXPECT_NE(c["Ready"].message.find("3 of 3 members serve; leader demo-2"), std::string::npos);
  EXPECT_EQ(c["Progressing"].status, "False");
  EXPECT_EQ(c["Progressing"].reason, "Stable");
  EXPECT_EQ(c["Degraded"].status, "False");
}

TEST(ConditionsTest, OneMemberDownKeepsQuorumButIsDegraded) {
  MemberState down = Member(3, ServerMode::kUnknown, false);
  auto c = ByType(ComputeConditions(
      Spec(), Obs({Member(1, ServerMode::kFollower), Member(2, ServerMode::kLeader), down}),
      Facts()));
  EXPECT_EQ(c["Ready"].status, "True");
  EXPECT_EQ(c["Degraded"].status, "True");
  EXPECT_EQ(c["Degraded"].reason, "MembersNotReady");
  EXPECT_EQ(c["Progressing"].reason, "WaitingForMembers");
}

TEST(ConditionsTest, TwoMembersDownIsQuorumLost) {
  auto c = ByType(ComputeConditions(
      Spec(),
      Obs({Member(1, ServerMode::kUnknown, false), Member(2, ServerMode::kUnknown, false),
           Member(3, ServerMode::kUnknown, false)}),
      Facts()));
  EXPECT_EQ(c["Ready"].status, "False");
  EXPECT_EQ(c["Ready"].reason, "QuorumLost");
}

TEST(ConditionsTest, BootstrapWaitsWithoutBeingDegraded) {
  auto c = ByType(ComputeConditions(
      Spec(),
      Obs({Member(1, ServerMode::kUnknown, false), Member(2, ServerMode::kUnknown, false),
           Member(3, ServerMode::kUnknown, false)}),
      Facts(true)));
  EXPECT_EQ(c["Ready"].reason, "Bootstrapping");
  EXPECT_EQ(c["Degraded"].status, "False");
  EXPECT_EQ(c["Progressing"].status, "True");
}

TEST(ConditionsTest, CrashLoopIsNamed) {
  MemberState failing = Member(2, ServerMode::kUnknown, false);
  failing.waiting_reason = "CrashLoopBackOff";
  failing.waiting_message = "back-off 20s restarting failed container";
  auto c = ByType(ComputeConditions(
      Spec(), Obs({Member(1, ServerMode::kLeader), failing, Member(3, ServerMode::kFollower)}),
      Facts()));
  EXPECT_EQ(c["Degraded"].reason, "MemberFailing");
  EXPECT_NE(c["Degraded"].message.find("demo-2: CrashLoopBackOff"), std::string::npos);
}

TEST(ConditionsTest, MissingVolumeUnderARunningMemberIsReported) {
  MemberState m = Member(3, ServerMode::kFollower);
  m.claim_exists = false;
  auto c = ByType(ComputeConditions(
      Spec(), Obs({Member(1, ServerMode::kLeader), Member(2, ServerMode::kFollower), m}), Facts()));
  EXPECT_EQ(c["Degraded"].reason, "MemberVolumeMissing");
}

TEST(ConditionsTest, RefusedSpecIsDegradedWithTheField) {
  ReconcileFacts f;
  f.spec_errors.push_back({"spec.config.dataDir", "is managed by zkop", "ManagedConfigKey"});
  auto c = ByType(ComputeConditions(Spec(), Obs({}), f));
  EXPECT_EQ(c["Ready"].reason, "InvalidSpec");
  EXPECT_EQ(c["Degraded"].reason, "InvalidSpec");
  EXPECT_NE(c["Degraded"].message.find("spec.config.dataDir"), std::string::npos);
}

TEST(ConditionsTest, TwoLeadersAreNotAQuorum) {
  auto c =
      ByType(ComputeConditions(Spec(),
                               Obs({Member(1, ServerMode::kLeader), Member(2, ServerMode::kLeader),
                                    Member(3, ServerMode::kFollower)}),
                               Facts()));
  EXPECT_EQ(c["Ready"].status, "False");
}

TEST(StatusTest, ReportsMembersLeaderVersionAndSelector) {
  const auto obs = Obs({Member(1, ServerMode::kFollower), Member(2, ServerMode::kLeader),
                        Member(3, ServerMode::kUnknown, false)});
  const auto conds = ComputeConditions(Spec(), obs, Facts());
  const Json s = ComputeStatus(Spec(), obs, conds, Json::null(), "2026-12-01T10:00:00Z", {});
  EXPECT_EQ(s.at("replicas").as_integer(), 3);
  EXPECT_EQ(s.at("readyReplicas").as_integer(), 2);
  EXPECT_EQ(s.at("leader").as_string(), "demo-2");
  EXPECT_EQ(s.at("version").as_string(), "3.8.0");
  EXPECT_EQ(s.at("observedGeneration").as_integer(), 2);
  EXPECT_EQ(s.at("connectString").as_string(), "demo-client.ns.svc.cluster.local:2181");
  EXPECT_EQ(s.at("selector").as_string(),
            "app.kubernetes.io/instance=demo,app.kubernetes.io/name=zookeeper");
  EXPECT_EQ(s.at("members").at(2).at("role").as_string(), "unknown");
  EXPECT_FALSE(s.at("members").at(2).at("ready").as_bool());
  EXPECT_EQ(s.at("conditions").size(), 3u);
}

TEST(StatusTest, UnchangedConditionsKeepTheirTransitionTime) {
  const auto obs = Obs({Member(1, ServerMode::kFollower), Member(2, ServerMode::kLeader),
                        Member(3, ServerMode::kFollower)});
  const auto conds = ComputeConditions(Spec(), obs, Facts());
  const Json first = ComputeStatus(Spec(), obs, conds, Json::null(), "2026-12-01T10:00:00Z", {});
  const Json again = ComputeStatus(Spec(), obs, conds, first, "2026-12-01T11:00:00Z", {});
  EXPECT_TRUE(SameStatus(first, again));
  auto down = obs;
  down.members[0].pod_ready = false;
  const auto conds2 = ComputeConditions(Spec(), down, Facts());
  const Json changed = ComputeStatus(Spec(), down, conds2, first, "2026-12-01T12:00:00Z", {});
  EXPECT_FALSE(SameStatus(first, changed));
  for (const auto& c : changed.at("conditions").as_array()) {
    const std::string t = c.at("type").as_string();
    EXPECT_EQ(c.at("lastTransitionTime").as_string(),
              t == "Ready" ? "2026-12-01T10:00:00Z" : "2026-12-01T12:00:00Z")
        << t;
  }
}

TEST(MembershipFromConfTest, ReadsTheMembershipPartOfConf) {
  const auto config = MembershipFromConf(
      "clientPort=2181\nsecureClientPort=-1\ndataDir=/data/data/version-2\n"
      "membership: \nserver.1=a:2888:3888:participant;a:2181\n"
      "server.2=b:2888:3888:observer;b:2181\nversion=100000003\n");
  ASSERT_TRUE(config.has_value());
  ASSERT_EQ(config->members.size(), 2u);
  EXPECT_EQ(config->members[1].role, "observer");
  EXPECT_EQ(config->version, 0x100000003);
  EXPECT_FALSE(MembershipFromConf("This ZooKeeper instance is not currently serving").has_value());
}

}  // namespace
}  // namespace zkop::op::cluster
