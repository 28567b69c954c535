#include "zkop/operator/cluster/status.h"

#include <algorithm>
#include <set>

#include "json_build.h"
#include "zkop/operator/cluster/apply.h"

namespace zkop::op::cluster {

using namespace json;  // NOLINT

namespace {

bool IsFailureReason(const std::string& reason) {
  static const std::set<std::string> kFailures = {
      "CrashLoopBackOff",  "ErrImagePull",     "ImagePullBackOff",    "CreateContainerConfigError",
      "RunContainerError", "InvalidImageName", "CreateContainerError"};
  return kFailures.count(reason) > 0;
}

std::string JoinProblems(const std::vector<FieldProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p.field + ": " + p.message;
  return out;
}

std::string Join(const std::vector<std::string>& items, const std::string& sep = "; ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::vector<const MemberState*> InMembership(const Observation& observed,
                                             const std::vector<int>& ids) {
  std::vector<const MemberState*> out;
  for (const auto& m : observed.members)
    if (std::find(ids.begin(), ids.end(), m.id) != ids.end()) out.push_back(&m);
  return out;
}

}  // namespace

std::string RoleName(const MemberState& member) {
  if (!member.server.answered) return "unknown";
  switch (member.server.mode) {
    case zk::ServerMode::kLeader:
      return "leader";
    case zk::ServerMode::kFollower:
      return "follower";
    case zk::ServerMode::kObserver:
      return "observer";
    default:
      return "unknown";
  }
}

std::vector<Condition> ComputeConditions(const ClusterSpec& spec, const Observation& observed,
                                         const ReconcileFacts& facts) {
  const auto members = InMembership(observed, facts.membership);
  int serving = 0;
  int ready = 0;
  std::vector<std::string> leaders;
  std::vector<std::string> failing;
  std::vector<std::string> no_volume;
  std::vector<std::string> not_ready;
  for (const MemberState* m : members) {
    if (m->Serving() && m->server.mode != zk::ServerMode::kObserver) ++serving;
    if (m->Ready()) ++ready;
    if (m->server.mode == zk::ServerMode::kLeader) leaders.push_back(m->pod);
    if (m->pod_exists && IsFailureReason(m->waiting_reason)) {
      failing.push_back(m->pod + ": " + m->waiting_reason +
                        (m->waiting_message.empty() ? "" : " (" + m->waiting_message + ")"));
    }
    if (m->pod_exists && !m->claim_exists) no_volume.push_back(m->pod);
    // A member that an operation is adding or restarting is expected not to serve yet.
    const bool expected =
        facts.operation && facts.operation->member == m->id && facts.operation->type != "ScaleDown";
    if (!m->Ready() && !expected) not_ready.push_back(m->pod);
  }
  const int size =
      facts.participants >= 0 ? facts.participants : static_cast<int>(facts.membership.size());
  const int majority = size / 2 + 1;
  const bool quorum = size > 0 && serving >= majority && leaders.size() == 1;

  Condition ready_c{"Ready", "False", "", ""};
  if (quorum) {
    ready_c = {"Ready", "True", "QuorumAvailable",
               std::to_string(serving) + " of " + std::to_string(size) + " members serve; leader " +
                   leaders.front()};
  } else if (size == 0 && !facts.spec_errors.empty()) {
    ready_c.reason = "InvalidSpec";
    ready_c.message = "the spec is refused, nothing was created: see the Degraded condition";
  } else if (facts.bootstrapping) {
    ready_c.reason = "Bootstrapping";
    ready_c.message = "waiting for a quorum of " + std::to_string(majority) + " of " +
                      std::to_string(size) + " members to serve (" + std::to_string(serving) +
                      " serving)";
  } else {
    ready_c.reason = "QuorumLost";
    ready_c.message = std::to_string(serving) + " of " + std::to_string(size) +
                      " members serve, a quorum needs " + std::to_string(majority) +
                      (leaders.size() > 1 ? "; several members report leading" : "");
  }

  Condition progressing{"Progressing", "False", "Stable", "every member is in place"};
  if (facts.operation) {
    const auto& op = *facts.operation;
    const std::string pod = spec.name + "-" + std::to_string(op.member);
    const std::string reason = op.type == "ScaleUp"     ? "ScalingUp"
                               : op.type == "ScaleDown" ? "ScalingDown"
                                                        : "RollingUpdate";
    const std::string verb = op.type == "ScaleUp"     ? "adding "
                             : op.type == "ScaleDown" ? "removing "
                                                      : "restarting ";
    progressing = {"Progressing", "True", reason, verb + pod + " (step " + op.step + ")"};
  } else if (!facts.actions.empty()) {
    progressing = {"Progressing", "True", facts.bootstrapping ? "CreatingMembers" : "Reconciling",
                   Join(facts.actions)};
  } else if (!facts.blocked.empty()) {
    progressing = {"Progressing", "False", "Blocked", facts.blocked};
  } else if (!not_ready.empty() && failing.empty()) {
    progressing = {"Progressing", "True", "WaitingForMembers",
                   "waiting for " + Join(not_ready, ", ") + " to serve"};
  } else if (!facts.spec_errors.empty()) {
    progressing = {"Progressing", "False", "InvalidSpec", "the spec is refused"};
  }

  Condition degraded{"Degraded", "False", "AsExpected", "every member serves"};
  if (!facts.spec_errors.empty()) {
    degraded = {
        "Degraded", "True", "InvalidSpec",
        "spec refused (the ensemble keeps running as it is): " + JoinProblems(facts.spec_errors)};
  } else if (!failing.empty()) {
    degraded = {"Degraded", "True", "MemberFailing", Join(failing)};
  } else if (!no_volume.empty()) {
    degraded = {"Degraded", "True", "MemberVolumeMissing",
                "the data volume of " + Join(no_volume, ", ") +
                    " is gone; zkop does not recreate a member's data under a running member"};
  } else if (!facts.blocked.empty()) {
    degraded = {"Degraded", "True", "Blocked", facts.blocked};
  } else if (!facts.bootstrapping && !not_ready.empty()) {
    degraded = {"Degraded", "True", "MembersNotReady",
                Join(not_ready, ", ") + (not_ready.size() == 1 ? " is" : " are") + " not serving"};
  }
  return {ready_c, progressing, degraded};
}

Json ComputeStatus(const ClusterSpec& spec, const Observation& observed,
                   const std::vector<Condition>& conditions, const Json& previous,
                   const std::string& now, const RenderOptions& options) {
  Json status = Json::object();
  int replicas = 0;
  int ready = 0;
  std::string leader;
  std::string version;
  Json members = Json::array();
  for (const auto& m : observed.members) {
    if (!m.pod_exists) continue;
    ++replicas;
    const bool member_ready = m.Ready();
    ready += member_ready;
    const std::string role = RoleName(m);
    if (role == "leader") leader = m.pod;
    if (version.empty() && !m.server.version.empty()) version = m.server.version;
    Push(members, Obj({{"id", Int(m.id)},
                       {"pod", Str(m.pod)},
                       {"role", Str(role)},
                       {"ready", Bool(member_ready)}}));
  }
  status["replicas"] = Int(replicas);
  status["readyReplicas"] = Int(ready);
  status["members"] = members;
  status["leader"] = Str(leader);
  status["connectString"] = Str(ClientConnectString(spec, options));
  status["observedGeneration"] = Int(spec.generation);
  // A version observed earlier is kept while no member answers.
  if (version.empty() && previous.is_object() && previous.has_field("version"))
    version = previous.at("version").as_string();
  if (!version.empty()) status["version"] = Str(version);
  status["selector"] = Str(SelectorString(spec.name));
  Json conds = Json::array();
  for (const auto& c : conditions) {
    const Condition before = FindCondition(previous, c.type);
    std::string since = now;
    if (!before.status.empty() && before.status == c.status) {
      for (const auto& p : previous.at("conditions").as_array())
        if (p.at("type").as_string() == c.type && p.has_field("lastTransitionTime"))
          since = p.at("lastTransitionTime").as_string();
    }
    Push(conds, Obj({{"type", Str(c.type)},
                     {"status", Str(c.status)},
                     {"observedGeneration", Int(spec.generation)},
                     {"lastTransitionTime", Str(since)},
                     {"reason", Str(c.reason)},
                     {"message", Str(c.message.substr(0, 32000))}}));
  }
  status["conditions"] = conds;
  return status;
}

Condition FindCondition(const Json& status, const std::string& type) {
  if (!status.is_object() || !status.has_field("conditions") || !status.at("conditions").is_array())
    return {};
  for (const auto& c : status.at("conditions").as_array()) {
    if (!c.has_field("type") || c.at("type").as_string() != type) continue;
    auto str = [&c](const char* k) {
      return c.has_field(k) && c.at(k).is_string() ? c.at(k).as_string() : std::string();
    };
    return {type, str("status"), str("reason"), str("message")};
  }
  return {};
}

bool SameStatus(const Json& a, const Json& b) {
  return ContainsFields(a, b) && ContainsFields(b, a);
}

}  // namespace zkop::op::cluster
