// Workload defaults, shared pod helpers and the ReplicaSet controller
// (k8s.io/kubernetes/pkg/controller/replicaset).
#include <algorithm>

#include "workloads.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;
const log::Logger kLog("devkube.replicaset");
constexpr int64_t kBurstReplicas = 500;  // the real controller's per-sync cap

void SetIfAbsent(Json& obj, const std::string& key, Json value) {
  if (!HasKey(obj, key) || obj.at(key).is_null()) obj[key] = std::move(value);
}

void DefaultPodSpec(Json& spec) {
  SetIfAbsent(spec, "restartPolicy", Json::string("Always"));
  SetIfAbsent(spec, "terminationGracePeriodSeconds", Json::number(30));
  SetIfAbsent(spec, "dnsPolicy", Json::string("ClusterFirst"));
  SetIfAbsent(spec, "schedulerName", Json::string("default-scheduler"));
  SetIfAbsent(spec, "securityContext", Json::object());
  for (const char* list : {"containers", "initContainers"}) {
    if (!HasKey(spec, list) || !spec.at(list).is_array()) continue;
    Json& cs = spec[list];
    for (size_t i = 0; i < cs.size(); ++i) {
      Json& c = cs[i];
      if (!c.is_object()) continue;
      SetIfAbsent(c, "resources", Json::object());
      SetIfAbsent(c, "terminationMessagePath", Json::string("/dev/termination-log"));
      SetIfAbsent(c, "terminationMessagePolicy", Json::string("File"));
      const std::string image = GetString(c, {"image"});
      const size_t slash = image.rfind('/');
      const size_t colon = image.find(':', slash == std::string::npos ? 0 : slash);
      const bool latest = image.find('@') == std::string::npos &&
                          (colon == std::string::npos || image.substr(colon + 1) == "latest");
      SetIfAbsent(c, "imagePullPolicy", Json::string(latest ? "Always" : "IfNotPresent"));
      if (HasKey(c, "ports") && c.at("ports").is_array())
        for (size_t j = 0; j < c["ports"].size(); ++j)
          if (c["ports"][j].is_object())
            SetIfAbsent(c["ports"][j], "protocol", Json::string("TCP"));
    }
  }
}

int64_t Int(const Json& obj, std::initializer_list<std::string_view> path, int64_t fallback) {
  const Json* v = Find(obj, path);
  return v && v->is_integer() ? v->as_number().to_int64() : fallback;
}

bool Terminating(const Json& pod) {
  const std::string phase = GetString(pod, {"status", "phase"});
  return !GetString(pod, {"metadata", "deletionTimestamp"}).empty() || phase == "Succeeded" ||
         phase == "Failed";
}

bool Matches(const Json& labels, const Json* selector) {
  if (!selector || !selector->is_object()) return false;
  for (const auto& [k, v] : selector->as_object())
    if (!labels.is_object() || !labels.has_field(k) || labels.at(k) != v) return false;
  return true;
}

// The real controller's deletion preference (controller.ActivePods): unscheduled, then
// pending, then not ready, then the newest first.
bool DeleteFirst(const Json& a, const Json& b) {
  auto rank = [](const Json& p) {
    int scheduled = GetString(p, {"spec", "nodeName"}).empty() ? 0 : 1;
    const std::string phase = GetString(p, {"status", "phase"});
    int running = phase == "Pending" ? 0 : phase == "Running" ? 2 : 1;
    return std::make_tuple(scheduled, running, PodReady(p) ? 1 : 0);
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  return GetString(a, {"metadata", "creationTimestamp"}) >
         GetString(b, {"metadata", "creationTimestamp"});
}

}  // namespace

void DefaultWorkload(const std::string& resource, Json& object) {
  if (resource != "deployments" && resource != "replicasets") return;
  Json& spec = Child(object, "spec");
  SetIfAbsent(spec, "replicas", Json::number(1));
  if (resource == "deployments") {
    Json& strategy = Child(spec, "strategy");
    SetIfAbsent(strategy, "type", Json::string("RollingUpdate"));
    if (GetString(strategy, {"type"}) == "RollingUpdate") {
      Json& ru = Child(strategy, "rollingUpdate");
      SetIfAbsent(ru, "maxUnavailable", Json::string("25%"));
      SetIfAbsent(ru, "maxSurge", Json::string("25%"));
    }
    SetIfAbsent(spec, "revisionHistoryLimit", Json::number(10));
    SetIfAbsent(spec, "progressDeadlineSeconds", Json::number(600));
  }
  if (HasKey(spec, "template") && spec.at("template").is_object()) {
    Json& tmpl = spec["template"];
    // Go encodes the template's zero creationTimestamp as null, so the real server shows it.
    Json& meta = Child(tmpl, "metadata");
    if (!HasKey(meta, "creationTimestamp")) meta["creationTimestamp"] = Json::null();
    DefaultPodSpec(Child(tmpl, "spec"));
  }
}

std::string PodTemplateHash(const Json& pod_template, int64_t collision_count) {
  std::string data = pod_template.serialize();
  if (collision_count > 0) data += std::to_string(collision_count);
  uint32_t h = 2166136261u;
  for (unsigned char c : data) {
    h ^= c;
    h *= 16777619u;
  }
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char digit : std::to_string(h)) out += kAlphabet[static_cast<unsigned char>(digit) % 27];
  return out;
}

bool PodReady(const Json& pod) {
  if (const Json* cs = Find(pod, {"status", "conditions"}); cs && cs->is_array())
    for (const Json& c : cs->as_array())
      if (GetString(c, {"type"}) == "Ready") return GetString(c, {"status"}) == "True";
  return false;
}

bool PodAvailable(const Json& pod, int64_t min_ready_seconds, Clock::time_point now,
                  std::chrono::milliseconds* available_in) {
  if (!PodReady(pod)) return false;
  if (min_ready_seconds <= 0) return true;
  std::string since;
  if (const Json* cs = Find(pod, {"status", "conditions"}); cs && cs->is_array())
    for (const Json& c : cs->as_array())
      if (GetString(c, {"type"}) == "Ready") since = GetString(c, {"lastTransitionTime"});
  auto t = ParseTime(since);
  if (!t) return true;
  auto at = *t + std::chrono::seconds(min_ready_seconds);
  if (now >= at) return true;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(at - now);
  if (available_in && (available_in->count() == 0 || wait < *available_in)) *available_in = wait;
  return false;
}

std::string ControllerUid(const Json& object, const std::string& kind) {
  if (const Json* refs = Find(object, {"metadata", "ownerReferences"}); refs && refs->is_array())
    for (const Json& r : refs->as_array()) {
      const Json* c = Find(r, {"controller"});
      if (c && c->is_boolean() && c->as_bool() && GetString(r, {"kind"}) == kind)
        return GetString(r, {"uid"});
    }
  return "";
}

std::string ControllerName(const Json& object, const std::string& kind) {
  if (const Json* refs = Find(object, {"metadata", "ownerReferences"}); refs && refs->is_array())
    for (const Json& r : refs->as_array()) {
      const Json* c = Find(r, {"controller"});
      if (c && c->is_boolean() && c->as_bool() && GetString(r, {"kind"}) == kind)
        return GetString(r, {"name"});
    }
  return "";
}

std::chrono::milliseconds SyncReplicaSet(Store& store, const std::string& ns,
                                         const std::string& name, Clock::time_point now) {
  auto rs = store.Get({"apps", "v1", "replicasets", ns, name, ""});
  if (!rs.ok() || !GetString(rs.value, {"metadata", "deletionTimestamp"}).empty()) return {};
  const std::string uid = GetString(rs.value, {"metadata", "uid"});
  const Json* selector = Find(rs.value, {"spec", "selector", "matchLabels"});
  auto owned = [&] {
    std::vector<Json> out;
    auto pods = store.List({"", "v1", "pods", ns, "", ""}, {});
    if (pods.ok())
      for (const Json& p : pods.value.at("items").as_array())
        if (ControllerUid(p, "ReplicaSet") == uid) out.push_back(p);
    return out;
  };
  std::vector<Json> pods = owned();
  std::vector<Json> active;
  for (const Json& p : pods)
    if (!Terminating(p)) active.push_back(p);
  const int64_t desired = Int(rs.value, {"spec", "replicas"}, 1);
  const int64_t diff = static_cast<int64_t>(active.size()) - desired;
  if (diff < 0) {
    const Json tmpl = rs.value.at("spec").has_field("template") ? rs.value.at("spec").at("template")
                                                                : Json::object();
    for (int64_t i = 0; i < std::min(-diff, kBurstReplicas); ++i) {
      Json pod = Json::object();
      pod["apiVersion"] = Json::string("v1");
      pod["kind"] = Json::string("Pod");
      Json meta = Json::object();
      meta["generateName"] = Json::string(name + "-");
      meta["namespace"] = Json::string(ns);
      if (const Json* l = Find(tmpl, {"metadata", "labels"})) meta["labels"] = *l;
      if (const Json* a = Find(tmpl, {"metadata", "annotations"})) meta["annotations"] = *a;
      Json owner = Json::object();
      owner["apiVersion"] = Json::string("apps/v1");
      owner["kind"] = Json::string("ReplicaSet");
      owner["name"] = Json::string(name);
      owner["uid"] = Json::string(uid);
      owner["controller"] = Json::boolean(true);
      owner["blockOwnerDeletion"] = Json::boolean(true);
      meta["ownerReferences"] = Json::array({owner});
      pod["metadata"] = meta;
      pod["spec"] = tmpl.has_field("spec") ? tmpl.at("spec") : Json::object();
      auto created = store.Create({"", "v1", "pods", ns, "", ""}, pod);
      if (!created.ok()) {
        kLog.Warn("cannot create pod",
                  {{"replicaset", ns + "/" + name}, {"error", created.status.message}});
        break;
      }
    }
  } else if (diff > 0) {
    std::sort(active.begin(), active.end(), DeleteFirst);
    for (int64_t i = 0; i < std::min(diff, kBurstReplicas); ++i)
      store.Delete({"", "v1", "pods", ns,
                    GetString(active[static_cast<size_t>(i)], {"metadata", "name"}), ""});
  }
  if (diff != 0) pods = owned();
  // Status (calculateStatus): terminating and finished pods do not count.
  const int64_t min_ready = Int(rs.value, {"spec", "minReadySeconds"}, 0);
  std::chrono::milliseconds again{0};
  int64_t replicas = 0, labeled = 0, ready = 0, available = 0;
  const Json* tmpl_labels = Find(rs.value, {"spec", "template", "metadata", "labels"});
  for (const Json& p : pods) {
    if (Terminating(p)) continue;
    ++replicas;
    const Json* labels = Find(p, {"metadata", "labels"});
    if (!tmpl_labels || Matches(labels ? *labels : Json::null(), tmpl_labels)) ++labeled;
    if (PodReady(p)) ++ready;
    if (PodAvailable(p, min_ready, now, &again)) ++available;
  }
  (void)selector;
  Json status = Json::object();
  status["replicas"] = Json::number(replicas);
  status["fullyLabeledReplicas"] = Json::number(labeled);
  status["readyReplicas"] = Json::number(ready);
  status["availableReplicas"] = Json::number(available);
  status["observedGeneration"] = Json::number(Int(rs.value, {"metadata", "generation"}, 1));
  const Json* old = Find(rs.value, {"status"});
  bool same = old && old->is_object();
  if (same)
    for (const auto& [k, v] : status.as_object())
      if (!old->has_field(k) || old->at(k) != v) same = false;
  if (!same) {
    Json patch = Json::object();
    patch["status"] = status;
    store.Patch({"apps", "v1", "replicasets", ns, name, "status"}, PatchType::kMerge,
                patch.serialize());
  }
  return again;
}

}  // namespace zkop::devkube
