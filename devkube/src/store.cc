#include <algorithm>

#include "patch.h"
#include "schema.h"
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

ApiStatus UnknownResource() {
  return ApiStatus::Error(404, "NotFound", "the server could not find the requested resource");
}

std::string Base64(const std::string& in) {
  static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kChars[(n >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += kChars[(n >> 18) & 63];
    out += kChars[(n >> 12) & 63];
    out += i + 1 < in.size() ? kChars[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
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

bool IsDnsLabel(const std::string& s, bool must_start_alpha) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  if (s.front() == '-' || s.back() == '-') return false;
  return !must_start_alpha || (s.front() >= 'a' && s.front() <= 'z');
}

bool IsDnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!IsDnsLabel(label, false)) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// The metadata.name rule of each kind, as the real validation states it; "" when valid.
std::string NameProblem(const ResourceType& type, const std::string& name) {
  if (type.group == "rbac.authorization.k8s.io") {
    if (name.find('/') != std::string::npos || name.find('%') != std::string::npos || name == "." ||
        name == "..")
      return "may not contain '/' or '%'";
    return "";
  }
  if (type.resource == "namespaces") {
    if (!IsDnsLabel(name, false))
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
             "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    return "";
  }
  if (type.resource == "services") {
    if (!IsDnsLabel(name, true))
      return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
             "with an alphabetic character, and end with an alphanumeric character (e.g. "
             "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    return "";
  }
  if (!IsDnsSubdomain(name))
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
           "'-' or '.', and must start and end with an alphanumeric character (e.g. "
           "'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  return "";
}

// The object without the fields the server owns, for "did anything change" comparisons.
std::string Comparable(Json object) {
  Json& meta = Child(object, "metadata");
  EraseKey(meta, "resourceVersion");
  EraseKey(meta, "managedFields");
  return object.serialize();
}

// What metadata.generation tracks: everything but metadata (and status when it is a
// subresource).
std::string SpecPart(Json object, bool status_subresource) {
  EraseKey(object, "metadata");
  if (status_subresource) EraseKey(object, "status");
  return object.serialize();
}

std::string ContinueToken(uint64_t rv, const std::string& key) {
  Json t = Json::object();
  t["v"] = Json::string("meta.k8s.io/v1");
  t["rv"] = Json::number(static_cast<int64_t>(rv));
  t["start"] = Json::string(key + std::string(1, '\0'));
  return Base64(t.serialize());
}

// Server-side defaults of the few built-in fields zkop and kubectl look at.
void DefaultBuiltin(const ResourceType& type, Json& object, uint32_t* next_cluster_ip) {
  if (type.group != "") return;
  if (type.resource == "services") {
    Json& spec = Child(object, "spec");
    if (GetString(spec, {"type"}).empty()) spec["type"] = Json::string("ClusterIP");
    if (GetString(spec, {"sessionAffinity"}).empty())
      spec["sessionAffinity"] = Json::string("None");
    if (GetString(spec, {"type"}) != "ExternalName" && GetString(spec, {"clusterIP"}).empty()) {
      uint32_t n = (*next_cluster_ip)++;
      spec["clusterIP"] =
          Json::string("10.96." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff));
    }
    if (HasKey(spec, "clusterIP") && !HasKey(spec, "clusterIPs"))
      spec["clusterIPs"] = Json::array({spec["clusterIP"]});
    if (Json* ports = &spec["ports"]; ports->is_array()) {
      for (size_t i = 0; i < ports->size(); ++i) {
        Json& p = (*ports)[i];
        if (!p.is_object()) continue;
        if (!HasKey(p, "protocol")) p["protocol"] = Json::string("TCP");
        if (!HasKey(p, "targetPort") && HasKey(p, "port")) {
          Json port = p["port"];  // copy: inserting a key moves the object's members
          p["targetPort"] = port;
        }
      }
    } else {
      EraseKey(spec, "ports");
    }
  } else if (type.resource == "secrets") {
    if (GetString(object, {"type"}).empty()) object["type"] = Json::string("Opaque");
    if (const Json* found = Find(object, {"stringData"}); found && found->is_object()) {
      const Json string_data = *found;  // copy: Child() below may move object's members
      Json& data = Child(object, "data");
      for (const auto& [k, v] : string_data.as_object())
        if (v.is_string()) data[k] = Json::string(Base64(v.as_string()));
      EraseKey(object, "stringData");
    }
  } else if (type.resource == "pods") {
    Json& spec = Child(object, "spec");
    if (GetString(spec, {"restartPolicy"}).empty()) spec["restartPolicy"] = Json::string("Always");
    if (GetString(spec, {"schedulerName"}).empty())
      spec["schedulerName"] = Json::string("default-scheduler");
    if (!HasKey(spec, "terminationGracePeriodSeconds"))
      spec["terminationGracePeriodSeconds"] = Json::number(30);
  }
}

// The status a built-in object starts with (its status is server-owned).
void InitialStatus(const ResourceType& type, Json& object) {
  if (type.custom) {
    if (type.status_subresource) EraseKey(object, "status");
    return;
  }
  if (type.group == "" && type.resource == "namespaces") {
    object["status"] = Json::object();
    object["status"]["phase"] = Json::string("Active");
    Child(Child(object, "metadata"), "labels")["kubernetes.io/metadata.name"] =
        Json::string(ObjectName(object));
    Json& spec = Child(object, "spec");
    if (!HasKey(spec, "finalizers")) spec["finalizers"] = Json::array({Json::string("kubernetes")});
  } else if (type.group == "" &&
             (type.resource == "pods" || type.resource == "persistentvolumeclaims")) {
    object["status"] = Json::object();
    object["status"]["phase"] = Json::string("Pending");
  } else if (type.status_subresource && type.resource != "customresourcedefinitions") {
    object["status"] = Json::object();
  }
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

Result<Json> Store::Impl::CreateLocked(const ResourceType& type, const ResourceRef& ref,
                                       Json object, const WriteOptions& options) {
  Result<Json> r;
  if (!object.is_object()) {
    r.status = ApiStatus::BadRequest("the request body must be a JSON object");
    return r;
  }
  std::string api_version = GetString(object, {"apiVersion"});
  if (!api_version.empty() && api_version != type.ApiVersion()) {
    r.status = ApiStatus::BadRequest("the API version in the data (" + api_version +
                                     ") does not match the expected API version (" +
                                     type.ApiVersion() + ")");
    return r;
  }
  std::string kind = GetString(object, {"kind"});
  if (!kind.empty() && kind != type.kind) {
    r.status = ApiStatus::BadRequest("the kind in the data (" + kind +
                                     ") does not match the expected kind (" + type.kind + ")");
    return r;
  }
  object = AsVersion(std::move(object), type);
  Json& meta = Child(object, "metadata");
  std::string ns = GetString(meta, {"namespace"});
  if (type.namespaced) {
    if (!ref.ns.empty()) {
      if (!ns.empty() && ns != ref.ns) {
        r.status = ApiStatus::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the "
            "request");
        return r;
      }
      ns = ref.ns;
    }
    if (ns.empty()) ns = "default";  // in-process callers may leave both empty
    meta["namespace"] = Json::string(ns);
    if (!NamespaceExistsLocked(ns)) {
      r.status = ApiStatus::Error(404, "NotFound", "namespaces \"" + ns + "\" not found");
      r.status.name = ns;
      r.status.kind = "namespaces";
      return r;
    }
    if (NamespaceTerminatingLocked(ns)) {
      r.status = ApiStatus::Error(403, "Forbidden",
                                  type.QualifiedResource() + " \"" + GetString(meta, {"name"}) +
                                      "\" is forbidden: unable to create new content in "
                                      "namespace " +
                                      ns + " because it is being terminated");
      return r;
    }
  } else {
    EraseKey(meta, "namespace");
  }
  std::string name = GetString(meta, {"name"});
  if (name.empty()) {
    std::string prefix = GetString(meta, {"generateName"});
    if (prefix.empty()) {
      r.status = ApiStatus::Invalid(
          type, "",
          {{"FieldValueRequired", "Required value: name or generateName is required",
            "metadata.name"}});
      return r;
    }
    do {
      name = prefix + RandomSuffix(5);
    } while (FindLocked(type, ns, name));
    meta["name"] = Json::string(name);
  }
  if (std::string why = NameProblem(type, name); !why.empty()) {
    r.status = ApiStatus::Invalid(
        type, name,
        {{"FieldValueInvalid", "Invalid value: " + Json::string(name).serialize() + ": " + why,
          "metadata.name"}});
    return r;
  }
  if (FindLocked(type, ns, name)) {
    r.status = ApiStatus::AlreadyExists(type, name);
    return r;
  }
  if (!GetString(meta, {"resourceVersion"}).empty()) {
    r.status = ApiStatus::BadRequest("resourceVersion should not be set on objects to be created");
    return r;
  }
  for (const char* k : {"uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation", "managedFields"})
    EraseKey(meta, k);
  meta["uid"] = Json::string(NewUid());
  meta["creationTimestamp"] = Json::string(FormatTime(Clock::now()));
  if (type.has_generation) meta["generation"] = Json::number(1);
  InitialStatus(type, object);
  DefaultBuiltin(type, object, &next_cluster_ip_);
  if (type.custom) {
    std::vector<std::string> pruned;
    DefaultAndPrune(object, type.schema, &pruned);
    if (!pruned.empty() && options.field_validation != FieldValidation::kIgnore) {
      std::string list;
      for (const auto& p : pruned)
        list += (list.empty() ? "" : ", ") + ("unknown field \"" + p + "\"");
      if (options.field_validation == FieldValidation::kStrict) {
        r.status = ApiStatus::BadRequest(type.kind + " in version \"" + type.version +
                                         "\" cannot be handled as a " + type.kind +
                                         ": strict decoding error: " + list);
        return r;
      }
      for (const auto& p : pruned) r.warnings.push_back("unknown field \"" + p + "\"");
    }
    auto causes = ValidateAgainstSchema(object, type.schema);
    if (!causes.empty()) {
      r.status = ApiStatus::Invalid(type, name, std::move(causes));
      return r;
    }
    object["apiVersion"] = Json::string(type.group + "/" + type.storage_version);
  }
  if (type.resource == "customresourcedefinitions") {
    std::vector<CrdProblem> problems;
    TypesFromCrd(object, &problems);
    if (!problems.empty()) {
      std::vector<StatusCause> causes;
      for (const auto& p : problems) causes.push_back({"FieldValueInvalid", p.message, p.field});
      r.status = ApiStatus::Invalid(type, name, std::move(causes));
      return r;
    }
    // The apiextensions controllers' work, done at once: names accepted, established.
    Json status = Json::object();
    status["acceptedNames"] = object["spec"]["names"];
    std::string now = FormatTime(Clock::now());
    Json conds = Json::array();
    size_t n = 0;
    for (const char* c : {"NamesAccepted", "Established"}) {
      Json cond = Json::object();
      cond["type"] = Json::string(c);
      cond["status"] = Json::string("True");
      cond["lastTransitionTime"] = Json::string(now);
      cond["reason"] =
          Json::string(std::string(c) == "Established" ? "InitialNamesAccepted" : "NoConflicts");
      cond["message"] =
          Json::string(std::string(c) == "Established" ? "the initial names have been accepted"
                                                       : "no conflicts found");
      conds[n++] = cond;
    }
    status["conditions"] = conds;
    Json stored = Json::array();
    for (const Json& v : object["spec"]["versions"].as_array())
      if (const Json* st = Find(v, {"storage"}); st && st->is_boolean() && st->as_bool())
        stored[0] = v.at("name");
    status["storedVersions"] = stored;
    object["status"] = status;
  }
  if (options.dry_run) {
    r.value = AsVersion(object, type);
    return r;
  }
  if (type.resource == "customresourcedefinitions") RegisterCrdLocked(object);
  r.value = AsVersion(CommitLocked(type, WatchEvent::Type::kAdded, object, Json::null()), type);
  return r;
}

Result<Json> Store::Impl::UpdateLocked(const ResourceType& type, const ResourceRef& ref,
                                       Json object, const WriteOptions& options) {
  Result<Json> r;
  if (!object.is_object()) {
    r.status = ApiStatus::BadRequest("the request body must be a JSON object");
    return r;
  }
  Json* found = FindLocked(type, ref.ns, ref.name);
  if (!found) {
    r.status = ApiStatus::NotFound(type, ref.name);
    return r;
  }
  const Json current = *found;
  Json& meta = Child(object, "metadata");
  std::string body_name = GetString(meta, {"name"});
  if (!body_name.empty() && body_name != ref.name) {
    r.status = ApiStatus::BadRequest("the name of the object (" + body_name +
                                     ") does not match the name on the URL (" + ref.name + ")");
    return r;
  }
  std::string body_ns = GetString(meta, {"namespace"});
  if (type.namespaced && !body_ns.empty() && body_ns != ref.ns) {
    r.status = ApiStatus::BadRequest(
        "the namespace of the provided object does not match the namespace sent on the request");
    return r;
  }
  std::string want_rv = GetString(meta, {"resourceVersion"});
  std::string have_rv = GetString(current, {"metadata", "resourceVersion"});
  if (!want_rv.empty() && want_rv != have_rv) {
    r.status = ApiStatus::Conflict(type, ref.name,
                                   "the object has been modified; please apply your changes to "
                                   "the latest version and try again");
    return r;
  }
  Json next;
  if (ref.subresource == "status") {
    next = current;
    if (HasKey(object, "status"))
      next["status"] = object["status"];
    else
      EraseKey(next, "status");
  } else {
    next = AsVersion(std::move(object), type);
    Json& nm = Child(next, "metadata");
    const Json& cm = current.at("metadata");
    for (const char* k : {"name", "namespace", "uid", "creationTimestamp", "generation",
                          "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      if (cm.has_field(k))
        nm[k] = cm.at(k);
      else
        EraseKey(nm, k);
    }
    EraseKey(nm, "managedFields");
    if (type.status_subresource) {
      if (HasKey(current, "status"))
        next["status"] = current.at("status");
      else
        EraseKey(next, "status");
    }
    if (type.resource == "services") {
      // spec.clusterIP is immutable once allocated.
      Json& spec = Child(next, "spec");
      if (std::string ip = GetString(current, {"spec", "clusterIP"}); !ip.empty()) {
        spec["clusterIP"] = Json::string(ip);
        if (const Json* ips = Find(current, {"spec", "clusterIPs"})) spec["clusterIPs"] = *ips;
      }
    }
    DefaultBuiltin(type, next, &next_cluster_ip_);
    if (!GetString(current, {"metadata", "deletionTimestamp"}).empty()) {
      for (const std::string& f : Finalizers(next)) {
        bool had = false;
        for (const std::string& g : Finalizers(current)) had = had || g == f;
        if (!had) {
          r.status = ApiStatus::Invalid(
              type, ref.name,
              {{"FieldValueForbidden",
                "Forbidden: no new finalizers can be added if the object is being deleted, "
                "found new finalizers []string{\"" +
                    f + "\"}",
                "metadata.finalizers"}});
          return r;
        }
      }
    }
  }
  if (type.custom) {
    next = AsVersion(std::move(next), type);
    std::vector<std::string> pruned;
    DefaultAndPrune(next, type.schema, &pruned);
    if (!pruned.empty() && options.field_validation != FieldValidation::kIgnore) {
      std::string list;
      for (const auto& p : pruned)
        list += (list.empty() ? "" : ", ") + ("unknown field \"" + p + "\"");
      if (options.field_validation == FieldValidation::kStrict) {
        r.status = ApiStatus::BadRequest(type.kind + " in version \"" + type.version +
                                         "\" cannot be handled as a " + type.kind +
                                         ": strict decoding error: " + list);
        return r;
      }
      for (const auto& p : pruned) r.warnings.push_back("unknown field \"" + p + "\"");
    }
    auto causes = ValidateAgainstSchema(next, type.schema);
    if (!causes.empty()) {
      r.status = ApiStatus::Invalid(type, ref.name, std::move(causes));
      return r;
    }
    next["apiVersion"] = Json::string(type.group + "/" + type.storage_version);
  }
  if (type.resource == "customresourcedefinitions" && ref.subresource.empty()) {
    std::vector<CrdProblem> problems;
    TypesFromCrd(next, &problems);
    if (!problems.empty()) {
      std::vector<StatusCause> causes;
      for (const auto& p : problems) causes.push_back({"FieldValueInvalid", p.message, p.field});
      r.status = ApiStatus::Invalid(type, ref.name, std::move(causes));
      return r;
    }
  }
  if (type.has_generation &&
      SpecPart(next, type.status_subresource) != SpecPart(current, type.status_subresource)) {
    const Json* g = Find(current, {"metadata", "generation"});
    int64_t gen = g && g->is_integer() ? g->as_number().to_int64() : 0;
    next["metadata"]["generation"] = Json::number(gen + 1);
  }
  TypePtr storage = StorageTypeLocked(type.group, type.resource);
  if (Comparable(next) == Comparable(current)) {
    r.value = AsVersion(current, type);
    return r;
  }
  if (options.dry_run) {
    r.value = AsVersion(next, type);
    return r;
  }
  if (type.resource == "customresourcedefinitions") RegisterCrdLocked(next);
  Json stored = CommitLocked(*storage, WatchEvent::Type::kModified, next, current);
  MaybeFinalizeLocked(*storage, stored);
  r.value = AsVersion(stored, type);
  return r;
}

Result<Json> Store::Impl::ScaleLocked(const ResourceType& type, const Json& object) const {
  Result<Json> r;
  if (!type.scale) {
    r.status = UnknownResource();
    return r;
  }
  Json scale = Json::object();
  scale["kind"] = Json::string("Scale");
  scale["apiVersion"] = Json::string("autoscaling/v1");
  Json& meta = scale["metadata"];
  meta = Json::object();
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"})
    if (const Json* v = Find(object, {"metadata", k})) meta[k] = *v;
  auto spec = EvalJsonPath(object, type.scale->spec_replicas_path);
  scale["spec"] = Json::object();
  scale["spec"]["replicas"] = spec && spec->is_integer() ? *spec : Json::number(0);
  scale["status"] = Json::object();
  auto status = EvalJsonPath(object, type.scale->status_replicas_path);
  scale["status"]["replicas"] = status && status->is_integer() ? *status : Json::number(0);
  if (!type.scale->label_selector_path.empty()) {
    auto sel = EvalJsonPath(object, type.scale->label_selector_path);
    if (sel && sel->is_string()) scale["status"]["selector"] = *sel;
  }
  r.value = scale;
  return r;
}

Result<Json> Store::Impl::UpdateScaleLocked(const ResourceType& type, const ResourceRef& ref,
                                            const Json& scale, const WriteOptions& options) {
  Result<Json> r;
  if (!type.scale) {
    r.status = UnknownResource();
    return r;
  }
  Json* found = FindLocked(type, ref.ns, ref.name);
  if (!found) {
    r.status = ApiStatus::NotFound(type, ref.name);
    return r;
  }
  const Json* replicas = Find(scale, {"spec", "replicas"});
  if (!replicas || !replicas->is_integer()) {
    ResourceType scale_type = type;
    scale_type.group = "autoscaling";
    scale_type.kind = "Scale";
    r.status =
        ApiStatus::Invalid(scale_type, ref.name,
                           {{"FieldValueRequired",
                             "Required value: spec.replicas must be an integer", "spec.replicas"}});
    return r;
  }
  Json next = AsVersion(*found, type);
  std::string want_rv = GetString(scale, {"metadata", "resourceVersion"});
  Child(next, "metadata")["resourceVersion"] =
      Json::string(want_rv.empty() ? GetString(*found, {"metadata", "resourceVersion"}) : want_rv);
  SetJsonPath(next, type.scale->spec_replicas_path, *replicas);
  ResourceRef main = ref;
  main.subresource.clear();
  Result<Json> updated = UpdateLocked(type, main, next, options);
  if (!updated.ok()) return updated;
  Result<Json> out = ScaleLocked(type, updated.value);
  out.warnings = updated.warnings;
  return out;
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
