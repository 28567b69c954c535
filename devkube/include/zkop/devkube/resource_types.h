// The resource types the emulator serves: the built-in ones zkop touches and one per served
// version of every established CustomResourceDefinition.
//
// Contract: plain values, no locking; the Store owns the registry and hands out copies.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

namespace zkop::devkube {

// A CRD's additionalPrinterColumns entry (also used for the built-ins' Table columns).
struct PrinterColumn {
  std::string name;         // "READY"
  std::string type;         // integer | number | string | boolean | date
  std::string format;       // optional, e.g. "name"
  std::string description;  // optional
  std::string json_path;    // ".status.readyReplicas"; empty: computed (built-in pods only)
  int priority = 0;
};

// The CRD scale subresource: JSON paths (".spec.replicas") into the custom resource.
struct ScaleSubresource {
  std::string spec_replicas_path;
  std::string status_replicas_path;
  std::string label_selector_path;  // may be empty
};

struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, "pods"
  std::string kind;      // "Pod"
  std::string singular;  // "pod"
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool status_subresource = false;
  std::optional<ScaleSubresource> scale;
  bool has_generation = false;         // metadata.generation is maintained
  std::vector<PrinterColumn> columns;  // besides NAME (always first)
  // Custom resources only: the version's openAPIV3Schema (null for built-ins) and the
  // CRD's storage version (objects are stored once, as that version).
  web::json::value schema;
  std::string storage_version;
  bool custom = false;
  // Field selector keys besides metadata.name / metadata.namespace.
  std::vector<std::string> field_labels;
  // Discovery verbs. Empty: the full set of a stored resource. Non-empty (["create"]): a
  // resource with no stored objects (access reviews), answered by the front door.
  std::vector<std::string> verbs;

  // "v1" or "apps/v1".
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "pods" or "deployments.apps": the name used in NotFound/Conflict messages.
  std::string QualifiedResource() const {
    return group.empty() ? resource : resource + "." + group;
  }
  // "Pod" or "ZookeeperCluster.zkop.io": the name used in Invalid messages.
  std::string QualifiedKind() const { return group.empty() ? kind : kind + "." + group; }
};

// The built-in resource types, in discovery order.
const std::vector<ResourceType>& BuiltinTypes();

// A problem found in a CustomResourceDefinition: the field path and what is wrong with it.
struct CrdProblem {
  std::string field;    // "spec.versions"
  std::string message;  // "Invalid value: ...: must have exactly one storage version"
};

// Reads the served versions of a CustomResourceDefinition object. Returns an empty list and
// fills *problems when the CRD is not acceptable.
std::vector<ResourceType> TypesFromCrd(const web::json::value& crd,
                                       std::vector<CrdProblem>* problems);

}  // namespace zkop::devkube
