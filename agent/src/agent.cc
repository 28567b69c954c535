#include "zkop/agent/agent.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "zkop/log/log.h"

namespace zkop::agent {

namespace {
const log::Logger& Log() {
  static const log::Logger logger("agent");
  return logger;
}

SyncOptions WithBudget(SyncOptions o, int64_t budget) {
  o.path_budget = budget;
  return o;
}
}  // namespace

Agent::Agent(AgentConfig config, std::vector<Declared> declared, AgentDeps deps)
    : config_(std::move(config)),
      declared_(std::move(declared)),
      deps_(std::move(deps)),
      metrics_(config_.session_path_budget),
      registrations_(config_, declared_, static_cast<int64_t>(getpid())),
      syncer_(deps_.store, &registrations_, WithBudget(deps_.sync, config_.session_path_budget),
              [this] { Wake(); }),
      publisher_(deps_.sync.op_timeout) {
  // Resolved into declared_; not needed again (at 10,000 services its buffer alone is MBs).
  std::vector<ServiceConfig>().swap(config_.services);
  malloc_trim(0);
}

void Agent::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stop_ = true;
  cv_.notify_all();
}

void Agent::Wake() {
  std::lock_guard<std::mutex> l(mu_);
  woken_ = true;
  cv_.notify_all();
}

void Agent::LogChanges(const Diagnosis& diagnosis) {
  last_seen_.resize(declared_.size(), 0);
  for (size_t i = 0; i < declared_.size(); ++i) {
    const Decision& d = diagnosis.decisions[i];
    const Declared& s = declared_[i];
    size_t seen =
        std::hash<std::string>()(std::string(StateLabel(d.state)) + "\n" + d.reason + "\n" +
                                 std::to_string(d.registry_port) + "/" + std::to_string(d.pid));
    if (last_seen_[i] == seen) continue;
    last_seen_[i] = seen;
    if (d.state == ServiceState::kRegister) {
      Log().Info("registering", {{"service", s.key_path},
                                 {"interface", s.interface_name},
                                 {"host", s.host.str()},
                                 {"port", d.registry_port},
                                 {"pid", d.pid}});
    } else if (d.state == ServiceState::kNotListening) {
      Log().Info("not listening",
                 {{"service", s.key_path}, {"interface", s.interface_name}, {"reason", d.reason}});
    } else {
      Log().Warn(std::string(StateText(d.state)),
                 {{"service", s.key_path}, {"interface", s.interface_name}, {"reason", d.reason}});
    }
  }
  for (const auto& c : diagnosis.conflicts) {
    if (std::find(last_conflicts_.begin(), last_conflicts_.end(), c) == last_conflicts_.end()) {
      Log().Error("port conflict", {{"conflict", c}});
    }
  }
  for (const auto& c : last_conflicts_) {
    if (std::find(diagnosis.conflicts.begin(), diagnosis.conflicts.end(), c) ==
        diagnosis.conflicts.end()) {
      Log().Info("port conflict resolved", {{"conflict", c}});
    }
  }
  last_conflicts_ = diagnosis.conflicts;
}

void Agent::PublishMetadata(std::vector<NodeKey>& desired, bool verify) {
  if (config_.register_mode == RegisterMode::kInterface) return;
  std::vector<AppRecord> records = registrations_.AppRecords(desired);
  if (records.empty()) return;
  RegistrySession* session = syncer_.PrimarySession();
  // Not connected (the first round, a lost connection): the sync reports that; try later.
  bool ok =
      !session || !session->connected() ||
      publisher_.Publish(
          session, records,
          [this](uint32_t instance) { return registrations_.MetadataJson(instance); }, verify);
  if (ok != publish_ok_) {
    if (ok) {
      Log().Info("Dubbo 3 metadata report and mapping written");
    } else {
      std::string reasons;
      for (const auto& [reason, n] : publisher_.stats().errors) {
        reasons += (reasons.empty() ? "" : ",") + reason;
      }
      Log().Warn("Dubbo 3 metadata not written yet (retrying every round)",
                 {{"errors_so_far", reasons}});
    }
    publish_ok_ = ok;
  }
  metrics_.ObservePublish(publisher_.stats());
  for (const auto& r : records) {
    if (publisher_.Published(r)) continue;
    // A consumer that saw this instance now could not resolve its services: it waits.
    std::erase(desired, r.key);
  }
}

void Agent::LogYielded() {
  std::vector<NodeKey> now = syncer_.Yielded();
  for (const auto& key : now) {
    if (std::find(last_yielded_.begin(), last_yielded_.end(), key) != last_yielded_.end()) {
      continue;
    }
    Log().Info(
        "the provider registered this instance itself (another session, its own revision); "
        "leaving it alone",
        {{"path", registrations_.Path(key)},
         {"agent_revision", registrations_.Revision(key.index)}});
  }
  last_yielded_ = std::move(now);
}

void Agent::Round(bool verify) {
  auto start = std::chrono::steady_clock::now();
  ListenTable table = deps_.probe->Probe();
  if (!table.error.empty()) Log().Warn("port probe incomplete", {{"error", table.error}});
  Diagnosis diagnosis = Diagnose(declared_, table, *deps_.probe);
  std::vector<NodeKey> desired = registrations_.Desired(diagnosis, deps_.now_ms());
  LogChanges(diagnosis);
  PublishMetadata(desired, verify);
  uint64_t expirations = syncer_.stats().expirations;
  auto sync_start = std::chrono::steady_clock::now();
  bool ok = syncer_.Sync(desired);
  if (uint64_t now = syncer_.stats().expirations; now > expirations) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - sync_start)
                  .count();
    Log().Info(ok ? "ZooKeeper session replaced after expiry; registrations restored"
                  : "ZooKeeper session replaced after expiry; restoring registrations",
               {{"sessions", static_cast<unsigned long>(now - expirations)},
                {"registrations", static_cast<unsigned long>(desired.size())},
                {"sync_ms", static_cast<long>(ms)}});
  }
  if (verify) {
    size_t wrong = syncer_.Verify();
    if (wrong > 0) {
      Log().Warn("registrations were deleted or replaced behind the agent's back; restoring",
                 {{"count", static_cast<unsigned long>(wrong)}});
      ok = syncer_.Sync(desired);
    }
  }
  LogYielded();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.ObserveServices(diagnosis);
  metrics_.ObserveSync(syncer_.stats(), seconds);
  if (deps_.on_round) {
    bool up = syncer_.SessionsUp();
    deps_.on_round(up && ok, !up  ? "ZooKeeper session not connected"
                             : ok ? ""
                                  : "last registry sync did not complete");
  }
  // A round that created many nodes had requests, answers and rendered paths in flight
  // (~10 MB at 10,000 new nodes): give the freed pages back rather than keep them resident.
  desired = {};
  diagnosis = Diagnosis{};
  malloc_trim(0);
}

void Agent::Run() {
  auto next_verify = std::chrono::steady_clock::now() + config_.verify_interval;
  while (true) {
    bool verify = std::chrono::steady_clock::now() >= next_verify;
    if (verify) next_verify = std::chrono::steady_clock::now() + config_.verify_interval;
    Round(verify);
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, config_.probe_interval, [this] { return stop_ || woken_; });
    woken_ = false;
    if (stop_) break;
  }
  Log().Info("stopping: removing registrations, then closing the ZooKeeper sessions");
  auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
  bool removed = syncer_.RemoveAll(deadline);
  if (removed) {
    Log().Info("registrations removed; sessions closed");
  } else {
    Log().Warn(
        "not every registration could be removed before shutdownTimeout; the rest go "
        "when the session ends");
  }
  if (deps_.on_round) deps_.on_round(false, "stopping");
}

}  // namespace zkop::agent
