#include <algorithm>

#include "patch.h"
#include "selectors.h"
#include "store_impl.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;

Result<Json> Fail(ApiStatus status) {
  Result<Json> r;
  r.status = std::move(status);
  return r;
}

std::string Unbase64(const std::string& in, bool* ok) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  *ok = true;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=')
      break;
    else {
      *ok = false;
      return "";
    }
    buf = (buf << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

std::string ContinueToken(uint64_t rv, const std::string& key) {
  Json t = Json::object();
  t["v"] = Json::string("meta.k8s.io/v1");
  t["rv"] = Json::number(static_cast<int64_t>(rv));
  t["start"] = Json::string(key + std::string(1, '\0'));
  return Base64(t.serialize());
}

class SubscriptionImpl : public Subscription {
 public:
  SubscriptionImpl(std::weak_ptr<Store::Impl> store, uint64_t id)
      : store_(std::move(store)), id_(id) {}
  ~SubscriptionImpl() override {
    if (auto s = store_.lock()) {
      std::lock_guard<std::mutex> lock(s->mu);
      s->subscribers_.erase(id_);
    }
  }

 private:
  std::weak_ptr<Store::Impl> store_;
  uint64_t id_;
};

}  // namespace

ApiStatus UnknownResource() {
  return ApiStatus::Error(404, "NotFound", "the server could not find the requested resource");
}

std::string ObjectName(const Json& object) { return GetString(object, {"metadata", "name"}); }
std::string ObjectNamespace(const Json& object) {
  return GetString(object, {"metadata", "namespace"});
}
std::string ObjectUid(const Json& object) { return GetString(object, {"metadata", "uid"}); }
std::vector<std::string> Finalizers(const Json& object) {
  std::vector<std::string> out;
  if (const Json* f = Find(object, {"metadata", "finalizers"}); f && f->is_array())
    for (const Json& v : f->as_array())
      if (v.is_string()) out.push_back(v.as_string());
  return out;
}

// ---- types ---------------------------------------------------------------------------------

Store::Impl::TypePtr Store::Impl::TypeLocked(const std::string& group, const std::string& version,
                                             const std::string& resource) const {
  for (const auto* list : {&builtin_types_, &custom_types_})
    for (const TypePtr& t : *list)
      if (t->group == group && t->version == version && t->resource == resource) return t;
  return nullptr;
}

Store::Impl::TypePtr Store::Impl::StorageTypeLocked(const std::string& group,
                                                    const std::string& resource) const {
  for (const TypePtr& t : builtin_types_)
    if (t->group == group && t->resource == resource) return t;
  for (const TypePtr& t : custom_types_)
    if (t->group == group && t->resource == resource && t->version == t->storage_version) return t;
  return nullptr;
}

Store::Impl::TypePtr Store::Impl::StorageTypeOfKeyLocked(const std::string& group_resource) const {
  size_t slash = group_resource.find('/');
  return StorageTypeLocked(group_resource.substr(0, slash), group_resource.substr(slash + 1));
}

std::vector<ResourceType> Store::Impl::TypesLocked() const {
  std::vector<ResourceType> all;
  for (const auto* list : {&builtin_types_, &custom_types_})
    for (const TypePtr& t : *list) all.push_back(*t);
  return all;
}

void Store::Impl::RegisterCrdLocked(const Json& crd) {
  UnregisterCrdLocked(crd);
  std::vector<CrdProblem> problems;
  for (ResourceType& t : TypesFromCrd(crd, &problems))
    custom_types_.push_back(std::make_shared<const ResourceType>(std::move(t)));
  crds_[ObjectName(crd)] = crd;
}

void Store::Impl::UnregisterCrdLocked(const Json& crd) {
  std::string group = GetString(crd, {"spec", "group"});
  std::string plural = GetString(crd, {"spec", "names", "plural"});
  auto it = crds_.find(ObjectName(crd));
  if (it != crds_.end()) {
    group = GetString(it->second, {"spec", "group"});
    plural = GetString(it->second, {"spec", "names", "plural"});
    crds_.erase(it);
  }
  std::erase_if(custom_types_,
                [&](const TypePtr& t) { return t->group == group && t->resource == plural; });
}

// ---- objects -------------------------------------------------------------------------------

Json* Store::Impl::FindLocked(const ResourceType& type, const std::string& ns,
                              const std::string& name) {
  auto gr = objects_.find(GroupResource(type.group, type.resource));
  if (gr == objects_.end()) return nullptr;
  auto it = gr->second.find(ObjectKey(type.namespaced ? ns : "", name));
  return it == gr->second.end() ? nullptr : &it->second;
}

Json Store::Impl::AsVersion(Json object, const ResourceType& type) {
  if (object.is_object()) {
    object["apiVersion"] = Json::string(type.ApiVersion());
    object["kind"] = Json::string(type.kind);
  }
  return object;
}

Json Store::Impl::CommitLocked(const ResourceType& type, WatchEvent::Type kind, Json object,
                               Json previous) {
  ++rv_;
  Child(object, "metadata")["resourceVersion"] = Json::string(std::to_string(rv_));
  auto& bucket = objects_[GroupResource(type.group, type.resource)];
  std::string key = ObjectKey(type.namespaced ? ObjectNamespace(object) : "", ObjectName(object));
  if (kind == WatchEvent::Type::kDeleted) {
    bucket.erase(key);
  } else {
    bucket[key] = object;
  }
  WatchEvent ev;
  ev.type = kind;
  ev.resource_version = rv_;
  ev.group = type.group;
  ev.resource = type.resource;
  ev.object = object;
  ev.previous = std::move(previous);
  for (auto& [id, sub] : subscribers_) {
    const WatchRequest& r = sub.request;
    if (r.group != ev.group || r.resource != ev.resource) continue;
    if (!r.ns.empty() && r.ns != ObjectNamespace(object)) continue;
    TypePtr served = TypeLocked(r.group, r.version, r.resource);
    WatchEvent copy = ev;
    if (served) {
      copy.object = AsVersion(copy.object, *served);
      if (!copy.previous.is_null()) copy.previous = AsVersion(copy.previous, *served);
    }
    sub.callback(copy);
  }
  history_.push_back(std::move(ev));
  while (history_.size() > options_.watch_history) history_.pop_front();
  return object;
}

bool Store::Impl::NamespaceExistsLocked(const std::string& ns) const {
  auto gr = objects_.find(GroupResource("", "namespaces"));
  return gr != objects_.end() && gr->second.count(ObjectKey("", ns)) > 0;
}

bool Store::Impl::NamespaceTerminatingLocked(const std::string& ns) const {
  auto gr = objects_.find(GroupResource("", "namespaces"));
  if (gr == objects_.end()) return false;
  auto it = gr->second.find(ObjectKey("", ns));
  return it != gr->second.end() &&
         !GetString(it->second, {"metadata", "deletionTimestamp"}).empty();
}

// ---- Store ---------------------------------------------------------------------------------

Store::Store(Options options) : impl_(std::make_shared<Impl>(options)) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto ns = impl_->TypeLocked("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    Json obj = Json::object();
    obj["metadata"] = Json::object();
    obj["metadata"]["name"] = Json::string(name);
    impl_->CreateLocked(*ns, {"", "v1", "namespaces", "", name, ""}, obj, {});
  }
}

Store::~Store() = default;

std::optional<ResourceType> Store::FindType(const std::string& group, const std::string& version,
                                            const std::string& resource) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto t = impl_->TypeLocked(group, version, resource);
  if (!t) return std::nullopt;
  return *t;
}

std::vector<ResourceType> Store::Types() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->TypesLocked();
}

uint64_t Store::CurrentResourceVersion() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rv_;
}

Result<Json> Store::Get(const ResourceRef& ref) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Result<Json> r;
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type) {
    r.status = UnknownResource();
    return r;
  }
  Json* obj = impl_->FindLocked(*type, ref.ns, ref.name);
  if (!obj) {
    r.status = ApiStatus::NotFound(*type, ref.name);
    return r;
  }
  if (ref.subresource == "scale") return impl_->ScaleLocked(*type, *obj);
  r.value = Impl::AsVersion(*obj, *type);
  return r;
}

Result<Json> Store::List(const ResourceRef& ref, const ListOptions& options) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Result<Json> r;
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type) {
    r.status = UnknownResource();
    return r;
  }
  std::string error;
  auto labels = LabelSelector::Parse(options.label_selector, &error);
  if (!labels) {
    r.status = ApiStatus::BadRequest(error);
    return r;
  }
  std::vector<std::string> allowed = {"metadata.name", "metadata.namespace"};
  allowed.insert(allowed.end(), type->field_labels.begin(), type->field_labels.end());
  auto fields = FieldSelector::Parse(options.field_selector, allowed, &error);
  if (!fields) {
    r.status = ApiStatus::BadRequest(error);
    return r;
  }
  uint64_t list_rv = impl_->rv_;
  std::string start;
  if (!options.continue_token.empty()) {
    bool ok = false;
    auto token = ParseJson(Unbase64(options.continue_token, &ok), &error);
    const Json* rv = token ? Find(*token, {"rv"}) : nullptr;
    if (!ok || !rv || !rv->is_integer()) {
      r.status = ApiStatus::BadRequest("continue key is not valid: " + options.continue_token);
      return r;
    }
    list_rv = rv->as_number().to_uint64();
    start = GetString(*token, {"start"});
    uint64_t oldest =
        impl_->history_.empty() ? impl_->rv_ : impl_->history_.front().resource_version - 1;
    if (list_rv < oldest) {
      r.status = ApiStatus::Error(
          410, "Expired",
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter, or use the continue token in "
          "this response to retrieve the remainder of the results.");
      return r;
    }
  }
  Json items = Json::array();
  size_t n = 0;
  int64_t remaining = 0;
  std::string last_key;
  auto gr = impl_->objects_.find(Impl::GroupResource(type->group, type->resource));
  if (gr != impl_->objects_.end()) {
    for (auto it = start.empty() ? gr->second.begin() : gr->second.lower_bound(start);
         it != gr->second.end(); ++it) {
      const Json& obj = it->second;
      if (!ref.ns.empty() && type->namespaced && ObjectNamespace(obj) != ref.ns) continue;
      const Json* lbl = Find(obj, {"metadata", "labels"});
      if (!labels->Matches(lbl ? *lbl : Json::null()) || !fields->Matches(obj)) continue;
      if (options.limit > 0 && static_cast<int64_t>(n) >= options.limit) {
        ++remaining;
        continue;
      }
      items[n++] = Impl::AsVersion(obj, *type);
      last_key = it->first;
    }
  }
  Json list = Json::object();
  list["kind"] = Json::string(type->kind + "List");
  list["apiVersion"] = Json::string(type->ApiVersion());
  list["metadata"] = Json::object();
  list["metadata"]["resourceVersion"] = Json::string(std::to_string(list_rv));
  if (remaining > 0) {
    list["metadata"]["continue"] = Json::string(ContinueToken(list_rv, last_key));
    list["metadata"]["remainingItemCount"] = Json::number(remaining);
  }
  list["items"] = items;
  r.value = list;
  return r;
}

Result<Json> Store::Create(const ResourceRef& ref, Json object, const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type || !ref.subresource.empty()) return Fail(UnknownResource());
  return impl_->CreateLocked(*type, ref, std::move(object), options);
}

Result<Json> Store::Update(const ResourceRef& ref, Json object, const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type) return Fail(UnknownResource());
  if (ref.subresource == "scale") return impl_->UpdateScaleLocked(*type, ref, object, options);
  if (!ref.subresource.empty() && !(ref.subresource == "status" && type->status_subresource))
    return Fail(UnknownResource());
  return impl_->UpdateLocked(*type, ref, std::move(object), options);
}

Result<Json> Store::Patch(const ResourceRef& ref, PatchType patch_type, const std::string& body,
                          const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Result<Json> r;
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type || (!ref.subresource.empty() && ref.subresource != "scale" &&
                !(ref.subresource == "status" && type->status_subresource))) {
    r.status = UnknownResource();
    return r;
  }
  if (patch_type == PatchType::kStrategic && type->custom) {
    r.status = ApiStatus::Error(415, "UnsupportedMediaType",
                                "the body of the request was in an unknown format - accepted "
                                "media types include: application/json-patch+json, "
                                "application/merge-patch+json, application/apply-patch+yaml");
    return r;
  }
  std::string error;
  std::optional<Json> patch =
      patch_type == PatchType::kApply ? ParseYamlAsJson(body, &error) : ParseJson(body, &error);
  if (!patch) {
    r.status = ApiStatus::BadRequest("error decoding patch: " + error);
    return r;
  }
  Json* found = impl_->FindLocked(*type, ref.ns, ref.name);
  if (!found) {
    if (patch_type == PatchType::kApply && ref.subresource.empty())
      return impl_->CreateLocked(*type, ref, *patch, options);
    r.status = ApiStatus::NotFound(*type, ref.name);
    return r;
  }
  Json target = Impl::AsVersion(*found, *type);
  if (ref.subresource == "scale") {
    Result<Json> scale = impl_->ScaleLocked(*type, *found);
    if (!scale.ok()) return scale;
    target = scale.value;
  }
  switch (patch_type) {
    case PatchType::kMerge:
    case PatchType::kApply:
      target = ApplyMergePatch(target, *patch);
      break;
    case PatchType::kJson:
      if (!ApplyJsonPatch(target, *patch, &error)) {
        r.status = ApiStatus::Error(422, "Invalid", error);
        return r;
      }
      break;
    case PatchType::kStrategic:
      if (!ApplyStrategicMergePatch(target, *patch, &error)) {
        r.status = ApiStatus::Error(422, "Invalid", error);
        return r;
      }
      break;
  }
  if (ref.subresource == "scale") return impl_->UpdateScaleLocked(*type, ref, target, options);
  return impl_->UpdateLocked(*type, ref, std::move(target), options);
}

Result<Json> Store::Delete(const ResourceRef& ref, const DeleteOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type || !ref.subresource.empty()) return Fail(UnknownResource());
  return impl_->DeleteLocked(*type, ref.ns, ref.name, options);
}

Result<Json> Store::DeleteCollection(const ResourceRef& ref, const ListOptions& list,
                                     const DeleteOptions& options) {
  Result<Json> listed = List(ref, list);
  if (!listed.ok()) return listed;
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto type = impl_->TypeLocked(ref.group, ref.version, ref.resource);
  if (!type) return Fail(UnknownResource());
  for (const Json& item : listed.value["items"].as_array())
    impl_->DeleteLocked(*type, ObjectNamespace(item), ObjectName(item), options);
  return listed;
}

Result<std::unique_ptr<Subscription>> Store::Watch(const WatchRequest& request,
                                                   WatchCallback callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Result<std::unique_ptr<Subscription>> r;
  auto type = impl_->TypeLocked(request.group, request.version, request.resource);
  if (!type) {
    r.status = UnknownResource();
    return r;
  }
  auto matches = [&](const Json& obj) {
    return request.ns.empty() || !type->namespaced || ObjectNamespace(obj) == request.ns;
  };
  if (request.from_resource_version) {
    uint64_t from = *request.from_resource_version;
    uint64_t oldest =
        impl_->history_.empty() ? impl_->rv_ : impl_->history_.front().resource_version - 1;
    if (from < oldest) {
      r.status = ApiStatus::Error(410, "Expired",
                                  "too old resource version: " + std::to_string(from) + " (" +
                                      std::to_string(oldest) + ")");
      return r;
    }
    for (const WatchEvent& ev : impl_->history_) {
      if (ev.resource_version <= from || ev.group != type->group || ev.resource != type->resource ||
          !matches(ev.object))
        continue;
      WatchEvent copy = ev;
      copy.object = Impl::AsVersion(copy.object, *type);
      if (!copy.previous.is_null()) copy.previous = Impl::AsVersion(copy.previous, *type);
      callback(copy);
    }
  } else {
    auto gr = impl_->objects_.find(Impl::GroupResource(type->group, type->resource));
    if (gr != impl_->objects_.end()) {
      for (const auto& [key, obj] : gr->second) {
        if (!matches(obj)) continue;
        WatchEvent ev;
        ev.type = WatchEvent::Type::kAdded;
        ev.group = type->group;
        ev.resource = type->resource;
        ev.object = Impl::AsVersion(obj, *type);
        ev.resource_version = std::stoull(GetString(obj, {"metadata", "resourceVersion"}));
        callback(ev);
      }
    }
  }
  uint64_t id = impl_->next_subscriber_++;
  impl_->subscribers_[id] = {request, std::move(callback)};
  r.value = std::make_unique<SubscriptionImpl>(impl_, id);
  return r;
}

Json Store::Snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Json snap = Json::object();
  snap["resourceVersion"] = Json::number(static_cast<int64_t>(impl_->rv_));
  Json objects = Json::array();
  size_t n = 0;
  // CRDs first so that their custom resources can be typed on restore.
  for (const auto& [name, crd] : impl_->crds_) objects[n++] = crd;
  for (const auto& [gr, bucket] : impl_->objects_) {
    if (gr == Impl::GroupResource("apiextensions.k8s.io", "customresourcedefinitions")) continue;
    for (const auto& [key, obj] : bucket) {
      Json entry = obj;
      entry["apiVersion"] = obj.at("apiVersion");
      objects[n++] = entry;
    }
  }
  snap["objects"] = objects;
  return snap;
}

ApiStatus Store::Restore(const Json& snapshot) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const Json* objects = Find(snapshot, {"objects"});
  const Json* rv = Find(snapshot, {"resourceVersion"});
  if (!objects || !objects->is_array() || !rv || !rv->is_integer())
    return ApiStatus::BadRequest(
        "state: expected {\"resourceVersion\": <int>, \"objects\": [...]}");
  impl_->objects_.clear();
  impl_->crds_.clear();
  impl_->custom_types_.clear();
  impl_->history_.clear();
  for (size_t i = 0; i < objects->size(); ++i) {
    const Json& obj = objects->at(i);
    std::string api_version = GetString(obj, {"apiVersion"});
    std::string kind = GetString(obj, {"kind"});
    size_t slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    Impl::TypePtr type;
    for (const ResourceType& t : impl_->TypesLocked())
      if (t.group == group && t.kind == kind) type = impl_->StorageTypeLocked(t.group, t.resource);
    if (!type)
      return ApiStatus::BadRequest("state: objects[" + std::to_string(i) + "]: unknown kind " +
                                   kind + " in " + api_version);
    if (type->resource == "customresourcedefinitions") impl_->RegisterCrdLocked(obj);
    impl_->objects_[Impl::GroupResource(type->group, type->resource)][Impl::ObjectKey(
        type->namespaced ? ObjectNamespace(obj) : "", ObjectName(obj))] = obj;
  }
  impl_->rv_ = rv->as_number().to_uint64();
  return ApiStatus{};
}

}  // namespace zkop::devkube
