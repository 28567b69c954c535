#include "zkop/devkube/resource_types.h"

#include <algorithm>

#include "json_util.h"

namespace zkop::devkube {
namespace {

PrinterColumn Col(std::string name, std::string type, std::string path, int priority = 0) {
  PrinterColumn c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.json_path = std::move(path);
  c.priority = priority;
  return c;
}

const PrinterColumn kAge = Col("Age", "date", ".metadata.creationTimestamp");

ResourceType Builtin(std::string group, std::string version, std::string resource, std::string kind,
                     bool namespaced, std::vector<std::string> short_names,
                     std::vector<PrinterColumn> columns = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.resource = std::move(resource);
  t.kind = std::move(kind);
  t.singular.clear();
  for (char c : t.kind)
    t.singular += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t.namespaced = namespaced;
  t.short_names = std::move(short_names);
  t.columns = std::move(columns);
  t.columns.push_back(kAge);
  return t;
}

std::vector<ResourceType> MakeBuiltins() {
  std::vector<ResourceType> all;
  auto add = [&](ResourceType t, bool status, bool generation) -> ResourceType& {
    t.status_subresource = status;
    t.has_generation = generation;
    all.push_back(std::move(t));
    return all.back();
  };
  add(Builtin("", "v1", "namespaces", "Namespace", false, {"ns"},
              {Col("Status", "string", ".status.phase")}),
      true, false)
      .field_labels = {"status.phase"};
  // Ready, Status and Restarts have no JSONPath: table.cc computes them like kubectl's pod
  // printer.
  add(Builtin(
          "", "v1", "pods", "Pod", true, {"po"},
          {Col("Ready", "string", ""), Col("Status", "string", ""), Col("Restarts", "integer", ""),
           Col("IP", "string", ".status.podIP", 1), Col("Node", "string", ".spec.nodeName", 1)}),
      true, false);
  all.back().categories = {"all"};
  all.back().field_labels = {"spec.nodeName",           "spec.restartPolicy", "spec.schedulerName",
                             "spec.serviceAccountName", "status.phase",       "status.podIP",
                             "status.nominatedNodeName"};
  add(Builtin(
          "", "v1", "services", "Service", true, {"svc"},
          {Col("Type", "string", ".spec.type"), Col("Cluster-IP", "string", ".spec.clusterIP")}),
      true, false)
      .categories = {"all"};
  add(Builtin("", "v1", "endpoints", "Endpoints", true, {"ep"}), false, false);
  add(Builtin("", "v1", "configmaps", "ConfigMap", true, {"cm"}), false, false);
  add(Builtin("", "v1", "secrets", "Secret", true, {}, {Col("Type", "string", ".type")}), false,
      false)
      .field_labels = {"type"};
  add(Builtin("", "v1", "events", "Event", true, {"ev"},
              {Col("Type", "string", ".type"), Col("Reason", "string", ".reason"),
               Col("Message", "string", ".message")}),
      false, false)
      .field_labels = {"involvedObject.kind",
                       "involvedObject.namespace",
                       "involvedObject.name",
                       "involvedObject.uid",
                       "involvedObject.apiVersion",
                       "involvedObject.resourceVersion",
                       "involvedObject.fieldPath",
                       "reason",
                       "reportingComponent",
                       "source",
                       "type"};
  add(Builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, {"pvc"},
              {Col("Status", "string", ".status.phase"),
               Col("Capacity", "string", ".status.capacity.storage"),
               Col("StorageClass", "string", ".spec.storageClassName")}),
      true, false);
  add(Builtin("", "v1", "serviceaccounts", "ServiceAccount", true, {"sa"}), false, false);
  {
    // Cells without a JSONPath are computed like kubectl's printers (table.cc).
    auto wide = [](std::vector<PrinterColumn> cols) {
      for (const char* w : {"Containers", "Images", "Selector"})
        cols.push_back(Col(w, "string", "", 1));
      return cols;
    };
    ResourceType& d =
        add(Builtin("apps", "v1", "deployments", "Deployment", true, {"deploy"},
                    wide({Col("Ready", "string", ""), Col("Up-to-date", "integer", ""),
                          Col("Available", "integer", "")})),
            true, true);
    // AGE before the -o wide columns, as kubectl's printer has it.
    auto age_first = [](ResourceType& t) {
      std::rotate(t.columns.end() - 4, t.columns.end() - 1, t.columns.end());
    };
    age_first(d);
    d.scale = ScaleSubresource{".spec.replicas", ".status.replicas", ""};
    d.categories = {"all"};
    ResourceType& rs = add(Builtin("apps", "v1", "replicasets", "ReplicaSet", true, {"rs"},
                                   wide({Col("Desired", "integer", ""), Col("Current", "integer", ""),
                                         Col("Ready", "integer", "")})),
                           true, true);
    age_first(rs);
    rs.scale = ScaleSubresource{".spec.replicas", ".status.replicas", ""};
    rs.categories = {"all"};
  }
  add(Builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, {"pdb"},
              {Col("Max Unavailable", "string", ".spec.maxUnavailable"),
               Col("Allowed Disruptions", "integer", ".status.disruptionsAllowed")}),
      true, true);
  // events.k8s.io/v1 Events: their own collection here (the real server stores them with the
  // core/v1 Events and converts field names; see docs/devkube.md).
  add(Builtin("events.k8s.io", "v1", "events", "Event", true, {"ev"},
              {Col("Type", "string", ".type"), Col("Reason", "string", ".reason"),
               Col("Note", "string", ".note")}),
      false, false)
      .field_labels = {"reason", "type", "reportingController"};
  add(Builtin("coordination.k8s.io", "v1", "leases", "Lease", true, {},
              {Col("Holder", "string", ".spec.holderIdentity")}),
      false, false);
  for (auto [res, kind, ns] :
       {std::tuple{"roles", "Role", true}, std::tuple{"rolebindings", "RoleBinding", true},
        std::tuple{"clusterroles", "ClusterRole", false},
        std::tuple{"clusterrolebindings", "ClusterRoleBinding", false}}) {
    add(Builtin("rbac.authorization.k8s.io", "v1", res, kind, ns, {}), false, false);
  }
  // Access reviews and SelfSubjectReview: create-only, answered by the front door (security.h).
  for (auto [group, res, kind, ns] :
       {std::tuple{"authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", false},
        std::tuple{"authentication.k8s.io", "tokenreviews", "TokenReview", false},
        std::tuple{"authorization.k8s.io", "localsubjectaccessreviews",
                   "LocalSubjectAccessReview", true},
        std::tuple{"authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                   false},
        std::tuple{"authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview",
                   false}}) {
    add(Builtin(group, "v1", res, kind, ns, {}), false, false).verbs = {"create"};
  }
  add(Builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
              false, {"crd", "crds"}, {Col("Created At", "string", ".metadata.creationTimestamp")}),
      true, true)
      .columns.pop_back();  // real server shows CREATED AT, no AGE
  all.back().categories = {"api-extensions"};
  return all;
}

std::vector<std::string> Strings(const Json* list) {
  std::vector<std::string> out;
  if (list && list->is_array())
    for (const Json& v : list->as_array())
      if (v.is_string()) out.push_back(v.as_string());
  return out;
}

}  // namespace

const std::vector<ResourceType>& BuiltinTypes() {
  static const std::vector<ResourceType> kTypes = MakeBuiltins();
  return kTypes;
}

std::vector<ResourceType> TypesFromCrd(const Json& crd, std::vector<CrdProblem>* problems) {
  auto problem = [&](std::string field, std::string message) {
    problems->push_back({std::move(field), std::move(message)});
  };
  const std::string group = GetString(crd, {"spec", "group"});
  const std::string plural = GetString(crd, {"spec", "names", "plural"});
  const std::string kind = GetString(crd, {"spec", "names", "kind"});
  const std::string scope = GetString(crd, {"spec", "scope"});
  const std::string name = GetString(crd, {"metadata", "name"});
  if (group.empty()) problem("spec.group", "Required value");
  if (plural.empty()) problem("spec.names.plural", "Required value");
  if (kind.empty()) problem("spec.names.kind", "Required value");
  if (scope != "Namespaced" && scope != "Cluster")
    problem("spec.scope", "Unsupported value: " + Json::string(scope).serialize() +
                              ": supported values: \"Cluster\", \"Namespaced\"");
  if (!plural.empty() && !group.empty() && name != plural + "." + group)
    problem("metadata.name", "Invalid value: " + Json::string(name).serialize() +
                                 ": must be spec.names.plural+\".\"+spec.group");
  const Json* versions = Find(crd, {"spec", "versions"});
  if (!versions || !versions->is_array() || versions->size() == 0) {
    problem("spec.versions",
            "Invalid value: null: must have exactly one version marked as "
            "storage version");
    return {};
  }
  std::string storage;
  int storage_count = 0;
  for (const Json& v : versions->as_array()) {
    const Json* st = Find(v, {"storage"});
    if (st && st->is_boolean() && st->as_bool()) {
      ++storage_count;
      storage = GetString(v, {"name"});
    }
  }
  if (storage_count != 1)
    problem("spec.versions", "Invalid value: " + versions->serialize() +
                                 ": must have exactly one version marked as storage version");
  std::vector<ResourceType> out;
  for (size_t i = 0; i < versions->size(); ++i) {
    const Json& v = versions->at(i);
    std::string at = "spec.versions[" + std::to_string(i) + "]";
    ResourceType t;
    t.group = group;
    t.version = GetString(v, {"name"});
    if (t.version.empty()) problem(at + ".name", "Required value");
    const Json* schema = Find(v, {"schema", "openAPIV3Schema"});
    if (!schema || !schema->is_object()) {
      problem(at + ".schema.openAPIV3Schema", "Required value: schemas are required");
      continue;
    }
    const Json* served = Find(v, {"served"});
    if (!served || !served->is_boolean() || !served->as_bool()) continue;
    t.resource = plural;
    t.kind = kind;
    t.singular = GetString(crd, {"spec", "names", "singular"});
    if (t.singular.empty())
      for (char c : kind)
        t.singular += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t.namespaced = scope == "Namespaced";
    t.short_names = Strings(Find(crd, {"spec", "names", "shortNames"}));
    t.categories = Strings(Find(crd, {"spec", "names", "categories"}));
    t.status_subresource = Find(v, {"subresources", "status"}) != nullptr;
    if (const Json* sc = Find(v, {"subresources", "scale"}); sc && sc->is_object()) {
      t.scale = ScaleSubresource{GetString(*sc, {"specReplicasPath"}),
                                 GetString(*sc, {"statusReplicasPath"}),
                                 GetString(*sc, {"labelSelectorPath"})};
      if (t.scale->spec_replicas_path.empty())
        problem(at + ".subresources.scale.specReplicasPath", "Required value");
    }
    t.has_generation = true;
    if (const Json* cols = Find(v, {"additionalPrinterColumns"}); cols && cols->is_array()) {
      for (size_t j = 0; j < cols->size(); ++j) {
        const Json& c = cols->at(j);
        std::string col_at = at + ".additionalPrinterColumns[" + std::to_string(j) + "]";
        if (GetString(c, {"name"}).empty()) problem(col_at + ".name", "Required value");
        if (GetString(c, {"jsonPath"}).empty()) problem(col_at + ".jsonPath", "Required value");
        PrinterColumn pc =
            Col(GetString(c, {"name"}), GetString(c, {"type"}), GetString(c, {"jsonPath"}));
        pc.format = GetString(c, {"format"});
        pc.description = GetString(c, {"description"});
        if (const Json* p = Find(c, {"priority"}); p && p->is_integer())
          pc.priority = p->as_integer();
        t.columns.push_back(std::move(pc));
      }
    } else {
      t.columns.push_back(kAge);
    }
    t.schema = *schema;
    t.storage_version = storage;
    t.custom = true;
    out.push_back(std::move(t));
  }
  if (!problems->empty()) return {};
  return out;
}

}  // namespace zkop::devkube
