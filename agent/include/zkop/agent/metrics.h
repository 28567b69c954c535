// The agent's Prometheus metrics (served on /metrics by zkop::http::HealthServer).
//
//   zkop_agent_build_info{version}                 1
//   zkop_agent_services                            services configured (desired)
//   zkop_agent_registrations{state}                services by state: registered,
//                                                  not_listening, conflict, config_error
//   zkop_agent_port_conflicts                      port conflicts diagnosed now
//   zkop_agent_zk_sessions{state}                  sessions connected / connecting
//   zkop_agent_zk_session_up                       1 when every session is connected
//   zkop_agent_zk_reconnects_total                 connections regained within a session
//   zkop_agent_zk_session_expirations_total        sessions replaced after expiry
//   zkop_agent_sync_duration_seconds               histogram of one probe+sync round
//   zkop_agent_sync_errors_total{reason}           failed registry operations by reason
//   zkop_agent_restored_total                      nodes re-created (deleted or stale)
//   zkop_agent_session_path_bytes{session}         ephemeral path bytes per session
//   zkop_agent_session_path_budget_bytes           the per-session budget
//   zkop_agent_yielded_instances                   instances left to the provider's own
//                                                  registration
//   zkop_agent_metadata_writes_total{node}         Dubbo 3 metadata nodes written (report,
//                                                  mapping)
//   zkop_agent_mapping_cas_retries_total           mapping compare-and-sets lost to another
//                                                  writer
//
// Threading: Observe* are called by the agent loop; scrapes read concurrently (the
// prometheus-cpp types are thread-safe).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zkop/agent/diagnose.h"
#include "zkop/agent/metadata_publisher.h"
#include "zkop/agent/syncer.h"

namespace zkop::agent {

class AgentMetrics {
 public:
  explicit AgentMetrics(int64_t path_budget);
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void ObserveServices(const Diagnosis& diagnosis);
  void ObserveSync(const SyncStats& stats, double seconds);
  void ObservePublish(const PublishStats& stats);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* services_;
  prometheus::Family<prometheus::Gauge>* registrations_;
  prometheus::Gauge* conflicts_;
  prometheus::Family<prometheus::Gauge>* sessions_;
  prometheus::Gauge* session_up_;
  prometheus::Counter* reconnects_;
  prometheus::Counter* expirations_;
  prometheus::Histogram* sync_duration_;
  prometheus::Family<prometheus::Counter>* sync_errors_;
  prometheus::Counter* restored_;
  prometheus::Family<prometheus::Gauge>* path_bytes_;
  std::map<std::string, prometheus::Gauge*> path_bytes_by_session_;
  prometheus::Gauge* yielded_;
  prometheus::Family<prometheus::Counter>* metadata_writes_;
  prometheus::Counter* cas_retries_;
  SyncStats last_;
  PublishStats last_publish_;
};

}  // namespace zkop::agent
