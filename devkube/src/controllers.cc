#include "controllers.h"

#include "json_util.h"
#include "workloads.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;
const log::Logger kLog("devkube.controllers");

std::vector<Json> Items(const Result<Json>& list) {
  std::vector<Json> out;
  if (list.ok())
    if (const Json* items = Find(list.value, {"items"}); items && items->is_array())
      for (const Json& i : items->as_array()) out.push_back(i);
  return out;
}

}  // namespace

ControllerManager::ControllerManager(Store& store, Options options)
    : store_(store), options_(std::move(options)) {
  auto watch = [&](const char* group, const char* resource, auto on_event) {
    auto sub = store_.Watch({group, "v1", resource, "", std::nullopt}, on_event);
    if (sub.ok()) subscriptions_.push_back(std::move(sub.value));
  };
  auto ns_of = [](const Json& o) { return GetString(o, {"metadata", "namespace"}); };
  auto name_of = [](const Json& o) { return GetString(o, {"metadata", "name"}); };
  watch("apps", "deployments", [this, ns_of, name_of](const WatchEvent& ev) {
    Enqueue({'D', ns_of(ev.object), name_of(ev.object)});
  });
  watch("apps", "replicasets", [this, ns_of, name_of](const WatchEvent& ev) {
    Enqueue({'R', ns_of(ev.object), name_of(ev.object)});
    std::string owner = ControllerName(ev.object, "Deployment");
    if (!owner.empty()) Enqueue({'D', ns_of(ev.object), owner});
  });
  watch("", "pods", [this, ns_of](const WatchEvent& ev) {
    std::string owner = ControllerName(ev.object, "ReplicaSet");
    if (!owner.empty()) Enqueue({'R', ns_of(ev.object), owner});
  });
  if (options_.service_accounts) {
    watch("", "namespaces", [this, name_of](const WatchEvent& ev) {
      if (ev.type != WatchEvent::Type::kDeleted) Enqueue({'N', "", name_of(ev.object)});
    });
    watch("", "serviceaccounts", [this, ns_of](const WatchEvent& ev) {
      if (ev.type == WatchEvent::Type::kDeleted) Enqueue({'N', "", ns_of(ev.object)});
    });
    watch("", "configmaps", [this, ns_of, name_of](const WatchEvent& ev) {
      if (name_of(ev.object) == "kube-root-ca.crt") Enqueue({'N', "", ns_of(ev.object)});
    });
  }
  worker_ = std::thread([this] { Run(); });
}

ControllerManager::~ControllerManager() {
  subscriptions_.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ControllerManager::Enqueue(Key key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.insert(std::move(key));
  }
  cv_.notify_one();
}

void ControllerManager::Run() {
  auto next_resync = std::chrono::steady_clock::now() + options_.resync;
  while (true) {
    Key key;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, next_resync, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      if (queue_.empty()) {
        lock.unlock();
        next_resync = std::chrono::steady_clock::now() + options_.resync;
        ResyncAll();
        continue;
      }
      key = *queue_.begin();
      queue_.erase(queue_.begin());
    }
    Sync(key);
  }
}

void ControllerManager::ResyncAll() {
  for (const Json& d : Items(store_.List({"apps", "v1", "deployments", "", "", ""}, {})))
    Enqueue({'D', GetString(d, {"metadata", "namespace"}), GetString(d, {"metadata", "name"})});
  for (const Json& rs : Items(store_.List({"apps", "v1", "replicasets", "", "", ""}, {})))
    Enqueue({'R', GetString(rs, {"metadata", "namespace"}), GetString(rs, {"metadata", "name"})});
}

void ControllerManager::Sync(const Key& key) {
  const auto now = Clock::now();
  if (key.kind == 'D')
    SyncDeployment(store_, key.ns, key.name, now);
  else if (key.kind == 'R')
    SyncReplicaSet(store_, key.ns, key.name, now);
  else if (key.kind == 'N')
    SyncNamespace(key.name);
}

void ControllerManager::SyncNamespace(const std::string& ns) {
  auto got = store_.Get({"", "v1", "namespaces", "", ns, ""});
  if (!got.ok() || GetString(got.value, {"status", "phase"}) == "Terminating") return;
  if (!store_.Get({"", "v1", "serviceaccounts", ns, "default", ""}).ok()) {
    Json sa = Json::object();
    sa["apiVersion"] = Json::string("v1");
    sa["kind"] = Json::string("ServiceAccount");
    sa["metadata"] = Json::object();
    sa["metadata"]["name"] = Json::string("default");
    sa["metadata"]["namespace"] = Json::string(ns);
    auto r = store_.Create({"", "v1", "serviceaccounts", ns, "", ""}, sa);
    if (!r.ok() && r.status.code != 409)
      kLog.Debug("cannot create the default service account",
                 {{"namespace", ns}, {"error", r.status.message}});
  }
  auto cm = store_.Get({"", "v1", "configmaps", ns, "kube-root-ca.crt", ""});
  if (!cm.ok() || GetString(cm.value, {"data", "ca.crt"}) != options_.ca_pem) {
    Json obj = Json::object();
    obj["apiVersion"] = Json::string("v1");
    obj["kind"] = Json::string("ConfigMap");
    obj["metadata"] = Json::object();
    obj["metadata"]["name"] = Json::string("kube-root-ca.crt");
    obj["metadata"]["namespace"] = Json::string(ns);
    obj["metadata"]["annotations"] = Json::object();
    obj["metadata"]["annotations"]["kubernetes.io/description"] = Json::string(
        "Contains a CA bundle that can be used to verify the kube-apiserver when using "
        "internal endpoints such as the internal service IP or kubernetes.default.svc. No "
        "other usage is guaranteed across distributions of Kubernetes clusters.");
    obj["data"] = Json::object();
    obj["data"]["ca.crt"] = Json::string(options_.ca_pem);
    if (cm.ok())
      store_.Update({"", "v1", "configmaps", ns, "kube-root-ca.crt", ""}, obj);
    else
      store_.Create({"", "v1", "configmaps", ns, "", ""}, obj);
  }
}

}  // namespace zkop::devkube
