// The Manager: everything `zkop-operator run` runs around the cluster logic — the API client
// (its requests counted), the controller (informers, work queue, workers), Lease-based leader
// election, and /metrics, /healthz, /readyz.
//
//   Manager m(options, kube::NewHttpTransport(config), &zkop::op::cluster::MakeClusterReconciler);
//   int code = m.Run(stop_token);   // 0 after `stop`, 1 when leadership was lost
//
// Lifecycle and contract:
//  - The constructor builds the client on MeteredTransport(transport), the controller, an
//    EventRecorder, the HealthServer (bound at once) and then calls the factory once with
//    ManagerDeps. It throws std::runtime_error when the metrics address cannot be bound and
//    std::invalid_argument on inconsistent leader-election timings; the factory's exceptions
//    pass through.
//  - Run starts the informers on every replica (a standby keeps a warm cache), then:
//    without leader election, runs the workers; with it, campaigns for the Lease and runs the
//    workers only while leading. Workers start once every informer has synced.
//  - /healthz is 200 while the process runs. /readyz is 200 once every informer has synced —
//    on standbys too (as controller-runtime: a standby is a healthy replica, and a Deployment
//    rollout must not wait for it to lead) — and 503 "shutting down" once Run is stopping.
//  - `stop` requested: no new keys are taken, in-flight Reconciles get a stop request and are
//    awaited, the Lease is released (the next replica takes over at once), the informers stop;
//    Run returns 0. Leadership lost (the Lease could not be renewed within renew_deadline):
//    the workers are stopped the same way and Run returns 1 — the process should exit
//    non-zero and restart clean, as controller-runtime does.
//  - Run is called at most once. ManagerDeps and everything in it live as long as the Manager.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "zkop/http/health_server.h"
#include "zkop/kube/client.h"
#include "zkop/kube/events.h"
#include "zkop/kube/leader_election.h"
#include "zkop/kube/transport.h"
#include "zkop/log/log.h"
#include "zkop/operator/controller/controller.h"
#include "zkop/operator/controller/metrics.h"
#include "zkop/operator/reconciler.h"

namespace zkop::op {

// What the cluster logic is built with. Pointers are owned by the Manager and valid for its
// lifetime; all of them are thread-safe.
struct ManagerDeps {
  std::shared_ptr<kube::Client> client;           // API writes (requests are counted)
  ObjectCache* cache = nullptr;                   // informer-backed reads
  std::shared_ptr<kube::EventRecorder> recorder;  // Events, source "zkop-operator"
  OperatorMetrics* metrics = nullptr;             // cluster-level metric families
  std::string cluster_domain = "cluster.local";   // DNS domain of member and Service names
  std::chrono::milliseconds step_delay{0};        // testing: pause after recording a step
  // True while this replica leads (its workers run): collectors that must not export the
  // same series from two replicas check it.
  std::function<bool()> leading;
  // Adds a collector that every /metrics scrape runs (after the registry's families); a
  // no-op without a metrics address. For figures gathered fresh at scrape time.
  std::function<void(std::shared_ptr<prometheus::Collectable>)> add_collectable;
};

using ReconcilerFactory = std::function<std::unique_ptr<Reconciler>(const ManagerDeps&)>;

struct LeaderElectionOptions {
  bool enabled = true;
  std::string lease_namespace = "default";
  std::string lease_name = "zkop-operator";
  std::string identity;  // "" = DefaultIdentity()
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
};

struct ManagerOptions {
  controller::ControllerOptions controller;
  LeaderElectionOptions leader_election;
  std::string metrics_address = "0.0.0.0:8080";  // /metrics, /healthz, /readyz
  std::string default_namespace = "default";     // the client's default namespace
  kube::ClientOptions client;                    // qps, burst, timeouts
  std::string version;                           // zkop_operator_build_info; "" = zkop::kVersion
  std::string cluster_domain = "cluster.local";  // passed to the reconciler (ManagerDeps)
  std::chrono::milliseconds step_delay{0};       // passed to the reconciler (ManagerDeps)
};

// "<hostname>_<8 random hex digits>": unique per process even for two replicas on one host.
std::string DefaultIdentity();

class Manager {
 public:
  Manager(ManagerOptions options, std::shared_ptr<kube::Transport> transport,
          ReconcilerFactory factory);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  int Run(std::stop_token stop);

  uint16_t metrics_port() const;
  const std::string& identity() const { return identity_; }
  bool Leading() const { return leading_.load(); }  // workers running (or about to)
  bool Ready() const { return ready_.load(); }      // every informer synced
  OperatorMetrics& metrics() { return *metrics_; }
  const ManagerDeps& deps() const { return deps_; }

 private:
  void Lead(std::stop_token stop);

  ManagerOptions options_;
  std::string identity_;
  log::Logger log_{"manager"};
  std::unique_ptr<OperatorMetrics> metrics_;
  std::shared_ptr<kube::Client> client_;
  std::unique_ptr<controller::Controller> controller_;
  std::unique_ptr<http::HealthServer> health_;
  std::unique_ptr<kube::LeaderElector> elector_;
  ManagerDeps deps_;
  std::unique_ptr<Reconciler> reconciler_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> led_{false};
};

}  // namespace zkop::op
