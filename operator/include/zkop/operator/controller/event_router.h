// Which ZookeeperCluster an informer event concerns: the pure mapping from watched objects to
// work-queue keys ("<namespace>/<cluster name>"), kept apart from the informers so it is
// unit-tested with plain JSON.
//
//  - A ZookeeperCluster maps to its own key. An update is enqueued only when something a
//    reconcile acts on changed: metadata.generation (the spec), deletionTimestamp, finalizers,
//    labels or annotations — never for a status-only change, so the reconciler's own status
//    writes do not loop. A resync (same resourceVersion) is enqueued.
//  - An owned object (Pod, PVC, ConfigMap, Secret, Service, PodDisruptionBudget labelled
//    app.kubernetes.io/managed-by=zkop) maps to "<its namespace>/<label
//    app.kubernetes.io/instance>"; an update that moves it between instances maps to both.
//    Every change of an owned object counts (a Pod's status is the members' health).
//  - Objects without the labels or a namespace map to nothing.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zkop/kube/client.h"

namespace zkop::op::controller {

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "zkop";
inline constexpr const char* kInstanceLabel = "app.kubernetes.io/instance";

// "ns/name" of a ZookeeperCluster; nullopt without a name or namespace.
std::optional<std::string> ClusterKeyOf(const kube::Json& cluster);
// The cluster an owned object belongs to; nullopt when it is not managed by zkop.
std::optional<std::string> OwnerClusterKeyOf(const kube::Json& owned);

// True when a ZookeeperCluster update needs a reconcile (see above).
bool ClusterUpdateNeedsReconcile(const kube::Json& old_obj, const kube::Json& new_obj);

enum class EventKind { kAdd, kUpdate, kDelete };

// The keys to enqueue for an event (old_obj is ignored for kAdd/kDelete).
std::vector<std::string> KeysForClusterEvent(EventKind kind, const kube::Json& old_obj,
                                             const kube::Json& new_obj);
std::vector<std::string> KeysForOwnedEvent(EventKind kind, const kube::Json& old_obj,
                                           const kube::Json& new_obj);

}  // namespace zkop::op::controller
