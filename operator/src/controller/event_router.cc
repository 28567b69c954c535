#include "zkop/operator/controller/event_router.h"

namespace zkop::op::controller {

namespace {

// metadata.<field>, or null when absent.
kube::Json Meta(const kube::Json& obj, const char* field) {
  if (!obj.is_object() || !obj.has_field("metadata")) return kube::Json::null();
  const kube::Json& m = obj.at("metadata");
  if (!m.is_object() || !m.has_field(field)) return kube::Json::null();
  return m.at(field);
}

}  // namespace

std::optional<std::string> ClusterKeyOf(const kube::Json& cluster) {
  std::string ns = kube::NamespaceOf(cluster), name = kube::NameOf(cluster);
  if (ns.empty() || name.empty()) return std::nullopt;
  return ns + "/" + name;
}

std::optional<std::string> OwnerClusterKeyOf(const kube::Json& owned) {
  std::map<std::string, std::string> labels = kube::LabelsOf(owned);
  auto managed = labels.find(kManagedByLabel);
  if (managed == labels.end() || managed->second != kManagedByValue) return std::nullopt;
  auto instance = labels.find(kInstanceLabel);
  std::string ns = kube::NamespaceOf(owned);
  if (instance == labels.end() || instance->second.empty() || ns.empty()) return std::nullopt;
  return ns + "/" + instance->second;
}

bool ClusterUpdateNeedsReconcile(const kube::Json& old_obj, const kube::Json& new_obj) {
  std::string old_rv = kube::ResourceVersionOf(old_obj);
  if (!old_rv.empty() && old_rv == kube::ResourceVersionOf(new_obj)) return true;  // resync
  for (const char* field :
       {"generation", "deletionTimestamp", "finalizers", "labels", "annotations"}) {
    if (Meta(old_obj, field) != Meta(new_obj, field)) return true;
  }
  return false;
}

std::vector<std::string> KeysForClusterEvent(EventKind kind, const kube::Json& old_obj,
                                             const kube::Json& new_obj) {
  if (kind == EventKind::kUpdate && !ClusterUpdateNeedsReconcile(old_obj, new_obj)) return {};
  std::optional<std::string> key = ClusterKeyOf(new_obj);
  if (!key) return {};
  return {*key};
}

std::vector<std::string> KeysForOwnedEvent(EventKind kind, const kube::Json& old_obj,
                                           const kube::Json& new_obj) {
  std::vector<std::string> keys;
  if (std::optional<std::string> key = OwnerClusterKeyOf(new_obj)) keys.push_back(*key);
  if (kind == EventKind::kUpdate) {
    std::optional<std::string> old_key = OwnerClusterKeyOf(old_obj);
    if (old_key && (keys.empty() || keys[0] != *old_key)) keys.push_back(*old_key);
  }
  return keys;
}

}  // namespace zkop::op::controller
