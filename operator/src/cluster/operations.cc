#include "zkop/operator/cluster/operations.h"

#include <algorithm>

#include "json_build.h"

namespace zkop::op::cluster {

using namespace json;  // NOLINT

std::optional<Operation> OperationFromStatus(const Json& status) {
  if (!status.is_object() || !status.has_field("operation") || !status.at("operation").is_object())
    return std::nullopt;
  const Json& o = status.at("operation");
  auto str = [&o](const char* k) {
    return o.has_field(k) && o.at(k).is_string() ? o.at(k).as_string() : std::string();
  };
  Operation op;
  op.type = str("type");
  op.step = str("step");
  op.started_at = str("startedAt");
  if (o.has_field("member") && o.at("member").is_integer()) op.member = o.at("member").as_integer();
  if (op.type.empty() || op.step.empty() || op.member <= 0) return std::nullopt;
  return op;
}

Json OperationToJson(const Operation& op) {
  return Obj({{"type", Str(op.type)},
              {"member", Int(op.member)},
              {"step", Str(op.step)},
              {"startedAt", Str(op.started_at)}});
}

namespace {

bool Healthy(const MemberState* m) { return m && m->Ready(); }

}  // namespace

Plan PlanNextOperation(const ClusterSpec& spec, const Observation& observed,
                       const zk::EnsembleConfig& membership, const std::string& desired_hash) {
  Plan plan;
  const int size = static_cast<int>(membership.members.size());
  std::vector<std::string> unhealthy;
  int leader = 0;
  int leaders = 0;
  for (const zk::Member& member : membership.members) {
    const MemberState* m = observed.Find(member.id);
    if (!Healthy(m)) unhealthy.push_back(MemberPodName(spec.name, member.id));
    if (m && m->server.mode == zk::ServerMode::kLeader) {
      leader = member.id;
      ++leaders;
    }
  }

  // A member running an outdated template that is down anyway is replaced first: a roll that
  // crash-looped is fixed by fixing the spec, without waiting for a quorum check it cannot pass.
  for (const zk::Member& member : membership.members) {
    const MemberState* m = observed.Find(member.id);
    if (m && m->pod_exists && !m->pod_terminating && !m->template_hash.empty() &&
        m->template_hash != desired_hash && !m->Serving()) {
      plan.start = Operation{"Roll", member.id, "DeletePod", ""};
      return plan;
    }
  }

  const bool resize = size != spec.replicas;
  bool roll = false;
  int participants = 0;
  std::vector<int> observers;  // left so by a hand-off whose record was lost
  for (const zk::Member& member : membership.members) {
    const MemberState* m = observed.Find(member.id);
    const bool outdated = m && m->pod_exists && m->template_hash != desired_hash;
    if (outdated) roll = true;
    if (member.role != "observer")
      ++participants;
    else if (!outdated)  // an outdated one is rolled instead, and promoted at its roll's end
      observers.push_back(member.id);
  }
  if (!resize && !roll && observers.empty()) return plan;

  const std::string what = resize ? "scaling from " + std::to_string(size) + " to " +
                                        std::to_string(spec.replicas) + " members"
                           : roll ? "the rolling update"
                                  : "promoting the observers back to participants";
  if (!unhealthy.empty() || leaders != 1) {
    std::string names;
    for (const auto& n : unhealthy) names += (names.empty() ? "" : ", ") + n;
    plan.blocked = what + " waits until every member serves" +
                   (names.empty() ? " with one leader" : " (not serving: " + names + ")");
    return plan;
  }

  // Every member of a zkop ensemble votes: an observer is promoted back before anything else.
  if (!observers.empty()) {
    plan.start = Operation{"Roll", observers.front(), "Promote", ""};
    return plan;
  }
  if (size < spec.replicas) {
    int id = 1;
    while (membership.Find(id)) ++id;
    plan.start = Operation{"ScaleUp", id, "CreateMember", ""};
    return plan;
  }
  if (size > spec.replicas) {
    std::vector<int> order;
    for (const zk::Member& member : membership.members) order.push_back(member.id);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      if ((a == leader) != (b == leader)) return b == leader;  // the leader last
      return a > b;                                            // highest id first
    });
    plan.start = Operation{"ScaleDown", order.front(), "Reconfigure", ""};
    return plan;
  }
  // Roll: observers, then followers by highest id, the leader last.
  std::vector<int> order;
  for (const zk::Member& member : membership.members) {
    const MemberState* m = observed.Find(member.id);
    if (m && m->template_hash != desired_hash) order.push_back(member.id);
  }
  auto rank = [&](int id) {
    if (membership.Find(id)->role == "observer") return 0;
    return id == leader ? 2 : 1;
  };
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return a > b;
  });
  // The leader hands off first when another member votes (see operations.h).
  const bool handoff = order.front() == leader && participants > 1;
  plan.start = Operation{"Roll", order.front(), handoff ? "HandOff" : "DeletePod", ""};
  return plan;
}

}  // namespace zkop::op::cluster
