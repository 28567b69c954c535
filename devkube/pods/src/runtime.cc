#include "zkop/devkube/pods/runtime.h"

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "pod_worker.h"
#include "zkop/devkube/pods/address_pool.h"
#include "zkop/devkube/pods/hosts_file.h"
#include "zkop/devkube/pods/volumes.h"
#include "zkop/log/log.h"

namespace zkop::devkube::pods {
namespace {

using web::json::value;
const log::Logger kLog("devkube.pods");

std::string Str(const value& v, std::initializer_list<const char*> path) {
  const value* cur = &v;
  for (const char* p : path) {
    if (!cur->is_object() || !cur->has_field(p)) return "";
    cur = &cur->at(p);
  }
  return cur->is_string() ? cur->as_string() : "";
}

std::string Key(const std::string& ns, const std::string& name) { return ns + "/" + name; }
std::string Key(const value& obj) {
  return Key(Str(obj, {"metadata", "namespace"}), Str(obj, {"metadata", "name"}));
}

std::string MachineHostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

class PodRuntime::Impl : public PodHost {
 public:
  Impl(Cluster& cluster, RuntimeOptions options, std::unique_ptr<ProcessLauncher> launcher,
       std::unique_ptr<Prober> prober)
      : cluster_(cluster),
        options_(std::move(options)),
        launcher_(launcher ? std::move(launcher) : MakeSystemLauncher()),
        prober_(prober ? std::move(prober) : MakeSystemProber(*launcher_)),
        pool_(options_.address_range, options_.address_lock_dir),
        machine_hostname_(MachineHostname()) {
    if (options_.state_dir.empty()) throw std::runtime_error("pod runtime: state_dir is required");
    std::string error;
    if (!MakeDirs(options_.state_dir + "/pods", 0755, &error) ||
        !MakeDirs(options_.state_dir + "/claims", 0755, &error)) {
      throw std::runtime_error("pod runtime: " + error);
    }
    dispatcher_ = std::thread([this] { Dispatch(); });
    feed_ = cluster_.Watch([this](ClusterEvent e) { Enqueue(std::move(e)); }, &error);
    if (!feed_) {
      Shutdown();
      throw std::runtime_error("pod runtime: cannot watch the API: " + error);
    }
  }

  ~Impl() override { Shutdown(); }

  void Shutdown() {
    feed_.reset();
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
      queue_cv_.notify_all();
    }
    if (dispatcher_.joinable()) dispatcher_.join();
    std::map<std::string, std::shared_ptr<PodWorker>> workers;
    {
      std::lock_guard lock(mu_);
      workers = workers_;
    }
    for (auto& [uid, w] : workers) w->Stop();
    for (auto& [uid, w] : workers) w->Join();
    std::lock_guard lock(mu_);
    workers_.clear();
  }

  // PodHost.
  const RuntimeOptions& options() const override { return options_; }
  Cluster& cluster() override { return cluster_; }
  ProcessLauncher& launcher() override { return *launcher_; }
  Prober& prober() override { return *prober_; }

  std::optional<value> Lookup(ObjectKind kind, const std::string& ns,
                              const std::string& name) override {
    std::lock_guard lock(mu_);
    const auto& objects = objects_[kind];
    auto it = objects.find(Key(ns, name));
    if (it == objects.end()) return std::nullopt;
    return it->second;
  }

  std::optional<std::string> AcquireAddress(const std::string& key) override {
    return pool_.Acquire(key);
  }

  void SetEndpoint(const std::string& uid, const PodEndpoint& endpoint,
                   const std::string& hosts_file) override {
    std::lock_guard lock(mu_);
    endpoints_[uid] = {endpoint, hosts_file};
    RefreshHostsLocked();
  }

  void RemoveEndpoint(const std::string& uid) override {
    std::lock_guard lock(mu_);
    auto it = endpoints_.find(uid);
    if (it == endpoints_.end()) return;
    pool_.Release(it->second.endpoint.ip);
    written_.erase(it->second.hosts_file);
    endpoints_.erase(it);
    RefreshHostsLocked();
  }

  std::string ClaimDir(const value& claim) override {
    const std::string dir = ClaimPath(claim);
    std::string error;
    if (!MakeDirs(dir, 0777, &error))
      kLog.Error("cannot create claim directory", {{"error", error}});
    return dir;
  }

  void WorkerDone(const std::string& uid) override {
    std::lock_guard lock(queue_mu_);
    finished_.push_back(uid);
    queue_cv_.notify_all();
  }

  // Queries.
  // The newest worker of a Pod name (an older one may still be stopping).
  std::shared_ptr<PodWorker> FindWorker(const std::string& ns, const std::string& pod) {
    std::lock_guard lock(mu_);
    auto it = latest_.find(Key(ns, pod));
    if (it == latest_.end()) return nullptr;
    auto w = workers_.find(it->second);
    return w == workers_.end() ? nullptr : w->second;
  }
  std::string ClaimDirFor(const std::string& ns, const std::string& claim) {
    std::lock_guard lock(mu_);
    auto it = objects_[ObjectKind::kClaim].find(Key(ns, claim));
    return it == objects_[ObjectKind::kClaim].end() ? "" : ClaimPath(it->second);
  }

 private:
  struct EndpointEntry {
    PodEndpoint endpoint;
    std::string hosts_file;
  };

  std::string ClaimPath(const value& claim) const {
    return options_.state_dir + "/claims/" + Str(claim, {"metadata", "namespace"}) + "/" +
           Str(claim, {"metadata", "name"}) + "_" + Str(claim, {"metadata", "uid"});
  }

  void Enqueue(ClusterEvent e) {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(std::move(e));
    queue_cv_.notify_all();
  }

  void Dispatch() {
    while (true) {
      std::deque<ClusterEvent> batch;
      std::vector<std::string> finished;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !finished_.empty(); });
        if (stopping_) return;
        batch.swap(queue_);
        finished.swap(finished_);
      }
      for (const auto& uid : finished) Reap(uid);
      for (auto& e : batch) Apply(e);
    }
  }

  void Reap(const std::string& uid) {
    std::shared_ptr<PodWorker> w;
    {
      std::lock_guard lock(mu_);
      auto it = workers_.find(uid);
      if (it == workers_.end()) return;
      w = it->second;
      workers_.erase(it);
      if (latest_[names_[uid]] == uid) latest_.erase(names_[uid]);
      names_.erase(uid);
      pod_claims_.erase(uid);
    }
    w->Join();
    CollectClaims();
  }

  void Apply(const ClusterEvent& e) {
    const std::string key = Key(e.object);
    switch (e.kind) {
      case ObjectKind::kPod:
        ApplyPod(e);
        return;
      case ObjectKind::kClaim:
        ApplyClaim(e);
        return;
      case ObjectKind::kService:
      case ObjectKind::kConfigMap:
      case ObjectKind::kSecret: {
        std::lock_guard lock(mu_);
        if (e.deleted) {
          objects_[e.kind].erase(key);
        } else {
          objects_[e.kind][key] = e.object;
        }
        if (e.kind == ObjectKind::kService) {
          RefreshHostsLocked();
        } else {
          for (auto& [uid, w] : workers_) w->Wake();
        }
        return;
      }
    }
  }

  void ApplyPod(const ClusterEvent& e) {
    const std::string uid = Str(e.object, {"metadata", "uid"});
    const std::string node = Str(e.object, {"spec", "nodeName"});
    if (!node.empty() && node != options_.node_name) return;
    std::shared_ptr<PodWorker> w;
    {
      std::lock_guard lock(mu_);
      auto it = workers_.find(uid);
      if (it != workers_.end()) w = it->second;
    }
    if (w) {
      if (e.deleted) {
        w->Gone();
      } else {
        w->Update(e.object);
      }
      return;
    }
    if (e.deleted) return;
    const std::string phase = Str(e.object, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") return;
    if (!Str(e.object, {"metadata", "deletionTimestamp"}).empty()) {
      // Marked for deletion and nothing of it runs here: confirm at once.
      std::string error;
      cluster_.ConfirmPodDeletion(Str(e.object, {"metadata", "namespace"}),
                                  Str(e.object, {"metadata", "name"}), uid, &error);
      return;
    }
    w = std::make_shared<PodWorker>(*this, e.object);
    {
      std::lock_guard lock(mu_);
      workers_[uid] = w;
      names_[uid] = Key(e.object);
      latest_[Key(e.object)] = uid;
      pod_claims_[uid] = ClaimsOf(e.object);
    }
    w->Start();
  }

  void ApplyClaim(const ClusterEvent& e) {
    const std::string key = Key(e.object);
    {
      std::lock_guard lock(mu_);
      if (e.deleted) {
        objects_[ObjectKind::kClaim].erase(key);
      } else {
        objects_[ObjectKind::kClaim][key] = e.object;
      }
      for (auto& [uid, w] : workers_) w->Wake();
    }
    if (e.deleted) {
      CollectClaims();
      return;
    }
    if (Str(e.object, {"status", "phase"}) == "Bound") return;
    ClaimDir(e.object);
    value status = value::object();
    status["phase"] = value::string("Bound");
    const value& spec = e.object.has_field("spec") ? e.object.at("spec") : value::object();
    if (spec.has_field("accessModes")) status["accessModes"] = spec.at("accessModes");
    if (spec.has_field("resources") && spec.at("resources").has_field("requests")) {
      status["capacity"] = spec.at("resources").at("requests");
    }
    std::string error;
    if (!cluster_.PatchClaimStatus(Str(e.object, {"metadata", "namespace"}),
                                   Str(e.object, {"metadata", "name"}), status, &error)) {
      kLog.Warn("cannot mark claim Bound", {{"claim", key}, {"error", error}});
    }
  }

  // Removes the directories of claims that no longer exist, unless a live Pod still mounts
  // them (then they go when that Pod's worker ends).
  void CollectClaims() {
    namespace fs = std::filesystem;
    std::lock_guard lock(mu_);
    std::set<std::string> wanted;
    for (const auto& [key, claim] : objects_[ObjectKind::kClaim]) wanted.insert(ClaimPath(claim));
    std::set<std::string> mounted;  // "ns/claim" of live pods' volumes
    for (const auto& [uid, claims] : pod_claims_) mounted.insert(claims.begin(), claims.end());
    std::error_code ec;
    std::vector<fs::path> stale;
    for (auto ns_it = fs::directory_iterator(options_.state_dir + "/claims", ec);
         !ec && ns_it != fs::directory_iterator(); ns_it.increment(ec)) {
      std::error_code ec2;
      for (auto it = fs::directory_iterator(ns_it->path(), ec2);
           !ec2 && it != fs::directory_iterator(); it.increment(ec2)) {
        const std::string dir = it->path().filename().string();
        const std::string claim =
            ns_it->path().filename().string() + "/" + dir.substr(0, dir.rfind('_'));
        if (!wanted.count(it->path().string()) && !mounted.count(claim)) {
          stale.push_back(it->path());
        }
      }
    }
    for (const auto& p : stale) {
      std::string error;
      if (RemoveTree(p.string(), &error)) {
        kLog.Info("claim directory removed", {{"path", p.string()}});
      } else {
        kLog.Error("cannot remove claim directory", {{"error", error}});
      }
    }
  }

  static std::set<std::string> ClaimsOf(const value& pod) {
    std::set<std::string> out;
    const std::string ns = Str(pod, {"metadata", "namespace"});
    if (!pod.has_field("spec") || !pod.at("spec").has_field("volumes") ||
        !pod.at("spec").at("volumes").is_array()) {
      return out;
    }
    for (const auto& v : pod.at("spec").at("volumes").as_array()) {
      const std::string claim = Str(v, {"persistentVolumeClaim", "claimName"});
      if (!claim.empty()) out.insert(ns + "/" + claim);
    }
    return out;
  }

  void RefreshHostsLocked() {
    std::vector<PodEndpoint> pods;
    for (const auto& [uid, e] : endpoints_) pods.push_back(e.endpoint);
    std::vector<ServiceRecord> services;
    for (const auto& [key, svc] : objects_[ObjectKind::kService]) {
      ServiceRecord r;
      r.ns = Str(svc, {"metadata", "namespace"});
      r.name = Str(svc, {"metadata", "name"});
      if (svc.has_field("spec")) {
        const value& spec = svc.at("spec");
        if (spec.has_field("selector") && spec.at("selector").is_object()) {
          for (const auto& [k, v] : spec.at("selector").as_object()) {
            if (v.is_string()) r.selector[k] = v.as_string();
          }
        }
        r.publish_not_ready = spec.has_field("publishNotReadyAddresses") &&
                              spec.at("publishNotReadyAddresses").is_boolean() &&
                              spec.at("publishNotReadyAddresses").as_bool();
      }
      services.push_back(std::move(r));
    }
    for (const auto& [uid, e] : endpoints_) {
      const std::string text =
          RenderHostsFile(pods, services, e.endpoint, options_.cluster_domain, machine_hostname_);
      if (written_[e.hosts_file] == text) continue;
      std::string error;
      if (WriteFileAtomically(e.hosts_file, text, 0644, &error)) {
        written_[e.hosts_file] = text;
      } else {
        kLog.Error("cannot write hosts file", {{"error", error}});
      }
    }
  }

  Cluster& cluster_;
  const RuntimeOptions options_;
  std::unique_ptr<ProcessLauncher> launcher_;
  std::unique_ptr<Prober> prober_;
  AddressPool pool_;
  const std::string machine_hostname_;

  std::mutex mu_;  // guards everything below up to the queue
  std::map<ObjectKind, std::map<std::string, value>> objects_;  // kind -> ns/name -> object
  std::map<std::string, std::shared_ptr<PodWorker>> workers_;   // uid -> worker
  std::map<std::string, std::string> names_;                    // uid -> ns/name
  std::map<std::string, std::string> latest_;                   // ns/name -> newest uid
  std::map<std::string, std::set<std::string>> pod_claims_;     // uid -> "ns/claim" mounted
  std::map<std::string, EndpointEntry> endpoints_;              // uid -> DNS identity
  std::map<std::string, std::string> written_;                  // hosts file -> content

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<ClusterEvent> queue_;
  std::vector<std::string> finished_;
  bool stopping_ = false;
  std::thread dispatcher_;
  std::unique_ptr<ClusterFeed> feed_;
};

PodRuntime::PodRuntime(Cluster& cluster, RuntimeOptions options,
                       std::unique_ptr<ProcessLauncher> launcher, std::unique_ptr<Prober> prober)
    : impl_(std::make_unique<Impl>(cluster, std::move(options), std::move(launcher),
                                   std::move(prober))) {}

PodRuntime::~PodRuntime() = default;

std::string PodRuntime::LogPath(const std::string& ns, const std::string& pod,
                                const std::string& container) const {
  auto w = impl_->FindWorker(ns, pod);
  return w ? w->LogPath(container) : "";
}

std::string PodRuntime::VolumeDir(const std::string& ns, const std::string& pod,
                                  const std::string& volume) const {
  auto w = impl_->FindWorker(ns, pod);
  return w ? w->pod_dir() + "/volumes/" + volume : "";
}

std::string PodRuntime::ClaimDir(const std::string& ns, const std::string& claim) const {
  return impl_->ClaimDirFor(ns, claim);
}

std::string PodRuntime::HostsFile(const std::string& ns, const std::string& pod) const {
  auto w = impl_->FindWorker(ns, pod);
  return w ? w->pod_dir() + "/hosts" : "";
}

}  // namespace zkop::devkube::pods
