// The agent daemon loop: probe the ports, decide, publish the Dubbo 3 metadata of its
// instances (registerMode instance | all), sync the registry, export metrics —
// every probeInterval, at once when a session changes, and an anti-entropy Verify every
// verifyInterval. On Stop() it removes its registrations first and then closes its sessions,
// within shutdownTimeout.
//
// Threading: Run() on one thread; Stop() and Wake() from any thread (not from a signal
// handler: use a sigwait thread). Never throws after construction.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zkop/agent/config.h"
#include "zkop/agent/desired.h"
#include "zkop/agent/diagnose.h"
#include "zkop/agent/metadata_publisher.h"
#include "zkop/agent/metrics.h"
#include "zkop/agent/probe.h"
#include "zkop/agent/registry.h"
#include "zkop/agent/resolve.h"
#include "zkop/agent/syncer.h"

namespace zkop::agent {

struct AgentDeps {
  RegistryStore* store = nullptr;  // not owned
  PortProbe* probe = nullptr;      // not owned
  EnvLookup env;
  AddressLister addresses;
  std::function<int64_t()> now_ms;  // wall clock in ms (URL timestamps)
  // Called after every round: ready = sessions up and the last sync converged.
  std::function<void(bool ready, const std::string& reason)> on_round;
  SyncOptions sync;  // path_budget is taken from the config
};

class Agent {
 public:
  // `declared` comes from Resolve(); a service with a config error is reported, never
  // registered (callers refuse to start when any exists).
  Agent(AgentConfig config, std::vector<Declared> declared, AgentDeps deps);

  void Run();
  void Stop();
  void Wake();
  AgentMetrics& metrics() { return metrics_; }
  const Syncer& syncer() const { return syncer_; }

 private:
  void Round(bool verify);
  void LogChanges(const Diagnosis& diagnosis);
  // Dubbo 3 metadata report and mapping of the desired instances; drops from `desired` the
  // instances whose metadata report is not in ZooKeeper yet.
  void PublishMetadata(std::vector<NodeKey>& desired, bool verify);
  void LogYielded();

  AgentConfig config_;
  std::vector<Declared> declared_;
  AgentDeps deps_;
  AgentMetrics metrics_;
  Registrations registrations_;  // renders syncer_'s nodes from config_ and declared_
  Syncer syncer_;
  MetadataPublisher publisher_;
  std::vector<NodeKey> last_yielded_;
  bool publish_ok_ = true;         // the last metadata publish wrote everything
  std::vector<size_t> last_seen_;  // per service: hash of the state last logged
  std::vector<std::string> last_conflicts_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
};

}  // namespace zkop::agent
