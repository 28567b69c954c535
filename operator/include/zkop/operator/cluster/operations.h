// Membership changes and rolls: one member at a time, recorded in the cluster's status before
// each step (status.operation) so that any operator replica can finish what another started.
//
//   ScaleUp k    CreateMember (fresh claim + Pod, started with the committed membership plus
//                itself as an observer) -> WaitSynced (k serves as an observer) -> Reconfigure
//                (reconfig -add k as a participant, conditional on the version read; confirmed
//                by reading the config back)
//   ScaleDown k  Reconfigure (reconfig -remove k, confirmed with a write) -> DeletePod ->
//                DeleteClaim (a removed id never returns with stale data)
//   Roll k       DeletePod (the Pod comes back from the current template) -> WaitServing
//   Roll leader  HandOff (reconfig the leader to an observer: ZooKeeper designates a follower
//                that takes over without an election; confirmed with a write) -> DeletePod ->
//                WaitServing (it serves as an observer) -> Promote (reconfig it back to a
//                participant, confirmed by reading the config back). A leader that is the only
//                participant is restarted as any member is.
//   Roll k       Promote alone: a member found observing (a hand-off whose record was lost)
//
// Planning is pure: PlanNextOperation picks what to start from what was observed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zkop/operator/cluster/observe.h"
#include "zkop/operator/cluster/spec.h"
#include "zkop/zk/ensemble_config.h"

namespace zkop::op::cluster {

struct Operation {
  std::string type;  // "ScaleUp", "ScaleDown", "Roll"
  int member = 0;
  std::string step;
  std::string started_at;  // RFC 3339
  bool operator==(const Operation&) const = default;
};

std::optional<Operation> OperationFromStatus(const Json& status);
Json OperationToJson(const Operation& op);

struct Plan {
  std::optional<Operation> start;  // the operation to start now (its first step)
  std::string blocked;             // why a needed change waits ("" when none is needed or started)
};

// What to start when no operation is in progress. `membership` is the committed
// configuration (ids and roles as ZooKeeper's config has them); `desired_hash` the template
// hash the current spec renders. Rules:
//  - nothing starts unless every member serves (in quorum, synced) and exactly one leads —
//    except replacing an outdated member that is already down (a bad roll being fixed);
//  - an observer among the members is promoted back first (zkop's members all vote);
//  - membership changes come before rolls; one member at a time;
//  - up: the lowest unused id; down: the highest id that does not lead, the leader last;
//  - roll: observers, then followers by highest id, the leader last, handing off first when
//    another member votes.
Plan PlanNextOperation(const ClusterSpec& spec, const Observation& observed,
                       const zk::EnsembleConfig& membership, const std::string& desired_hash);

}  // namespace zkop::op::cluster
