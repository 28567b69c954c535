// The operator's Prometheus metrics (served on /metrics by zkop::http::HealthServer).
//
// Controller machinery (set by operator/src/controller):
//   zkop_operator_build_info{version}                        1
//   zkop_operator_reconcile_total{result}                    success | requeue | error
//   zkop_operator_reconcile_duration_seconds                 histogram of one Reconcile call
//   zkop_operator_workqueue_depth                            keys ready to be reconciled
//   zkop_operator_workqueue_adds_total                       keys that entered the queue
//   zkop_operator_workqueue_retries_total                    rate-limited re-queues (errors)
//   zkop_operator_api_requests_total{verb,code}              every Kubernetes API request
//   zkop_operator_leader                                     1 while this replica leads
// Cluster level (set by the cluster logic, operator/src/cluster):
//   zkop_operator_clusters{phase}                            clusters per phase
//   zkop_operator_members{namespace,cluster,role,ready}      members per role and readiness
//   zkop_operator_leader_elections_total{namespace,cluster}  ZooKeeper leader changes seen
//
// Threading: every method is thread-safe (a mutex guards the per-cluster bookkeeping;
// prometheus-cpp's metric types are thread-safe); scrapes read concurrently.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "zkop/kube/transport.h"
#include "zkop/operator/reconciler.h"

namespace zkop::op {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(const std::string& version);
  OperatorMetrics(const OperatorMetrics&) = delete;
  OperatorMetrics& operator=(const OperatorMetrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // ---- controller machinery ----
  void ObserveReconcile(ReconcileOutcome::Result result, double seconds);
  void SetQueueDepth(size_t depth);
  void IncQueueAdds();
  void IncQueueRetries();
  // verb: get/list/watch/create/update/patch/delete; code: the HTTP status or "error".
  void ObserveApiRequest(std::string_view verb, std::string_view code);
  void SetLeader(bool leading);

  // ---- cluster level (for the cluster logic) ----
  // One member as counted in zkop_operator_members.
  struct Member {
    std::string role;  // "leader", "follower", "observer", "unknown", ...
    bool ready = false;
  };
  // Records the cluster's current phase ("Creating", "Running", ...); zkop_operator_clusters
  // counts clusters per phase (a phase seen once keeps its series, at 0 when empty).
  void SetClusterPhase(const std::string& ns, const std::string& cluster, const std::string& phase);
  // Replaces the cluster's zkop_operator_members series by counts of `members` per
  // (role, ready); series of combinations no longer present are removed.
  void SetMembers(const std::string& ns, const std::string& cluster,
                  const std::vector<Member>& members);
  void IncLeaderElections(const std::string& ns, const std::string& cluster);
  // The cluster is gone: drops its phase, members and leader-election series.
  void ForgetCluster(const std::string& ns, const std::string& cluster);

 private:
  void RecountPhasesLocked();

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* reconcile_total_;
  std::map<ReconcileOutcome::Result, prometheus::Counter*> reconcile_by_result_;
  prometheus::Histogram* reconcile_duration_;
  prometheus::Gauge* queue_depth_;
  prometheus::Counter* queue_adds_;
  prometheus::Counter* queue_retries_;
  prometheus::Family<prometheus::Counter>* api_requests_;
  prometheus::Gauge* leader_;
  prometheus::Family<prometheus::Gauge>* clusters_;
  prometheus::Family<prometheus::Gauge>* members_;
  prometheus::Family<prometheus::Counter>* leader_elections_;

  std::mutex mu_;                                             // guards the maps below
  std::map<std::string, prometheus::Counter*> api_by_label_;  // "verb code"
  std::map<std::string, std::string> phase_of_;               // "ns/cluster" -> phase
  std::map<std::string, prometheus::Gauge*> phase_gauges_;    // phase -> series
  // "ns/cluster" -> ("role/ready" -> series)
  std::map<std::string, std::map<std::string, prometheus::Gauge*>> member_series_;
  std::map<std::string, prometheus::Counter*> elections_;  // "ns/cluster" -> series
};

// The verb of a Kubernetes API request for zkop_operator_api_requests_total: get, list,
// watch, create, update, patch or delete, from the method and the path (a GET of a
// collection is a list; `watch=true`/`watch=1` or a /watch/ path is a watch).
std::string ApiVerb(std::string_view method, std::string_view target, bool streamed);

// Wraps a transport so every request (each retry attempt included) is counted in
// zkop_operator_api_requests_total. `metrics` must outlive the returned transport.
std::shared_ptr<kube::Transport> MeteredTransport(std::shared_ptr<kube::Transport> inner,
                                                  OperatorMetrics* metrics);

}  // namespace zkop::op
