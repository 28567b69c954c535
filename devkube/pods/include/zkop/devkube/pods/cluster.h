// What the pod runtime needs from the Kubernetes API, as a small interface: a feed of the
// objects it acts on and the few writes a kubelet (and, here, the scheduler) makes.
// StoreCluster implements it on the emulator's in-process Store; tests may use a fake.
//
// Contract: implementations are thread-safe. Write methods return false and set *error (the
// API's message) on failure; the runtime retries on its next sync. Nothing throws.
#pragma once

#include <cpprest/json.h>

#include <functional>
#include <memory>
#include <string>

namespace zkop::devkube {
class Store;
}

namespace zkop::devkube::pods {

enum class ObjectKind { kPod, kService, kConfigMap, kSecret, kClaim };

struct ClusterEvent {
  ObjectKind kind = ObjectKind::kPod;
  bool deleted = false;     // false: added or modified
  web::json::value object;  // the object (for deletions, its last state)
};

// Ends the feed in its destructor; after that no callback runs.
class ClusterFeed {
 public:
  virtual ~ClusterFeed() = default;
};

class Cluster {
 public:
  virtual ~Cluster() = default;

  // Delivers every current object of each kind, then every change, to `sink` (from any
  // thread; `sink` must not block and must not call back into the Cluster). nullptr + *error
  // when the feed cannot start.
  virtual std::unique_ptr<ClusterFeed> Watch(std::function<void(ClusterEvent)> sink,
                                             std::string* error) = 0;
  // Binds an unscheduled Pod to `node` (spec.nodeName).
  virtual bool BindPod(const std::string& ns, const std::string& name, const std::string& node,
                       std::string* error) = 0;
  // Merge-patches the Pod's status subresource with `status`.
  virtual bool PatchPodStatus(const std::string& ns, const std::string& name,
                              const web::json::value& status, std::string* error) = 0;
  // Confirms that the Pod `uid`'s processes are gone: the kubelet's delete with grace 0.
  // A Pod that is already gone (or replaced by another uid) is success.
  virtual bool ConfirmPodDeletion(const std::string& ns, const std::string& name,
                                  const std::string& uid, std::string* error) = 0;
  // Merge-patches a PersistentVolumeClaim's status subresource.
  virtual bool PatchClaimStatus(const std::string& ns, const std::string& name,
                                const web::json::value& status, std::string* error) = 0;
};

// The Cluster over an in-process emulator Store. The Store must outlive the result.
std::unique_ptr<Cluster> MakeStoreCluster(Store& store);

}  // namespace zkop::devkube::pods
