// The objects a ZookeeperCluster gets, rendered by pure functions: no I/O, no clock, no
// randomness (the admin password is an input), so the same inputs give byte-identical
// objects. Applying them is a separate step (apply.h).
//
// Every object carries the labels app.kubernetes.io/name=zookeeper,
// app.kubernetes.io/instance=<cluster>, app.kubernetes.io/managed-by=zkop and an owner
// reference to the cluster (controller=true), except member PVCs: their lifetime follows
// spec.storage.reclaimPolicy through the cluster's finalizer, and an owner reference would let
// the garbage collector delete data the user asked to retain.
#pragma once

#include <string>
#include <vector>

#include "zkop/operator/cluster/spec.h"
#include "zkop/zk/ensemble_config.h"

namespace zkop::op::cluster {

struct RenderOptions {
  std::string cluster_domain = "cluster.local";
};

// Annotations on member Pods.
inline constexpr const char* kTemplateHashAnnotation = "zkop.io/pod-template-hash";
inline constexpr const char* kConfigHashAnnotation = "zkop.io/config-hash";
inline constexpr const char* kMemberIdLabel = "zkop.io/member-id";
// On a claim created by a scale-up: the operation's startedAt (a claim without it is stale).
inline constexpr const char* kOperationAnnotation = "zkop.io/operation";

// app.kubernetes.io/name + instance: what the Services, the PDB and the scale subresource select.
std::map<std::string, std::string> SelectorLabels(const std::string& cluster);
// SelectorLabels + app.kubernetes.io/managed-by=zkop.
std::map<std::string, std::string> ObjectLabels(const std::string& cluster);
// "app.kubernetes.io/instance=demo,app.kubernetes.io/name=zookeeper"
std::string SelectorString(const std::string& cluster);
Json OwnerReference(const ClusterSpec& spec);

// Member `id` as a server line: "server.<id>=<host>:2888:3888:<role>;<host>:2181".
zk::Member MemberOf(const ClusterSpec& spec, int id, const std::string& role,
                    const RenderOptions& options);
// Members 1..spec.replicas as participants: the membership a new cluster starts with.
zk::EnsembleConfig InitialMembership(const ClusterSpec& spec, const RenderOptions& options);

// zoo.cfg: the static settings (sorted; operator-owned keys first, then spec.config).
std::string RenderStaticConfig(const ClusterSpec& spec);
// zoo.cfg.dynamic: one server line per member, by id (no version line).
std::string RenderDynamicConfig(const zk::EnsembleConfig& membership);

// Secret <cluster>-admin: keys username ("super"), password, digest ("super:<base64 sha1>",
// the file ZK_SUPER_DIGEST_FILE reads).
Json RenderAdminSecret(const ClusterSpec& spec, const std::string& password);
// ConfigMap <cluster>-config: zoo.cfg and zoo.cfg.dynamic.
Json RenderConfigMap(const ClusterSpec& spec, const zk::EnsembleConfig& membership);
// ConfigMap <cluster>-discovery: ZOOKEEPER, ZOOKEEPER_HOSTS, ZOOKEEPER_CLIENT_PORT,
// DUBBO_REGISTRY_ADDRESS.
Json RenderDiscoveryConfigMap(const ClusterSpec& spec, const zk::EnsembleConfig& membership,
                              const RenderOptions& options);
Json RenderHeadlessService(const ClusterSpec& spec);
Json RenderClientService(const ClusterSpec& spec);
Json RenderPodDisruptionBudget(const ClusterSpec& spec);
// PVC data-<cluster>-<id>.
Json RenderMemberClaim(const ClusterSpec& spec, int id);
// Pod <cluster>-<id>, annotated with the hash of its template and of the static config.
Json RenderMemberPod(const ClusterSpec& spec, int id);

// The connect string of the client Service: "<cluster>-client.<ns>.svc.<domain>:2181".
std::string ClientConnectString(const ClusterSpec& spec, const RenderOptions& options);

// Everything a new cluster of this spec gets, in the order the operator creates it.
std::vector<Json> RenderCluster(const ClusterSpec& spec, const std::string& password,
                                const RenderOptions& options);

// A new admin password: 32 characters [A-Za-z0-9] from std::random_device. Not pure (the
// renderers take the password as an input instead of calling this).
std::string NewAdminPassword();

// 16 hex digits (FNV-1a 64) of a text; stable across runs and machines.
std::string StableHash(const std::string& text);

}  // namespace zkop::op::cluster
