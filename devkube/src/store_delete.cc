// Deletion: preconditions, finalizers and deletionTimestamp, graceful pod deletion, the
// garbage collector's ownerReference cascade (Background, Foreground, Orphan), CRD cleanup and
// namespace termination. Unlike the real control plane, all of it runs synchronously inside
// the DELETE (or the update that removes the last finalizer).
#include <algorithm>

#include "store_impl.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;

bool OwnedBy(const Json& object, const std::string& uid) {
  const Json* refs = Find(object, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return false;
  for (const Json& r : refs->as_array())
    if (GetString(r, {"uid"}) == uid) return true;
  return false;
}

void DropOwner(Json& object, const std::string& uid) {
  Json& meta = Child(object, "metadata");
  Json kept = Json::array();
  size_t n = 0;
  for (const Json& r : meta["ownerReferences"].as_array())
    if (GetString(r, {"uid"}) != uid) kept[n++] = r;
  if (n == 0)
    meta.erase("ownerReferences");
  else
    meta["ownerReferences"] = kept;
}

void SetFinalizers(Json& object, const std::vector<std::string>& finalizers) {
  Json& meta = Child(object, "metadata");
  if (finalizers.empty()) {
    EraseKey(meta, "finalizers");
    return;
  }
  Json list = Json::array();
  for (size_t i = 0; i < finalizers.size(); ++i) list[i] = Json::string(finalizers[i]);
  meta["finalizers"] = list;
}

void BumpGeneration(const ResourceType& type, Json& object) {
  if (!type.has_generation) return;
  const Json* g = Find(object, {"metadata", "generation"});
  int64_t gen = g && g->is_integer() ? g->as_number().to_int64() : 0;
  object["metadata"]["generation"] = Json::number(gen + 1);
}

}  // namespace

std::vector<std::pair<Store::Impl::TypePtr, Json>> Store::Impl::DependentsLocked(
    const std::string& uid) const {
  std::vector<std::pair<TypePtr, Json>> out;
  if (uid.empty()) return out;
  for (const auto& [gr, bucket] : objects_) {
    for (const auto& [key, obj] : bucket) {
      if (OwnedBy(obj, uid)) out.emplace_back(StorageTypeOfKeyLocked(gr), obj);
    }
  }
  return out;
}

bool Store::Impl::UidExistsLocked(const std::string& uid) const {
  for (const auto& [gr, bucket] : objects_)
    for (const auto& [key, obj] : bucket)
      if (ObjectUid(obj) == uid) return true;
  return false;
}

void Store::Impl::FinishForegroundLocked(const std::string& owner_uid) {
  for (const auto& [gr, bucket] : objects_) {
    for (const auto& [key, obj] : bucket) {
      if (ObjectUid(obj) != owner_uid) continue;
      std::vector<std::string> fins = Finalizers(obj);
      if (std::find(fins.begin(), fins.end(), "foregroundDeletion") == fins.end()) return;
      if (!DependentsLocked(owner_uid).empty()) return;
      TypePtr type = StorageTypeOfKeyLocked(gr);
      Json next = obj;
      std::erase(fins, "foregroundDeletion");
      SetFinalizers(next, fins);
      Json stored = CommitLocked(*type, WatchEvent::Type::kModified, next, obj);
      MaybeFinalizeLocked(*type, stored);
      return;
    }
  }
}

bool Store::Impl::MaybeFinalizeLocked(const ResourceType& type, const Json& object) {
  if (GetString(object, {"metadata", "deletionTimestamp"}).empty()) return false;
  if (!Finalizers(object).empty()) return false;
  if (type.group == "" && type.resource == "pods" &&
      !GetString(object, {"spec", "nodeName"}).empty()) {
    // A bound pod is removed by its kubelet (a delete with gracePeriodSeconds=0).
    const Json* grace = Find(object, {"metadata", "deletionGracePeriodSeconds"});
    if (grace && grace->is_integer() && grace->as_number().to_int64() > 0) return false;
  }
  RemoveLocked(type, object);
  return true;
}

Result<Json> Store::Impl::DeleteLocked(const ResourceType& type, const std::string& ns,
                                       const std::string& name, const DeleteOptions& options) {
  Result<Json> r;
  Json* found = FindLocked(type, ns, name);
  if (!found) {
    r.status = ApiStatus::NotFound(type, name);
    return r;
  }
  const Json current = *found;
  const std::string uid = ObjectUid(current);
  if (options.precondition_uid && *options.precondition_uid != uid) {
    r.status = ApiStatus::Conflict(type, name,
                                   "Precondition failed: UID in precondition: " +
                                       *options.precondition_uid + ", UID in object meta: " + uid);
    return r;
  }
  std::string rv = GetString(current, {"metadata", "resourceVersion"});
  if (options.precondition_resource_version && *options.precondition_resource_version != rv) {
    r.status = ApiStatus::Conflict(type, name,
                                   "Precondition failed: ResourceVersion in precondition: " +
                                       *options.precondition_resource_version +
                                       ", ResourceVersion in object meta: " + rv);
    return r;
  }
  if (options.dry_run) {
    r.value = AsVersion(current, type);
    return r;
  }
  const Propagation propagation = options.propagation.value_or(Propagation::kBackground);
  const bool bound_pod = type.group == "" && type.resource == "pods" &&
                         !GetString(current, {"spec", "nodeName"}).empty();
  const bool marked = !GetString(current, {"metadata", "deletionTimestamp"}).empty();
  if (marked) {
    // Already being deleted: only a kubelet's grace-0 delete of a bound pod changes anything.
    if (bound_pod && options.grace_period_seconds == 0) {
      Json next = current;
      next["metadata"]["deletionGracePeriodSeconds"] = Json::number(0);
      Json stored = CommitLocked(type, WatchEvent::Type::kModified, next, current);
      MaybeFinalizeLocked(type, stored);
      r.value = AsVersion(stored, type);
      return r;
    }
    r.value = AsVersion(current, type);
    return r;
  }
  if (propagation == Propagation::kOrphan) {
    for (auto& [dep_type, dep] : DependentsLocked(uid)) {
      Json next = dep;
      DropOwner(next, uid);
      CommitLocked(*dep_type, WatchEvent::Type::kModified, next, dep);
    }
  }
  std::vector<std::string> fins = Finalizers(current);
  if (propagation == Propagation::kForeground && !DependentsLocked(uid).empty())
    fins.push_back("foregroundDeletion");
  int64_t grace = 0;
  if (bound_pod) {
    const Json* spec_grace = Find(current, {"spec", "terminationGracePeriodSeconds"});
    grace = options.grace_period_seconds.value_or(
        spec_grace && spec_grace->is_integer() ? spec_grace->as_number().to_int64() : 30);
  }
  const bool is_namespace = type.group == "" && type.resource == "namespaces";
  if (fins.empty() && grace == 0 && !is_namespace) {
    RemoveLocked(type, current);
    Json last = current;
    last["metadata"]["resourceVersion"] = Json::string(std::to_string(rv_));
    r.value = AsVersion(last, type);
    return r;
  }
  Json next = current;
  next["metadata"]["deletionTimestamp"] =
      Json::string(FormatTime(Clock::now() + std::chrono::seconds(grace)));
  next["metadata"]["deletionGracePeriodSeconds"] = Json::number(grace);
  SetFinalizers(next, fins);
  BumpGeneration(type, next);
  if (is_namespace) next["status"]["phase"] = Json::string("Terminating");
  Json stored = CommitLocked(type, WatchEvent::Type::kModified, next, current);
  r.value = AsVersion(stored, type);
  if (propagation == Propagation::kForeground) {
    for (auto& [dep_type, dep] : DependentsLocked(uid))
      DeleteLocked(*dep_type, ObjectNamespace(dep), ObjectName(dep), {});
    FinishForegroundLocked(uid);
  }
  if (is_namespace) {
    std::vector<std::pair<TypePtr, Json>> contents;
    for (const auto& [gr, bucket] : objects_) {
      TypePtr t = StorageTypeOfKeyLocked(gr);
      if (!t || !t->namespaced) continue;
      for (const auto& [key, obj] : bucket)
        if (ObjectNamespace(obj) == name) contents.emplace_back(t, obj);
    }
    for (auto& [t, obj] : contents) {
      DeleteOptions force;
      force.grace_period_seconds = 0;
      DeleteLocked(*t, name, ObjectName(obj), force);
    }
    // Removed once empty (here, or when the last finalizer inside is released).
    if (Json* still = FindLocked(type, "", name)) {
      bool empty = true;
      for (const auto& [gr, bucket] : objects_) {
        TypePtr t = StorageTypeOfKeyLocked(gr);
        if (!t || !t->namespaced) continue;
        for (const auto& [key, obj] : bucket) empty = empty && ObjectNamespace(obj) != name;
      }
      if (empty) RemoveLocked(type, *still);
    }
  }
  return r;
}

void Store::Impl::RemoveLocked(const ResourceType& type, const Json& object) {
  const Json removed = CommitLocked(type, WatchEvent::Type::kDeleted, object, object);
  const std::string uid = ObjectUid(removed);
  if (type.resource == "customresourcedefinitions" && type.group == "apiextensions.k8s.io") {
    std::string key = GroupResource(GetString(removed, {"spec", "group"}),
                                    GetString(removed, {"spec", "names", "plural"}));
    TypePtr cr_type = StorageTypeOfKeyLocked(key);
    if (cr_type) {
      std::vector<Json> crs;
      for (const auto& [k, obj] : objects_[key]) crs.push_back(obj);
      for (const Json& cr : crs) CommitLocked(*cr_type, WatchEvent::Type::kDeleted, cr, cr);
    }
    objects_.erase(key);
    UnregisterCrdLocked(removed);
  }
  for (auto& [dep_type, dep] : DependentsLocked(uid)) {
    Json* live = FindLocked(*dep_type, ObjectNamespace(dep), ObjectName(dep));
    if (!live) continue;
    bool other_owner = false;
    for (const Json& ref : (*live)["metadata"]["ownerReferences"].as_array()) {
      std::string owner = GetString(ref, {"uid"});
      other_owner = other_owner || (owner != uid && UidExistsLocked(owner));
    }
    if (other_owner) {
      Json next = *live;
      DropOwner(next, uid);
      CommitLocked(*dep_type, WatchEvent::Type::kModified, next, *live);
    } else {
      DeleteLocked(*dep_type, ObjectNamespace(dep), ObjectName(dep), {});
    }
  }
  if (const Json* refs = Find(removed, {"metadata", "ownerReferences"}); refs && refs->is_array())
    for (const Json& ref : refs->as_array()) FinishForegroundLocked(GetString(ref, {"uid"}));
  const std::string ns = ObjectNamespace(removed);
  if (type.namespaced && NamespaceTerminatingLocked(ns)) {
    for (const auto& [gr, bucket] : objects_) {
      TypePtr t = StorageTypeOfKeyLocked(gr);
      if (!t || !t->namespaced) continue;
      for (const auto& [key, obj] : bucket)
        if (ObjectNamespace(obj) == ns) return;
    }
    TypePtr ns_type = StorageTypeLocked("", "namespaces");
    if (Json* ns_obj = FindLocked(*ns_type, "", ns)) RemoveLocked(*ns_type, Json(*ns_obj));
  }
}

}  // namespace zkop::devkube
