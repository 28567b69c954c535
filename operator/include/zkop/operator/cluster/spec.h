// A ZookeeperCluster's spec as the operator uses it: parsed from the custom resource's JSON,
// defaulted, and checked for what the CRD's schema cannot say.
//
// Contract: ParseCluster is pure, never throws and never stops at the first problem: every
// refused field is reported with its path (as a user writes it: "spec.config.dataDir"),
// what is wrong and how to fix it. A cluster with any error is not applied at all (the
// operator never half-applies a spec); warnings are reported and the spec is applied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zkop/kube/client.h"

namespace zkop::op::cluster {

using kube::Json;

inline constexpr const char* kGroup = "zkop.io";
inline constexpr const char* kApiVersion = "zkop.io/v1alpha1";
inline constexpr const char* kKind = "ZookeeperCluster";
inline constexpr const char* kFinalizer = "zkop.io/cleanup";
inline constexpr int kClientPort = 2181;
inline constexpr int kQuorumPort = 2888;
inline constexpr int kElectionPort = 3888;
inline constexpr int kAdminPort = 8080;
// The zoo.cfg keys that turn on ZooKeeper's own Prometheus provider and set its HTTP port,
// and the port's default.
inline constexpr const char* kMetricsProviderKey = "metricsProvider.className";
inline constexpr const char* kMetricsProviderPortKey = "metricsProvider.httpPort";
inline constexpr int kZooKeeperProviderDefaultPort = 7000;
inline constexpr int kMaxReplicas = 9;

enum class ReclaimPolicy { kRetain, kDelete };

struct StorageSpec {
  std::string size = "1Gi";
  std::string storage_class;  // "" = the cluster default
  ReclaimPolicy reclaim = ReclaimPolicy::kRetain;
};

// Bits of the member Pods' template. JSON values are core/v1 objects passed through as given.
struct PodTemplateSpec {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::map<std::string, std::string> node_selector;
  std::optional<Json> tolerations;       // array
  std::optional<Json> affinity;          // object; replaces the default anti-affinity
  std::optional<Json> security_context;  // object; replaces the default non-root context
  std::string priority_class;
  std::string service_account;
};

struct ClusterSpec {
  // Identity of the custom resource.
  std::string name;
  std::string ns;
  std::string uid;
  int64_t generation = 0;

  int replicas = 3;
  std::string image = "zkop/zookeeper:3.8.0";
  std::string image_pull_policy;  // "" = the cluster's default
  std::optional<Json> resources;  // core/v1 ResourceRequirements
  StorageSpec storage;
  std::map<std::string, std::string> config;  // extra zoo.cfg keys (validated)
  std::string jvm_flags;
  PodTemplateSpec pod;
};

struct FieldProblem {
  std::string field;    // "spec.config.dataDir"
  std::string message;  // what is wrong and how to fix it
  std::string reason;   // CamelCase, for Events and conditions ("ManagedConfigKey")
};

struct ParsedCluster {
  ClusterSpec spec;
  std::vector<FieldProblem> errors;    // the spec is refused
  std::vector<FieldProblem> warnings;  // applied, but the user should know
  bool ok() const { return errors.empty(); }
};

// `cr` is the ZookeeperCluster object (metadata + spec) as the API returns it.
ParsedCluster ParseCluster(const Json& cr);

// zoo.cfg keys the operator owns; a spec that sets one is refused.
bool IsManagedConfigKey(const std::string& key);

// Names derived from the cluster name (contracts of DESIGN.md).
std::string MemberPodName(const std::string& cluster, int id);    // demo-3
std::string MemberClaimName(const std::string& cluster, int id);  // data-demo-3
std::string HeadlessServiceName(const std::string& cluster);      // demo-headless
std::string ClientServiceName(const std::string& cluster);        // demo-client
std::string AdminSecretName(const std::string& cluster);          // demo-admin
std::string ConfigMapName(const std::string& cluster);            // demo-config
std::string DiscoveryConfigMapName(const std::string& cluster);   // demo-discovery
// demo-3.demo-headless.<ns>.svc.<domain>
std::string MemberHost(const ClusterSpec& spec, int id, const std::string& cluster_domain);
// The member id of a Pod name of this cluster ("demo-3" -> 3), or 0.
int MemberIdOfPod(const std::string& cluster, const std::string& pod);

}  // namespace zkop::op::cluster
