// Naming resources and building API paths and queries.
//
// A ResourceRef says where a kind of object lives (group, version, plural,
// scope); any resource works, built-in or custom. Paths are pure functions of
// their inputs so they are unit-tested without a server.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zkop::kube {

struct ResourceRef {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  bool namespaced = true;
  std::string kind;  // "Pod": filled into created objects that lack it

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const ResourceRef&) const = default;
};

// The built-ins zkop uses, and its own custom resource.
namespace resources {
ResourceRef Namespaces();
ResourceRef Pods();
ResourceRef Services();
ResourceRef ConfigMaps();
ResourceRef Secrets();
ResourceRef Events();
ResourceRef PersistentVolumeClaims();
ResourceRef ServiceAccounts();
ResourceRef Deployments();
ResourceRef PodDisruptionBudgets();
ResourceRef Leases();
ResourceRef CustomResourceDefinitions();
ResourceRef ZookeeperClusters();  // zkop.io/v1alpha1
}  // namespace resources

// Options of a list or watch. Unset fields are not sent.
struct ListOptions {
  std::string label_selector;  // "app=zk,tier in (a,b)"
  std::string field_selector;  // "metadata.name=demo"
  int64_t limit = 0;           // page size; 0 = no limit
  std::string continue_token;
  std::string resource_version;
  std::optional<int> timeout_seconds;  // server-side watch/list timeout
  bool allow_bookmarks = false;        // watch only
};

// "/api/v1/namespaces/ns/pods/name/status"; `ns` is ignored for cluster-scoped
// resources and means "all namespaces" when empty; `name`/`subresource` may be empty.
std::string ResourcePath(const ResourceRef& ref, std::string_view ns, std::string_view name = {},
                         std::string_view subresource = {});

// "?labelSelector=...&limit=..." (empty when nothing is set); values are URL-encoded.
std::string ListQuery(const ListOptions& options, bool watch);

// Percent-encodes a query value.
std::string EncodeQueryValue(std::string_view v);

// "a=1,b=2" from a label map (keys in order).
std::string SelectorFromLabels(const std::map<std::string, std::string>& labels);

// A parsed label selector: equality (=, ==, !=), set (in, notin) and existence
// (key, !key) requirements, all of which must hold.
class LabelSelector {
 public:
  // Returns nullopt and sets *error on a malformed selector.
  static std::optional<LabelSelector> Parse(std::string_view text, std::string* error = nullptr);
  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return reqs_.empty(); }

 private:
  struct Requirement {
    enum Op { kIn, kNotIn, kExists, kNotExists } op;
    std::string key;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
};

}  // namespace zkop::kube
