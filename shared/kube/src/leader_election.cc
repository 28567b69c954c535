#include "zkop/kube/leader_election.h"

#include <stdexcept>
#include <thread>

#include "zkop/kube/events.h"
#include "zkop/log/log.h"

namespace zkop::kube {

namespace {

const zkop::log::Logger& Log() {
  static const zkop::log::Logger logger("kube.leader");
  return logger;
}

std::string SpecString(const Json& spec, const char* key) {
  return spec.is_object() && spec.has_string_field(key) ? spec.at(key).as_string() : "";
}

int64_t SpecInt(const Json& spec, const char* key) {
  return spec.is_object() && spec.has_number_field(key) ? spec.at(key).as_number().to_int64() : 0;
}

std::string Now() { return FormatRfc3339(std::chrono::system_clock::now(), true); }

}  // namespace

LeaderElector::LeaderElector(std::shared_ptr<Client> client, LeaderElectionConfig config)
    : config_(std::move(config)) {
  if (config_.lease_name.empty() || config_.lease_namespace.empty() || config_.identity.empty()) {
    throw std::invalid_argument("leader election: lease namespace, name and identity are required");
  }
  if (config_.renew_deadline >= config_.lease_duration) {
    throw std::invalid_argument(
        "leader election: renew deadline must be shorter than the lease "
        "duration");
  }
  if (config_.retry_period >= config_.renew_deadline) {
    throw std::invalid_argument(
        "leader election: retry period must be shorter than the renew "
        "deadline");
  }
  if (config_.lease_duration < std::chrono::seconds(1)) {
    throw std::invalid_argument(
        "leader election: lease duration must be at least 1s "
        "(leaseDurationSeconds is whole seconds)");
  }
  ClientOptions o = client->options();
  o.max_attempts = 1;
  o.request_timeout = std::min(o.request_timeout, config_.renew_deadline / 2);
  client_ = client->WithOptions(o);
}

std::string LeaderElector::Leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_holder_;
}

void LeaderElector::ObserveHolder(const std::string& holder) {
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = holder != observed_holder_;
    observed_holder_ = holder;
  }
  if (changed && !holder.empty() && config_.on_new_leader) config_.on_new_leader(holder);
}

bool LeaderElector::TryAcquireOrRenew() {
  const ResourceRef lease = resources::Leases();
  auto now = std::chrono::steady_clock::now();
  int64_t duration_s = std::chrono::duration_cast<std::chrono::seconds>(
                           config_.lease_duration + std::chrono::milliseconds(999))
                           .count();

  Result<Json> current = client_->Get(lease, config_.lease_namespace, config_.lease_name);
  if (!current.ok()) {
    if (!current.Is(ErrorKind::kNotFound)) return false;
    Json obj = Json::object();
    obj["metadata"] = Json::object();
    obj["metadata"]["name"] = Json::string(config_.lease_name);
    obj["metadata"]["namespace"] = Json::string(config_.lease_namespace);
    Json spec = Json::object();
    spec["holderIdentity"] = Json::string(config_.identity);
    spec["leaseDurationSeconds"] = Json::number(duration_s);
    spec["acquireTime"] = Json::string(Now());
    spec["renewTime"] = spec["acquireTime"];
    spec["leaseTransitions"] = Json::number(0);
    obj["spec"] = spec;
    Result<Json> created = client_->Create(lease, config_.lease_namespace, obj);
    if (!created.ok()) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      observed_spec_ = spec;
      observed_time_ = now;
    }
    ObserveHolder(config_.identity);
    return true;
  }

  Json obj = current.value();
  Json old_spec = obj.has_object_field("spec") ? obj.at("spec") : Json::object();
  std::string holder = SpecString(old_spec, "holderIdentity");
  bool expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (old_spec.serialize() != observed_spec_.serialize()) {
      observed_spec_ = old_spec;
      observed_time_ = now;
    }
    int64_t observed_duration = SpecInt(old_spec, "leaseDurationSeconds");
    expired = observed_time_ + std::chrono::seconds(observed_duration) <= now;
  }
  ObserveHolder(holder);
  if (!holder.empty() && holder != config_.identity && !expired) return false;

  Json spec = old_spec;
  spec["holderIdentity"] = Json::string(config_.identity);
  spec["leaseDurationSeconds"] = Json::number(duration_s);
  spec["renewTime"] = Json::string(Now());
  if (holder != config_.identity) {
    spec["acquireTime"] = spec["renewTime"];
    spec["leaseTransitions"] = Json::number(SpecInt(old_spec, "leaseTransitions") + 1);
  }
  obj["spec"] = spec;
  Result<Json> updated = client_->Update(lease, config_.lease_namespace, obj);
  if (!updated.ok()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    observed_spec_ = spec;
    observed_time_ = now;
  }
  ObserveHolder(config_.identity);
  return true;
}

void LeaderElector::Release() {
  const ResourceRef lease = resources::Leases();
  Result<Json> current = client_->Get(lease, config_.lease_namespace, config_.lease_name);
  if (!current.ok()) return;
  Json obj = current.value();
  if (!obj.has_object_field("spec") ||
      SpecString(obj.at("spec"), "holderIdentity") != config_.identity) {
    return;
  }
  Json& spec = obj["spec"];
  spec["holderIdentity"] = Json::string("");
  spec["leaseDurationSeconds"] = Json::number(1);
  spec["renewTime"] = Json::string(Now());
  Result<Json> r = client_->Update(lease, config_.lease_namespace, obj);
  if (!r.ok()) Log().Warn("releasing the lease failed", {{"error", r.error().ToString()}});
}

void LeaderElector::Run(std::stop_token stop) {
  // Campaign: client-go jitters the retry period by up to 20%.
  Backoff jitter({config_.retry_period, config_.retry_period * 2, 1.0, 0.2});
  while (!TryAcquireOrRenew()) {
    if (!SleepFor(jitter.Delay(0), stop)) return;
  }
  leading_ = true;
  Log().Info("became leader", {{"lease", config_.lease_namespace + "/" + config_.lease_name},
                               {"identity", config_.identity}});
  std::stop_source leading;
  std::jthread work;
  if (config_.on_started_leading) {
    work = std::jthread([this, token = leading.get_token()] { config_.on_started_leading(token); });
  }

  // Renew until a whole renew_deadline passes without success, or stop.
  auto last_renew = std::chrono::steady_clock::now();
  while (SleepFor(config_.retry_period, stop)) {
    if (TryAcquireOrRenew()) {
      last_renew = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - last_renew >= config_.renew_deadline) {
      Log().Warn("could not renew the lease within the renew deadline; stepping down",
                 {{"lease", config_.lease_namespace + "/" + config_.lease_name}});
      break;
    }
  }
  leading_ = false;
  leading.request_stop();
  if (work.joinable()) work.join();
  if (stop.stop_requested() && config_.release_on_cancel) Release();
  if (config_.on_stopped_leading) config_.on_stopped_leading();
}

}  // namespace zkop::kube
