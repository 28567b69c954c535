// The Deployment controller (k8s.io/kubernetes/pkg/controller/deployment): one ReplicaSet per
// pod template (name <deployment>-<pod-template-hash>), rolling updates within maxSurge /
// maxUnavailable counting only available Pods, Recreate, revisions
// (deployment.kubernetes.io/revision; a template that returns to an old ReplicaSet — kubectl
// rollout undo — gives it the next revision), history cleanup (revisionHistoryLimit), status
// counts and the Available / Progressing conditions with the real reasons and messages.
#include <algorithm>
#include <cmath>

#include "workloads.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;
const log::Logger kLog("devkube.deployment");
const char kRevision[] = "deployment.kubernetes.io/revision";
const char kHashLabel[] = "pod-template-hash";

int64_t Int(const Json& obj, std::initializer_list<std::string_view> path, int64_t fallback) {
  const Json* v = Find(obj, path);
  return v && v->is_integer() ? v->as_number().to_int64() : fallback;
}

int64_t Revision(const Json& rs) {
  std::string r = GetString(rs, {"metadata", "annotations", kRevision});
  if (r.empty() || r.size() > 18 || r.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::stoll(r);
}

// An int-or-percent field resolved against `total` (intstr.GetScaledValueFromIntOrPercent).
int64_t Scaled(const Json* v, int64_t total, bool round_up, int64_t fallback) {
  if (!v) return fallback;
  if (v->is_integer()) return v->as_number().to_int64();
  if (!v->is_string()) return fallback;
  std::string s = v->as_string();
  if (s.empty() || s.back() != '%' || s.size() > 5) return fallback;
  s.pop_back();
  if (s.find_first_not_of("0123456789") != std::string::npos || s.empty()) return fallback;
  double x = static_cast<double>(std::stoll(s)) * static_cast<double>(total) / 100.0;
  return static_cast<int64_t>(round_up ? std::ceil(x) : std::floor(x));
}

// Drops nulls and empty objects, so templates compare like Go structs do (a client sending
// `creationTimestamp: null` or `resources: {}` means the same template).
Json Normalized(const Json& v) {
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, child] : v.as_object()) {
      Json n = Normalized(child);
      if (n.is_null() || (n.is_object() && n.size() == 0)) continue;
      out[k] = n;
    }
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < v.size(); ++i) out[i] = Normalized(v.at(i));
    return out;
  }
  return v;
}

Json WithoutHash(Json tmpl) {
  if (tmpl.is_object() && tmpl.has_field("metadata") && tmpl.at("metadata").has_field("labels")) {
    Json& labels = tmpl["metadata"]["labels"];
    EraseKey(labels, kHashLabel);
    if (labels.size() == 0) EraseKey(tmpl["metadata"], "labels");
  }
  return Normalized(tmpl);
}

bool ScaleReplicaSet(Store& store, const Json& rs, int64_t replicas) {
  if (Int(rs, {"spec", "replicas"}, 1) == replicas) return false;
  Json patch = Json::object();
  patch["spec"] = Json::object();
  patch["spec"]["replicas"] = Json::number(replicas);
  store.Patch({"apps", "v1", "replicasets", GetString(rs, {"metadata", "namespace"}),
               GetString(rs, {"metadata", "name"}), ""},
              PatchType::kMerge, patch.serialize());
  return true;
}

Json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, const std::string& now, const Json* previous) {
  Json c = Json::object();
  c["type"] = Json::string(type);
  c["status"] = Json::string(status);
  c["lastUpdateTime"] = Json::string(now);
  std::string since = now;
  if (previous && GetString(*previous, {"status"}) == status)
    since = GetString(*previous, {"lastTransitionTime"});
  c["lastTransitionTime"] = Json::string(since);
  c["reason"] = Json::string(reason);
  c["message"] = Json::string(message);
  return c;
}

const Json* FindCondition(const Json& d, const std::string& type) {
  if (const Json* cs = Find(d, {"status", "conditions"}); cs && cs->is_array())
    for (const Json& c : cs->as_array())
      if (GetString(c, {"type"}) == type) return &c;
  return nullptr;
}

// Creates the ReplicaSet for the Deployment's current template.
std::optional<Json> CreateNewReplicaSet(Store& store, const Json& d, int64_t revision,
                                        int64_t replicas, int64_t max_surge) {
  const std::string ns = GetString(d, {"metadata", "namespace"});
  const std::string name = GetString(d, {"metadata", "name"});
  const int64_t collisions = Int(d, {"status", "collisionCount"}, 0);
  Json tmpl = d.at("spec").at("template");
  const std::string hash = PodTemplateHash(tmpl, collisions);
  Child(Child(tmpl, "metadata"), "labels")[kHashLabel] = Json::string(hash);
  Json rs = Json::object();
  rs["apiVersion"] = Json::string("apps/v1");
  rs["kind"] = Json::string("ReplicaSet");
  Json meta = Json::object();
  meta["name"] = Json::string(name + "-" + hash);
  meta["namespace"] = Json::string(ns);
  meta["labels"] = tmpl["metadata"]["labels"];
  Json annotations = Json::object();
  if (const Json* a = Find(d, {"metadata", "annotations"}); a && a->is_object())
    for (const auto& [k, v] : a->as_object())
      if (k != "kubectl.kubernetes.io/last-applied-configuration" && k != kRevision)
        annotations[k] = v;
  annotations[kRevision] = Json::string(std::to_string(revision));
  annotations["deployment.kubernetes.io/desired-replicas"] =
      Json::string(std::to_string(Int(d, {"spec", "replicas"}, 1)));
  annotations["deployment.kubernetes.io/max-replicas"] =
      Json::string(std::to_string(Int(d, {"spec", "replicas"}, 1) + max_surge));
  meta["annotations"] = annotations;
  Json owner = Json::object();
  owner["apiVersion"] = Json::string("apps/v1");
  owner["kind"] = Json::string("Deployment");
  owner["name"] = Json::string(name);
  owner["uid"] = Json::string(GetString(d, {"metadata", "uid"}));
  owner["controller"] = Json::boolean(true);
  owner["blockOwnerDeletion"] = Json::boolean(true);
  meta["ownerReferences"] = Json::array({owner});
  rs["metadata"] = meta;
  Json spec = Json::object();
  spec["replicas"] = Json::number(replicas);
  spec["minReadySeconds"] = Json::number(Int(d, {"spec", "minReadySeconds"}, 0));
  Json selector = d.at("spec").has_field("selector") ? d.at("spec").at("selector") : Json::object();
  Child(selector, "matchLabels")[kHashLabel] = Json::string(hash);
  spec["selector"] = selector;
  spec["template"] = tmpl;
  rs["spec"] = spec;
  auto created = store.Create({"apps", "v1", "replicasets", ns, "", ""}, rs);
  if (created.ok()) return created.value;
  kLog.Warn("cannot create replica set",
            {{"deployment", ns + "/" + name}, {"error", created.status.message}});
  if (created.status.code == 409) {  // a hash collision: the next sync uses another name
    Json patch = Json::object();
    patch["status"] = Json::object();
    patch["status"]["collisionCount"] = Json::number(collisions + 1);
    store.Patch({"apps", "v1", "deployments", ns, name, "status"}, PatchType::kMerge,
                patch.serialize());
  }
  return std::nullopt;
}

}  // namespace

std::chrono::milliseconds SyncDeployment(Store& store, const std::string& ns,
                                         const std::string& name, Clock::time_point now) {
  auto got = store.Get({"apps", "v1", "deployments", ns, name, ""});
  if (!got.ok() || !GetString(got.value, {"metadata", "deletionTimestamp"}).empty()) return {};
  const Json d = got.value;
  if (!Find(d, {"spec", "template"}) || !Find(d, {"spec", "selector"})) return {};
  const std::string uid = GetString(d, {"metadata", "uid"});
  const int64_t replicas = Int(d, {"spec", "replicas"}, 1);
  const bool recreate = GetString(d, {"spec", "strategy", "type"}) == "Recreate";
  const bool paused = Find(d, {"spec", "paused"}) && d.at("spec").at("paused").is_boolean() &&
                      d.at("spec").at("paused").as_bool();
  int64_t max_surge = recreate ? 0
                               : Scaled(Find(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}),
                                        replicas, true, 0);
  int64_t max_unavailable =
      recreate ? 0
               : Scaled(Find(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), replicas,
                        false, 0);
  max_unavailable = std::min(max_unavailable, replicas);
  if (!recreate && max_surge == 0 && max_unavailable == 0) max_unavailable = 1;

  auto list_owned = [&] {
    std::vector<Json> out;
    auto all = store.List({"apps", "v1", "replicasets", ns, "", ""}, {});
    if (all.ok())
      for (const Json& rs : all.value.at("items").as_array())
        if (ControllerUid(rs, "Deployment") == uid &&
            GetString(rs, {"metadata", "deletionTimestamp"}).empty())
          out.push_back(rs);
    return out;
  };
  std::vector<Json> rss = list_owned();
  const Json current_tmpl = WithoutHash(d.at("spec").at("template"));
  std::optional<Json> new_rs;
  std::vector<Json> old_rss;
  int64_t max_old_revision = 0;
  for (const Json& rs : rss) {
    if (!new_rs && WithoutHash(rs.at("spec").at("template")) == current_tmpl)
      new_rs = rs;
    else
      old_rss.push_back(rs);
  }
  for (const Json& rs : old_rss) max_old_revision = std::max(max_old_revision, Revision(rs));
  auto total_spec = [&] {
    int64_t n = 0;
    for (const Json& rs : rss) n += Int(rs, {"spec", "replicas"}, 0);
    return n;
  };
  auto old_spec = [&] {
    int64_t n = 0;
    for (const Json& rs : old_rss) n += Int(rs, {"spec", "replicas"}, 0);
    return n;
  };
  bool changed = false;
  std::string created_name;
  if (!paused) {
    if (!new_rs) {
      int64_t start = 0;
      if (recreate) {
        int64_t old_pods = 0;
        for (const Json& rs : old_rss) old_pods += Int(rs, {"status", "replicas"}, 0);
        start = old_spec() == 0 && old_pods == 0 ? replicas : 0;
      } else {
        start = std::max<int64_t>(0, std::min(replicas + max_surge - total_spec(), replicas));
      }
      new_rs = CreateNewReplicaSet(store, d, max_old_revision + 1, start, max_surge);
      if (!new_rs) return std::chrono::seconds(1);
      created_name = GetString(*new_rs, {"metadata", "name"});
      rss.push_back(*new_rs);
      changed = true;
    } else if (Revision(*new_rs) <= max_old_revision ||
               GetString(*new_rs, {"metadata", "annotations",
                                   "deployment.kubernetes.io/desired-replicas"}) !=
                   std::to_string(replicas) ||
               Int(*new_rs, {"spec", "minReadySeconds"}, 0) !=
                   Int(d, {"spec", "minReadySeconds"}, 0)) {
      // Rollback to an old template (the next revision), or new desired/max annotations.
      Json patch = Json::object();
      Json& ann = Child(Child(patch, "metadata"), "annotations");
      if (Revision(*new_rs) <= max_old_revision)
        ann[kRevision] = Json::string(std::to_string(max_old_revision + 1));
      ann["deployment.kubernetes.io/desired-replicas"] = Json::string(std::to_string(replicas));
      ann["deployment.kubernetes.io/max-replicas"] =
          Json::string(std::to_string(replicas + max_surge));
      patch["spec"] = Json::object();
      patch["spec"]["minReadySeconds"] = Json::number(Int(d, {"spec", "minReadySeconds"}, 0));
      auto r = store.Patch(
          {"apps", "v1", "replicasets", ns, GetString(*new_rs, {"metadata", "name"}), ""},
          PatchType::kMerge, patch.serialize());
      if (r.ok()) new_rs = r.value;
    }
    const int64_t new_spec = Int(*new_rs, {"spec", "replicas"}, 0);
    if (recreate) {
      for (const Json& rs : old_rss) changed |= ScaleReplicaSet(store, rs, 0);
      int64_t old_pods = 0;
      for (const Json& rs : old_rss) old_pods += Int(rs, {"status", "replicas"}, 0);
      if (old_spec() == 0 && old_pods == 0) changed |= ScaleReplicaSet(store, *new_rs, replicas);
    } else if (old_spec() == 0) {
      changed |= ScaleReplicaSet(store, *new_rs, replicas);  // no rollout: plain scaling
    } else {
      // reconcileNewReplicaSet: up to replicas + maxSurge pods in all.
      if (new_spec > replicas) {
        changed |= ScaleReplicaSet(store, *new_rs, replicas);
      } else {
        int64_t total = total_spec();
        if (total < replicas + max_surge) {
          int64_t up = std::min(replicas + max_surge - total, replicas - new_spec);
          if (up > 0) changed |= ScaleReplicaSet(store, *new_rs, new_spec + up);
        }
      }
      // reconcileOldReplicaSets: keep replicas - maxUnavailable available.
      rss = list_owned();
      for (const Json& rs : rss)
        if (GetString(rs, {"metadata", "uid"}) == GetString(*new_rs, {"metadata", "uid"}))
          new_rs = rs;
      old_rss.erase(old_rss.begin(), old_rss.end());
      for (const Json& rs : rss)
        if (GetString(rs, {"metadata", "uid"}) != GetString(*new_rs, {"metadata", "uid"}))
          old_rss.push_back(rs);
      std::sort(old_rss.begin(), old_rss.end(), [](const Json& a, const Json& b) {
        return GetString(a, {"metadata", "creationTimestamp"}) <
               GetString(b, {"metadata", "creationTimestamp"});
      });
      const int64_t min_available = replicas - max_unavailable;
      const int64_t new_unavailable =
          Int(*new_rs, {"spec", "replicas"}, 0) - Int(*new_rs, {"status", "availableReplicas"}, 0);
      int64_t max_down = total_spec() - min_available - std::max<int64_t>(0, new_unavailable);
      // First the old Pods that are not available anyway (cleanupUnhealthyReplicas).
      for (Json& rs : old_rss) {
        if (max_down <= 0) break;
        int64_t unhealthy =
            Int(rs, {"spec", "replicas"}, 0) - Int(rs, {"status", "availableReplicas"}, 0);
        int64_t down = std::min(unhealthy, max_down);
        if (down <= 0) continue;
        int64_t to = Int(rs, {"spec", "replicas"}, 0) - down;
        changed |= ScaleReplicaSet(store, rs, to);
        rs["spec"]["replicas"] = Json::number(to);
        max_down -= down;
      }
      // Then available ones while more than minAvailable are available.
      int64_t available = 0;
      for (const Json& rs : rss) available += Int(rs, {"status", "availableReplicas"}, 0);
      int64_t can_remove = std::min(available - min_available, max_down);
      for (Json& rs : old_rss) {
        if (can_remove <= 0) break;
        int64_t spec_n = Int(rs, {"spec", "replicas"}, 0);
        int64_t down = std::min(spec_n, can_remove);
        if (down <= 0) continue;
        changed |= ScaleReplicaSet(store, rs, spec_n - down);
        can_remove -= down;
      }
    }
  }
  // Status (calculateStatus) from the ReplicaSets as they are now.
  rss = list_owned();
  int64_t actual = 0, updated = 0, ready = 0, available = 0, spec_sum = 0, old_active = 0;
  std::string new_name = new_rs ? GetString(*new_rs, {"metadata", "name"}) : "";
  for (const Json& rs : rss) {
    actual += Int(rs, {"status", "replicas"}, 0);
    ready += Int(rs, {"status", "readyReplicas"}, 0);
    available += Int(rs, {"status", "availableReplicas"}, 0);
    spec_sum += Int(rs, {"spec", "replicas"}, 0);
    if (GetString(rs, {"metadata", "name"}) == new_name)
      updated = Int(rs, {"status", "replicas"}, 0);
    else
      old_active += Int(rs, {"status", "replicas"}, 0) + Int(rs, {"spec", "replicas"}, 0);
  }
  // History: old ReplicaSets with nothing left beyond revisionHistoryLimit, oldest first.
  const int64_t limit = Int(d, {"spec", "revisionHistoryLimit"}, 10);
  std::vector<Json> idle;
  for (const Json& rs : rss)
    if (GetString(rs, {"metadata", "name"}) != new_name && Int(rs, {"spec", "replicas"}, 0) == 0 &&
        Int(rs, {"status", "replicas"}, 0) == 0)
      idle.push_back(rs);
  if (static_cast<int64_t>(idle.size()) > limit) {
    std::sort(idle.begin(), idle.end(),
              [](const Json& a, const Json& b) { return Revision(a) < Revision(b); });
    for (size_t i = 0; i < idle.size() - static_cast<size_t>(limit); ++i)
      store.Delete({"apps", "v1", "replicasets", ns, GetString(idle[i], {"metadata", "name"}), ""});
  }
  const std::string stamp = FormatTime(now);
  Json status = Json::object();
  status["observedGeneration"] = Json::number(Int(d, {"metadata", "generation"}, 1));
  status["replicas"] = Json::number(actual);
  status["updatedReplicas"] = Json::number(updated);
  status["readyReplicas"] = Json::number(ready);
  status["availableReplicas"] = Json::number(available);
  status["unavailableReplicas"] = Json::number(std::max<int64_t>(0, spec_sum - available));
  if (const Json* cc = Find(d, {"status", "collisionCount"})) status["collisionCount"] = *cc;
  const Json* prev_available = FindCondition(d, "Available");
  const Json* prev_progress = FindCondition(d, "Progressing");
  Json available_cond =
      available >= replicas - max_unavailable
          ? Condition("Available", "True", "MinimumReplicasAvailable",
                      "Deployment has minimum availability.", stamp, prev_available)
          : Condition("Available", "False", "MinimumReplicasUnavailable",
                      "Deployment does not have minimum availability.", stamp, prev_available);
  if (prev_available &&
      GetString(*prev_available, {"status"}) == GetString(available_cond, {"status"}))
    available_cond["lastUpdateTime"] = prev_available->at("lastUpdateTime");
  const bool complete = updated == replicas && available == replicas && old_active == 0 &&
                        actual == replicas && !paused;
  const Json* old_status = Find(d, {"status"});
  auto counts_changed = [&] {
    for (const char* k : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"})
      if (!old_status || Int(*old_status, {k}, -1) != Int(status, {k}, -1)) return true;
    return false;
  };
  Json progress_cond;
  std::chrono::milliseconds again{0};
  if (paused) {
    progress_cond = Condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused",
                              stamp, prev_progress);
  } else if (complete) {
    progress_cond = Condition("Progressing", "True", "NewReplicaSetAvailable",
                              "ReplicaSet \"" + new_name + "\" has successfully progressed.", stamp,
                              prev_progress);
    if (prev_progress && GetString(*prev_progress, {"reason"}) == "NewReplicaSetAvailable")
      progress_cond = *prev_progress;
  } else if (!created_name.empty()) {
    progress_cond =
        Condition("Progressing", "True", "NewReplicaSetCreated",
                  "Created new replica set \"" + created_name + "\"", stamp, prev_progress);
  } else if (changed || counts_changed() || !prev_progress ||
             GetString(*prev_progress, {"reason"}) == "NewReplicaSetAvailable") {
    progress_cond =
        Condition("Progressing", "True", "ReplicaSetUpdated",
                  "ReplicaSet \"" + new_name + "\" is progressing.", stamp, prev_progress);
  } else {
    progress_cond = *prev_progress;
    auto last = ParseTime(GetString(*prev_progress, {"lastUpdateTime"}));
    const int64_t deadline = Int(d, {"spec", "progressDeadlineSeconds"}, 600);
    if (GetString(*prev_progress, {"status"}) == "True" && last &&
        now > *last + std::chrono::seconds(deadline))
      progress_cond = Condition("Progressing", "False", "ProgressDeadlineExceeded",
                                "ReplicaSet \"" + new_name + "\" has timed out progressing.", stamp,
                                prev_progress);
  }
  status["conditions"] = Json::array({available_cond, progress_cond});
  // Annotations the Deployment itself carries: its current revision.
  if (new_rs) {
    std::string rev = GetString(*new_rs, {"metadata", "annotations", kRevision});
    for (const Json& rs : rss)
      if (GetString(rs, {"metadata", "name"}) == new_name)
        rev = GetString(rs, {"metadata", "annotations", kRevision});
    if (!rev.empty() && GetString(d, {"metadata", "annotations", kRevision}) != rev) {
      Json patch = Json::object();
      Child(Child(patch, "metadata"), "annotations")[kRevision] = Json::string(rev);
      store.Patch({"apps", "v1", "deployments", ns, name, ""}, PatchType::kMerge,
                  patch.serialize());
    }
  }
  Json old_copy = old_status ? *old_status : Json::object();
  if (old_copy != status) {
    Json patch = Json::object();
    patch["status"] = status;
    store.Patch({"apps", "v1", "deployments", ns, name, "status"}, PatchType::kMerge,
                patch.serialize());
  }
  return again;
}

}  // namespace zkop::devkube
