// PlanNextOperation, table-tested: what starts (type, member, first step) or why nothing may.
#include "zkop/operator/cluster/operations.h"

#include <gtest/gtest.h>

#include <map>

namespace zkop::op::cluster {
namespace {

using zk::ServerMode;

constexpr ServerMode L = ServerMode::kLeader;
constexpr ServerMode F = ServerMode::kFollower;
constexpr ServerMode O = ServerMode::kObserver;
constexpr ServerMode D = ServerMode::kUnknown;  // not serving

// A member: its server's mode (srvr), the template hash its Pod runs, and its role in the
// committed configuration (by default what its mode says).
struct Seen {
  ServerMode mode;
  std::string hash = "new";
  std::string role = "";
};

struct Case {
  std::string name;
  int replicas;
  std::map<int, Seen> members;  // the committed membership and what was observed
  std::string want;             // "Type member Step", or "" when nothing starts
  std::string blocked = "";     // a substring of Plan::blocked ("" = not blocked)
};

std::string Describe(const Plan& p) {
  if (!p.start) return "";
  return p.start->type + " " + std::to_string(p.start->member) + " " + p.start->step;
}

Plan PlanFor(const Case& c) {
  ClusterSpec spec;
  spec.name = "demo";
  spec.ns = "ns";
  spec.replicas = c.replicas;
  Observation observed;
  zk::EnsembleConfig membership;
  for (const auto& [id, seen] : c.members) {
    MemberState m;
    m.id = id;
    m.pod = "demo-" + std::to_string(id);
    m.pod_exists = true;
    m.claim_exists = true;
    m.pod_ready = seen.mode != D;
    m.server.answered = seen.mode != D;
    m.server.mode = seen.mode;
    m.template_hash = seen.hash;
    observed.members.push_back(m);
    zk::Member member;
    member.id = id;
    member.role = !seen.role.empty() ? seen.role : seen.mode == O ? "observer" : "participant";
    membership.members.push_back(member);
  }
  return PlanNextOperation(spec, observed, membership, "new");
}

TEST(PlanNextOperationTest, Table) {
  const std::vector<Case> cases = {
      {"at rest: nothing", 3, {{1, {F}}, {2, {L}}, {3, {F}}}, ""},
      {"up: the lowest unused id", 5, {{1, {F}}, {2, {L}}, {4, {F}}}, "ScaleUp 3 CreateMember"},
      {"down: the highest id that does not lead",
       3,
       {{1, {F}}, {2, {F}}, {3, {F}}, {4, {F}}, {5, {L}}},
       "ScaleDown 4 Reconfigure"},
      {"down: the leader last", 1, {{1, {F}}, {2, {L}}}, "ScaleDown 1 Reconfigure"},
      {"down to 1 from 1 leader + 0", 1, {{1, {L}}}, ""},
      {"roll: followers by highest id first",
       3,
       {{1, {F, "old"}}, {2, {F, "old"}}, {3, {L, "old"}}},
       "Roll 2 DeletePod"},
      {"roll: the leader last, after handing off",
       3,
       {{1, {F}}, {2, {F}}, {3, {L, "old"}}},
       "Roll 3 HandOff"},
      {"roll: a lone leader is restarted (no one to hand off to)",
       1,
       {{1, {L, "old"}}},
       "Roll 1 DeletePod"},
      {"roll: two members, the leader hands off to the other",
       2,
       {{1, {L, "old"}}, {2, {F}}},
       "Roll 1 HandOff"},
      {"roll: an observer before the followers",
       3,
       {{1, {F, "old"}}, {2, {O, "old"}}, {3, {L, "old"}}},
       "Roll 2 DeletePod"},
      {"an observer left by a lost hand-off is promoted back",
       3,
       {{1, {F}}, {2, {O}}, {3, {L}}},
       "Roll 2 Promote"},
      {"promotion before scaling", 5, {{1, {O}}, {2, {L}}, {3, {F}}}, "Roll 1 Promote"},
      {"a member still observing just after its promotion: the config decides",
       3,
       {{1, {F}}, {2, {O, "new", "participant"}}, {3, {L}}},
       ""},
      {"roll: an observer by the config goes first, whatever srvr says",
       3,
       {{1, {F, "old", "observer"}}, {2, {F, "old"}}, {3, {L, "old"}}},
       "Roll 1 DeletePod"},
      {"a current observer is promoted before the leader rolls",
       2,
       {{1, {L, "old"}}, {2, {O}}},
       "Roll 2 Promote"},
      {"roll blocked while a member does not serve",
       3,
       {{1, {D}}, {2, {F, "old"}}, {3, {L, "old"}}},
       "",
       "waits until every member serves (not serving: demo-1)"},
      {"scaling blocked without a leader",
       5,
       {{1, {F}}, {2, {F}}, {3, {F}}},
       "",
       "scaling from 3 to 5 members waits until every member serves with one leader"},
      {"promotion blocked while a member does not serve",
       3,
       {{1, {O}}, {2, {D}}, {3, {L}}},
       "",
       "promoting the observers back to participants waits"},
      {"a member down on an outdated template is replaced first",
       3,
       {{1, {F}}, {2, {D, "old"}}, {3, {L, "old"}}},
       "Roll 2 DeletePod"},
  };
  for (const Case& c : cases) {
    const Plan p = PlanFor(c);
    EXPECT_EQ(Describe(p), c.want) << c.name;
    if (c.blocked.empty()) {
      EXPECT_EQ(p.blocked, "") << c.name;
    } else {
      EXPECT_NE(p.blocked.find(c.blocked), std::string::npos) << c.name << ": " << p.blocked;
    }
  }
}

TEST(OperationTest, RoundTripsThroughStatusAndRefusesIncompleteRecords) {
  const Operation op{"Roll", 3, "HandOff", "2026-12-02T01:00:00Z"};
  Json status = Json::object();
  status["operation"] = OperationToJson(op);
  EXPECT_EQ(OperationFromStatus(status), op);
  Json incomplete = Json::object();
  incomplete["operation"] = Json::object();
  incomplete["operation"]["type"] = web::json::value::string("Roll");
  EXPECT_EQ(OperationFromStatus(incomplete), std::nullopt);
  EXPECT_EQ(OperationFromStatus(Json::object()), std::nullopt);
}

}  // namespace
}  // namespace zkop::op::cluster
