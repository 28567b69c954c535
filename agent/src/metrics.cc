#include "zkop/agent/metrics.h"

#include "zkop/version.h"

namespace zkop::agent {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

AgentMetrics::AgentMetrics(int64_t path_budget)
    : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  BuildGauge()
      .Name("zkop_agent_build_info")
      .Help("zkop-agent build information")
      .Register(r)
      .Add({{"version", zkop::kVersion}})
      .Set(1);
  services_ = &BuildGauge()
                   .Name("zkop_agent_services")
                   .Help("Dubbo services configured (desired registrations)")
                   .Register(r)
                   .Add({});
  registrations_ = &BuildGauge()
                        .Name("zkop_agent_registrations")
                        .Help("Services by registration state")
                        .Register(r);
  for (auto s : {ServiceState::kRegister, ServiceState::kNotListening, ServiceState::kConflict,
                 ServiceState::kConfigError}) {
    registrations_->Add({{"state", std::string(StateLabel(s))}});
  }
  conflicts_ = &BuildGauge()
                    .Name("zkop_agent_port_conflicts")
                    .Help("Port conflicts diagnosed in the last probe")
                    .Register(r)
                    .Add({});
  sessions_ = &BuildGauge()
                   .Name("zkop_agent_zk_sessions")
                   .Help("ZooKeeper sessions of the agent by state")
                   .Register(r);
  session_up_ = &BuildGauge()
                     .Name("zkop_agent_zk_session_up")
                     .Help("1 when every ZooKeeper session of the agent is connected")
                     .Register(r)
                     .Add({});
  reconnects_ = &BuildCounter()
                     .Name("zkop_agent_zk_reconnects_total")
                     .Help("Connections regained without losing the session")
                     .Register(r)
                     .Add({});
  expirations_ = &BuildCounter()
                      .Name("zkop_agent_zk_session_expirations_total")
                      .Help("ZooKeeper sessions that expired and were replaced")
                      .Register(r)
                      .Add({});
  sync_duration_ =
      &BuildHistogram()
           .Name("zkop_agent_sync_duration_seconds")
           .Help("Duration of one probe and registry sync round")
           .Register(r)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  sync_errors_ = &BuildCounter()
                      .Name("zkop_agent_sync_errors_total")
                      .Help("Failed registry operations by reason")
                      .Register(r);
  restored_ = &BuildCounter()
                   .Name("zkop_agent_restored_total")
                   .Help("Registrations re-created after being deleted or found stale")
                   .Register(r)
                   .Add({});
  yielded_ = &BuildGauge()
                  .Name("zkop_agent_yielded_instances")
                  .Help(
                      "Application-level instances left to the provider's own registration "
                      "(another session holds the node with the provider's revision)")
                  .Register(r)
                  .Add({});
  metadata_writes_ = &BuildCounter()
                          .Name("zkop_agent_metadata_writes_total")
                          .Help("Dubbo 3 metadata nodes written, by node (report, mapping)")
                          .Register(r);
  cas_retries_ = &BuildCounter()
                      .Name("zkop_agent_mapping_cas_retries_total")
                      .Help("Mapping compare-and-set attempts lost to another writer")
                      .Register(r)
                      .Add({});
  path_bytes_ = &BuildGauge()
                     .Name("zkop_agent_session_path_bytes")
                     .Help("Ephemeral path bytes owned per ZooKeeper session (ZOOKEEPER-4306)")
                     .Register(r);
  BuildGauge()
      .Name("zkop_agent_session_path_budget_bytes")
      .Help("Budget of ephemeral path bytes per ZooKeeper session")
      .Register(r)
      .Add({})
      .Set(static_cast<double>(path_budget));
}

void AgentMetrics::ObserveServices(const Diagnosis& diagnosis) {
  services_->Set(static_cast<double>(diagnosis.decisions.size()));
  std::map<ServiceState, int> counts;
  for (const auto& d : diagnosis.decisions) ++counts[d.state];
  for (auto s : {ServiceState::kRegister, ServiceState::kNotListening, ServiceState::kConflict,
                 ServiceState::kConfigError}) {
    registrations_->Add({{"state", std::string(StateLabel(s))}}).Set(counts[s]);
  }
  conflicts_->Set(static_cast<double>(diagnosis.conflicts.size()));
}

void AgentMetrics::ObserveSync(const SyncStats& stats, double seconds) {
  sync_duration_->Observe(seconds);
  int connected = 0;
  for (const auto& s : stats.shards) connected += s.connected ? 1 : 0;
  sessions_->Add({{"state", "connected"}}).Set(connected);
  sessions_->Add({{"state", "connecting"}})
      .Set(static_cast<double>(stats.shards.size()) - connected);
  session_up_->Set(!stats.shards.empty() && connected == static_cast<int>(stats.shards.size()));
  if (stats.reconnects > last_.reconnects) {
    reconnects_->Increment(static_cast<double>(stats.reconnects - last_.reconnects));
  }
  if (stats.expirations > last_.expirations) {
    expirations_->Increment(static_cast<double>(stats.expirations - last_.expirations));
  }
  if (stats.restored > last_.restored) {
    restored_->Increment(static_cast<double>(stats.restored - last_.restored));
  }
  for (const auto& [reason, n] : stats.errors) {
    uint64_t before = last_.errors.count(reason) ? last_.errors.at(reason) : 0;
    if (n > before)
      sync_errors_->Add({{"reason", reason}}).Increment(static_cast<double>(n - before));
  }
  std::map<std::string, prometheus::Gauge*> now;
  for (size_t i = 0; i < stats.shards.size(); ++i) {
    std::string label = std::to_string(i);
    auto* g = &path_bytes_->Add({{"session", label}});
    g->Set(static_cast<double>(stats.shards[i].path_bytes));
    now[label] = g;
  }
  for (auto& [label, g] : path_bytes_by_session_) {
    if (!now.count(label)) path_bytes_->Remove(g);
  }
  path_bytes_by_session_ = std::move(now);
  yielded_->Set(static_cast<double>(stats.yielded));
  last_ = stats;
}

void AgentMetrics::ObservePublish(const PublishStats& stats) {
  auto add = [](prometheus::Counter& c, uint64_t now, uint64_t before) {
    if (now > before) c.Increment(static_cast<double>(now - before));
  };
  add(metadata_writes_->Add({{"node", "report"}}), stats.reports_written,
      last_publish_.reports_written);
  add(metadata_writes_->Add({{"node", "mapping"}}), stats.mappings_written,
      last_publish_.mappings_written);
  add(*cas_retries_, stats.cas_retries, last_publish_.cas_retries);
  for (const auto& [reason, n] : stats.errors) {
    uint64_t before = last_publish_.errors.count(reason) ? last_publish_.errors.at(reason) : 0;
    add(sync_errors_->Add({{"reason", reason}}), n, before);
  }
  last_publish_ = stats;
}

}  // namespace zkop::agent
