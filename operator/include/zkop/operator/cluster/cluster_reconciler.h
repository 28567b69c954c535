// The ZookeeperCluster reconciler: one pass = named phases over one state struct (a Pass),
// in the etcd-operator / CloudNativePG manner:
//
//   FetchAndValidate  the cluster from the cache; the finalizer; the spec parsed. A refused
//                     spec stops here: conditions and Warning Events, nothing applied.
//   Finalize          (cluster being deleted) PVCs per spec.storage.reclaimPolicy, then the
//                     finalizer goes; owner references take care of the rest.
//   EnsureBaseObjects Secret <c>-admin (created once, never rotated), ConfigMaps <c>-config
//                     and <c>-discovery, Services <c>-headless and <c>-client, PDB <c>.
//   ObserveMembers    Pods and PVCs from the cache; srvr/conf from every member.
//   Converge          missing claims (bootstrap only) and missing member Pods (same id, same
//                     claim: a repair never changes membership).
//   Operate           one step of a membership change or roll (operations.h), recorded in
//                     status.operation before it acts: at most one disruptive action per pass.
//   WriteStatus       status and Events, written only when they change.
//
// Threading: Reconcile is called for one key at a time (the controller's contract); different
// keys may run concurrently, so the reconciler keeps per-key memory under a mutex.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "zkop/kube/events.h"
#include "zkop/operator/cluster/ensemble_admin.h"
#include "zkop/operator/cluster/observe.h"
#include "zkop/operator/cluster/operations.h"
#include "zkop/operator/cluster/render.h"
#include "zkop/operator/controller/manager.h"
#include "zkop/operator/controller/metrics.h"
#include "zkop/operator/reconciler.h"

namespace zkop::op::cluster {

struct ReconcilerOptions {
  RenderOptions render;
  // How soon to look again while members are starting or an action is under way.
  std::chrono::milliseconds settle_interval{std::chrono::seconds(2)};
  // How often a cluster at rest is observed again (leader changes raise no Kubernetes event).
  std::chrono::milliseconds resync_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds probe_timeout{std::chrono::milliseconds(1500)};
  // Connecting as the super user and each reconfig / read of the config.
  std::chrono::milliseconds admin_timeout{std::chrono::seconds(10)};
  // Fault-injection testing only: a pause after each step is recorded, before it acts, so a
  // test can kill the operator exactly there.
  std::chrono::milliseconds step_delay{0};
};

class ClusterReconciler : public Reconciler {
 public:
  // `cache` must outlive the reconciler; `metrics` may be null.
  ClusterReconciler(std::shared_ptr<kube::Client> client, const ObjectCache* cache,
                    std::shared_ptr<kube::EventRecorder> recorder,
                    std::unique_ptr<MemberProbe> probe, OperatorMetrics* metrics,
                    ReconcilerOptions options);

  ReconcileOutcome Reconcile(const ReconcileRequest& request, std::stop_token stop) override;

 private:
  struct Pass;
  bool FetchAndValidate(Pass& pass);
  ReconcileOutcome Finalize(Pass& pass);
  bool EnsureBaseObjects(Pass& pass);
  void ObserveMembers(Pass& pass);
  void Converge(Pass& pass);
  void Operate(Pass& pass);
  ReconcileOutcome WriteStatus(Pass& pass);

  // Operate's steps (operate.cc).
  void Advance(Pass& pass, const std::string& desired_hash);
  struct Target;
  void AdvanceScaleUp(Pass& pass, const Target& t);
  void AdvanceScaleDown(Pass& pass, const Target& t);
  void AdvanceRoll(Pass& pass, const Target& t, const std::string& desired_hash);
  // Makes member `id` a `role` ("observer", "participant") in the committed configuration
  // (reconfig of its server line, conditional on the version read; nothing when it already is)
  // and records the result; false when a later pass must try again.
  bool ReconfigureRole(Pass& pass, EnsembleAdmin& admin, int id, const std::string& role);
  void FinishRoll(Pass& pass, const std::string& message);
  void Step(Pass& pass, const std::string& step);
  void Finish(Pass& pass, const std::string& reason, const std::string& message);
  bool RecordOperation(Pass& pass, const std::optional<Operation>& op);
  bool RecordMembership(Pass& pass, const zk::EnsembleConfig& membership);
  void SyncRecordedMembership(Pass& pass);
  std::unique_ptr<EnsembleAdmin> Admin(Pass& pass);

  void Event(Pass& pass, kube::EventType type, const std::string& reason,
             const std::string& message);

  std::shared_ptr<kube::Client> client_;
  const ObjectCache* cache_;
  std::shared_ptr<kube::EventRecorder> recorder_;
  std::unique_ptr<MemberProbe> probe_;
  OperatorMetrics* metrics_;
  ReconcilerOptions options_;

  std::mutex mu_;
  // key -> the status this process wrote, as compact JSON text: a parsed tree is ~4 times the
  // size, and this map holds one per cluster for the process's lifetime (docs/benchmarks.md).
  std::map<std::string, std::string> last_written_status_;
};

// The factory `zkop-operator run` gives the controller (see controller/manager.h).
std::unique_ptr<Reconciler> MakeClusterReconciler(const ManagerDeps& deps);

}  // namespace zkop::op::cluster
