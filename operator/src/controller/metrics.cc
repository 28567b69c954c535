#include "zkop/operator/controller/metrics.h"

namespace zkop::op {

namespace {

std::string ClusterKey(const std::string& ns, const std::string& cluster) {
  return ns + "/" + cluster;
}

}  // namespace

OperatorMetrics::OperatorMetrics(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;
  BuildGauge()
      .Name("zkop_operator_build_info")
      .Help("Build information of the running operator; always 1")
      .Register(*registry_)
      .Add({{"version", version}})
      .Set(1);
  reconcile_total_ = &BuildCounter()
                          .Name("zkop_operator_reconcile_total")
                          .Help("Reconcile calls by result (success, requeue, error)")
                          .Register(*registry_);
  reconcile_by_result_[ReconcileOutcome::Result::kSuccess] =
      &reconcile_total_->Add({{"result", "success"}});
  reconcile_by_result_[ReconcileOutcome::Result::kRequeue] =
      &reconcile_total_->Add({{"result", "requeue"}});
  reconcile_by_result_[ReconcileOutcome::Result::kError] =
      &reconcile_total_->Add({{"result", "error"}});
  reconcile_duration_ =
      &BuildHistogram()
           .Name("zkop_operator_reconcile_duration_seconds")
           .Help("Duration of one Reconcile call")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5, 1, 2.5, 5, 10, 30, 60});
  queue_depth_ = &BuildGauge()
                      .Name("zkop_operator_workqueue_depth")
                      .Help("Cluster keys ready to be reconciled")
                      .Register(*registry_)
                      .Add({});
  queue_adds_ = &BuildCounter()
                     .Name("zkop_operator_workqueue_adds_total")
                     .Help("Cluster keys that entered the work queue")
                     .Register(*registry_)
                     .Add({});
  queue_retries_ = &BuildCounter()
                        .Name("zkop_operator_workqueue_retries_total")
                        .Help("Rate-limited re-queues of cluster keys after a failed reconcile")
                        .Register(*registry_)
                        .Add({});
  api_requests_ = &BuildCounter()
                       .Name("zkop_operator_api_requests_total")
                       .Help("Kubernetes API requests by verb and HTTP status (error: no answer)")
                       .Register(*registry_);
  leader_ = &BuildGauge()
                 .Name("zkop_operator_leader")
                 .Help(
                     "Whether this replica holds the leader-election Lease and runs workers (1) or "
                     "not (0)")
                 .Register(*registry_)
                 .Add({});
  clusters_ = &BuildGauge()
                   .Name("zkop_operator_clusters")
                   .Help("ZookeeperCluster resources per phase")
                   .Register(*registry_);
  members_ = &BuildGauge()
                  .Name("zkop_operator_members")
                  .Help("ZooKeeper members per cluster, role and readiness")
                  .Register(*registry_);
  leader_elections_ = &BuildCounter()
                           .Name("zkop_operator_leader_elections_total")
                           .Help("ZooKeeper leader changes observed per cluster")
                           .Register(*registry_);
}

void OperatorMetrics::ObserveReconcile(ReconcileOutcome::Result result, double seconds) {
  reconcile_by_result_.at(result)->Increment();
  reconcile_duration_->Observe(seconds);
}

void OperatorMetrics::SetQueueDepth(size_t depth) { queue_depth_->Set(static_cast<double>(depth)); }

void OperatorMetrics::IncQueueAdds() { queue_adds_->Increment(); }

void OperatorMetrics::IncQueueRetries() { queue_retries_->Increment(); }

void OperatorMetrics::ObserveApiRequest(std::string_view verb, std::string_view code) {
  std::string label = std::string(verb) + " " + std::string(code);
  prometheus::Counter* counter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = api_by_label_.find(label);
    if (it == api_by_label_.end()) {
      counter = &api_requests_->Add({{"verb", std::string(verb)}, {"code", std::string(code)}});
      api_by_label_.emplace(label, counter);
    } else {
      counter = it->second;
    }
  }
  counter->Increment();
}

void OperatorMetrics::SetLeader(bool leading) { leader_->Set(leading ? 1 : 0); }

void OperatorMetrics::RecountPhasesLocked() {
  std::map<std::string, int> counts;
  for (const auto& [cluster, phase] : phase_of_) ++counts[phase];
  for (const auto& [phase, n] : counts) {
    if (!phase_gauges_.count(phase)) phase_gauges_[phase] = &clusters_->Add({{"phase", phase}});
  }
  for (const auto& [phase, gauge] : phase_gauges_) {
    auto it = counts.find(phase);
    gauge->Set(it == counts.end() ? 0 : it->second);
  }
}

void OperatorMetrics::SetClusterPhase(const std::string& ns, const std::string& cluster,
                                      const std::string& phase) {
  std::lock_guard<std::mutex> lock(mu_);
  phase_of_[ClusterKey(ns, cluster)] = phase;
  RecountPhasesLocked();
}

void OperatorMetrics::SetMembers(const std::string& ns, const std::string& cluster,
                                 const std::vector<Member>& members) {
  std::map<std::string, std::pair<const Member*, int>> counts;  // "role/ready"
  for (const Member& m : members) {
    auto& slot = counts[m.role + (m.ready ? "/true" : "/false")];
    slot.first = &m;
    ++slot.second;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& series = member_series_[ClusterKey(ns, cluster)];
  for (auto it = series.begin(); it != series.end();) {
    if (counts.count(it->first)) {
      ++it;
    } else {
      members_->Remove(it->second);
      it = series.erase(it);
    }
  }
  for (const auto& [label, slot] : counts) {
    prometheus::Gauge*& gauge = series[label];
    if (!gauge) {
      gauge = &members_->Add({{"namespace", ns},
                              {"cluster", cluster},
                              {"role", slot.first->role},
                              {"ready", slot.first->ready ? "true" : "false"}});
    }
    gauge->Set(slot.second);
  }
}

void OperatorMetrics::IncLeaderElections(const std::string& ns, const std::string& cluster) {
  prometheus::Counter* counter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prometheus::Counter*& c = elections_[ClusterKey(ns, cluster)];
    if (!c) c = &leader_elections_->Add({{"namespace", ns}, {"cluster", cluster}});
    counter = c;
  }
  counter->Increment();
}

void OperatorMetrics::ForgetCluster(const std::string& ns, const std::string& cluster) {
  const std::string key = ClusterKey(ns, cluster);
  std::lock_guard<std::mutex> lock(mu_);
  if (phase_of_.erase(key)) RecountPhasesLocked();
  auto m = member_series_.find(key);
  if (m != member_series_.end()) {
    for (const auto& [label, gauge] : m->second) members_->Remove(gauge);
    member_series_.erase(m);
  }
  auto e = elections_.find(key);
  if (e != elections_.end()) {
    leader_elections_->Remove(e->second);
    elections_.erase(e);
  }
}

}  // namespace zkop::op
