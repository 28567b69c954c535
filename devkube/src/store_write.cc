// The write path: create, update (main resource and status), scale; server-side defaults of
// built-ins, name rules, and the custom-resource schema step.
#include "k8s_time.h"
#include "schema.h"
#include "workloads.h"
#include "store_impl.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;

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

// Server-side defaults of the few built-in fields zkop and kubectl look at.
void DefaultBuiltin(const ResourceType& type, Json& object, uint32_t* next_cluster_ip) {
  if (type.group == "apps") DefaultWorkload(type.resource, object);  // workloads.h
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

// The custom-resource schema step of every write: defaults, pruning (a 400 under
// fieldValidation=Strict, warnings under Warn), validation (422), then the storage version.
ApiStatus ApplySchema(const ResourceType& type, const std::string& name,
                      const WriteOptions& options, Json& object,
                      std::vector<std::string>* warnings) {
  std::vector<std::string> pruned;
  DefaultAndPrune(object, type.schema, &pruned);
  if (!pruned.empty() && options.field_validation != FieldValidation::kIgnore) {
    std::string list;
    for (const auto& p : pruned)
      list += (list.empty() ? "" : ", ") + ("unknown field \"" + p + "\"");
    if (options.field_validation == FieldValidation::kStrict)
      return ApiStatus::BadRequest(type.kind + " in version \"" + type.version +
                                   "\" cannot be handled as a " + type.kind +
                                   ": strict decoding error: " + list);
    for (const auto& p : pruned) warnings->push_back("unknown field \"" + p + "\"");
  }
  auto causes = ValidateAgainstSchema(object, type.schema);
  if (!causes.empty()) return ApiStatus::Invalid(type, name, std::move(causes));
  object["apiVersion"] = Json::string(type.group + "/" + type.storage_version);
  return ApiStatus{};
}

}  // namespace

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
  if (r.status = NormalizeMicroTimes(type, object); !r.ok()) return r;
  if (type.custom) {
    r.status = ApplySchema(type, name, options, object, &r.warnings);
    if (!r.ok()) return r;
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
    if (r.status = NormalizeMicroTimes(type, next); !r.ok()) return r;
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
    r.status = ApplySchema(type, ref.name, options, next, &r.warnings);
    if (!r.ok()) return r;
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

}  // namespace zkop::devkube
