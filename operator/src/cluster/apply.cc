#include "zkop/operator/cluster/apply.h"

namespace zkop::op::cluster {

bool ContainsFields(const Json& live, const Json& desired) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [key, value] : desired.as_object()) {
      if (!live.has_field(key)) {
        if (value.is_null()) continue;  // absent and null mean the same to the API
        return false;
      }
      if (!ContainsFields(live.at(key), value)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i)
      if (!ContainsFields(live.at(i), desired.at(i))) return false;
    return true;
  }
  if (desired.is_number() && live.is_number()) return desired.as_double() == live.as_double();
  return live == desired;
}

Json OwnedFields(const Json& desired) {
  Json owned = Json::object();
  Json meta = Json::object();
  const Json& dm = desired.at("metadata");
  for (const char* key : {"labels", "annotations", "ownerReferences"})
    if (dm.has_field(key)) meta[key] = dm.at(key);
  owned["metadata"] = meta;
  const std::string kind = desired.has_field("kind") ? desired.at("kind").as_string() : "";
  if (kind == "ConfigMap" && desired.has_field("data")) owned["data"] = desired.at("data");
  if ((kind == "Service" || kind == "PodDisruptionBudget") && desired.has_field("spec"))
    owned["spec"] = desired.at("spec");
  return owned;
}

std::string_view ApplyActionName(ApplyAction action) {
  switch (action) {
    case ApplyAction::kUnchanged:
      return "unchanged";
    case ApplyAction::kCreated:
      return "created";
    case ApplyAction::kPatched:
      return "patched";
  }
  return "unknown";
}

Applier::Applier(std::shared_ptr<kube::Client> client, const ObjectCache* cache)
    : client_(std::move(client)), cache_(cache) {}

kube::Result<ApplyAction> Applier::Create(const kube::ResourceRef& ref, const Json& desired) {
  const std::string ns = desired.at("metadata").at("namespace").as_string();
  const std::string name = desired.at("metadata").at("name").as_string();
  if (cache_->Get(ref, ns, name)) return ApplyAction::kUnchanged;
  ++writes_;
  auto created = client_->Create(ref, ns, desired);
  if (created.ok()) return ApplyAction::kCreated;
  if (created.Is(kube::ErrorKind::kAlreadyExists)) return ApplyAction::kUnchanged;
  return created.error();
}

kube::Result<ApplyAction> Applier::Apply(const kube::ResourceRef& ref, const Json& desired) {
  const std::string ns = desired.at("metadata").at("namespace").as_string();
  const std::string name = desired.at("metadata").at("name").as_string();
  const auto live = cache_->Get(ref, ns, name);
  if (!live) return Create(ref, desired);
  const Json owned = OwnedFields(desired);
  if (ContainsFields(*live, owned)) return ApplyAction::kUnchanged;
  ++writes_;
  auto patched = client_->Patch(ref, ns, name, owned, kube::PatchType::kMerge);
  if (!patched.ok()) return patched.error();
  return ApplyAction::kPatched;
}

}  // namespace zkop::op::cluster
