// The state one reconcile pass of ClusterReconciler carries from phase to phase (private to
// operator/src/cluster).
#pragma once

#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "zkop/operator/cluster/apply.h"
#include "zkop/operator/cluster/cluster_reconciler.h"
#include "zkop/operator/cluster/operations.h"
#include "zkop/operator/cluster/spec.h"
#include "zkop/operator/cluster/status.h"
#include "zkop/zk/ensemble_config.h"

namespace zkop::op::cluster {

// Everything one reconcile pass knows, filled phase by phase.
struct ClusterReconciler::Pass {
  ReconcileRequest request;
  std::stop_token stop;
  Json cr;               // the cluster as cached
  ParsedCluster parsed;  // its spec
  Json previous_status = Json::null();
  bool deleting = false;
  zk::EnsembleConfig membership;  // the members the ensemble has
  Observation observed;
  ReconcileFacts facts;
  std::unique_ptr<Applier> applier;
  std::optional<Operation> operation;  // in progress (status.operation), as advanced
  std::string failure;                 // an API error that ends the pass
  bool requeue_soon = false;
};

}  // namespace zkop::op::cluster
