// The status a ZookeeperCluster reports, computed by a pure function from what was observed
// and what the reconcile did, and the Events that go with its transitions.
//
// Conditions follow metav1.Condition: type, status, observedGeneration, lastTransitionTime
// (kept while the status does not change), reason (CamelCase, stable: scripts match it),
// message. Types:
//   Ready        True when a quorum of the members serves with exactly one leader.
//   Progressing  True while the operator is creating or repairing members or waiting for
//                them to serve.
//   Degraded     True when the spec is refused, or a member is not serving although it
//                should be (crash loop, missing volume, out of quorum).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zkop/operator/cluster/observe.h"
#include "zkop/operator/cluster/operations.h"
#include "zkop/operator/cluster/render.h"
#include "zkop/operator/cluster/spec.h"

namespace zkop::op::cluster {

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
};

// What the reconcile decided, for conditions.
struct ReconcileFacts {
  std::vector<FieldProblem> spec_errors;  // non-empty: the spec was refused
  std::vector<int> membership;            // member ids the ensemble has (committed config)
  int participants = -1;                  // voting members among them (-1: all)
  std::vector<std::string> actions;       // what this pass did ("created Pod demo-2", ...)
  bool bootstrapping = false;             // the ensemble has never been Ready
  std::string blocked;                    // why a needed action is waiting ("" = not)
  std::optional<Operation> operation;     // a membership change or roll in progress
};

// The conditions for `observed` and `facts`.
std::vector<Condition> ComputeConditions(const ClusterSpec& spec, const Observation& observed,
                                         const ReconcileFacts& facts);

// The status object: replicas, readyReplicas, members, leader, connectString,
// observedGeneration, version, selector, conditions. `previous` is the current status (or
// null): unchanged conditions keep their lastTransitionTime; `now` is RFC 3339.
Json ComputeStatus(const ClusterSpec& spec, const Observation& observed,
                   const std::vector<Condition>& conditions, const Json& previous,
                   const std::string& now, const RenderOptions& options);

// "leader" | "follower" | "observer" | "unknown": the role a member reports.
std::string RoleName(const MemberState& member);

// A condition of a status object ("" fields when absent).
Condition FindCondition(const Json& status, const std::string& type);

// The status fields that matter for a write: equal statuses are not written again.
bool SameStatus(const Json& a, const Json& b);

}  // namespace zkop::op::cluster
