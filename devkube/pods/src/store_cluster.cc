#include <vector>

#include "zkop/devkube/pods/cluster.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube::pods {
namespace {

struct KindInfo {
  ObjectKind kind;
  const char* resource;
};
constexpr KindInfo kKinds[] = {{ObjectKind::kConfigMap, "configmaps"},
                               {ObjectKind::kSecret, "secrets"},
                               {ObjectKind::kClaim, "persistentvolumeclaims"},
                               {ObjectKind::kService, "services"},
                               {ObjectKind::kPod, "pods"}};

class StoreFeed : public ClusterFeed {
 public:
  std::vector<std::unique_ptr<Subscription>> subscriptions;
};

class StoreCluster : public Cluster {
 public:
  explicit StoreCluster(Store& store) : store_(store) {}

  std::unique_ptr<ClusterFeed> Watch(std::function<void(ClusterEvent)> sink,
                                     std::string* error) override {
    auto feed = std::make_unique<StoreFeed>();
    for (const auto& k : kKinds) {
      WatchRequest request{"", "v1", k.resource, "", std::nullopt};
      const ObjectKind kind = k.kind;
      auto sub = store_.Watch(request, [sink, kind](const WatchEvent& e) {
        sink(ClusterEvent{kind, e.type == WatchEvent::Type::kDeleted, e.object});
      });
      if (!sub.ok()) {
        *error = std::string("watch ") + k.resource + ": " + sub.status.message;
        return nullptr;
      }
      feed->subscriptions.push_back(std::move(sub.value));
    }
    return feed;
  }

  bool BindPod(const std::string& ns, const std::string& name, const std::string& node,
               std::string* error) override {
    web::json::value spec = web::json::value::object();
    spec["nodeName"] = web::json::value::string(node);
    web::json::value patch = web::json::value::object();
    patch["spec"] = spec;
    return Check(store_.Patch(Ref("pods", ns, name, ""), PatchType::kMerge, patch.serialize()),
                 error);
  }

  bool PatchPodStatus(const std::string& ns, const std::string& name,
                      const web::json::value& status, std::string* error) override {
    return PatchStatus("pods", ns, name, status, error);
  }

  bool ConfirmPodDeletion(const std::string& ns, const std::string& name, const std::string& uid,
                          std::string* error) override {
    DeleteOptions options;
    options.grace_period_seconds = 0;
    options.precondition_uid = uid;
    auto r = store_.Delete(Ref("pods", ns, name, ""), options);
    if (r.status.code == 404 || r.status.code == 409) return true;  // gone, or another uid
    return Check(r, error);
  }

  bool PatchClaimStatus(const std::string& ns, const std::string& name,
                        const web::json::value& status, std::string* error) override {
    return PatchStatus("persistentvolumeclaims", ns, name, status, error);
  }

 private:
  static ResourceRef Ref(const char* resource, const std::string& ns, const std::string& name,
                         const char* sub) {
    return ResourceRef{"", "v1", resource, ns, name, sub};
  }
  static bool Check(const Result<web::json::value>& r, std::string* error) {
    if (r.ok()) return true;
    *error = r.status.message;
    return false;
  }
  bool PatchStatus(const char* resource, const std::string& ns, const std::string& name,
                   const web::json::value& status, std::string* error) {
    web::json::value patch = web::json::value::object();
    patch["status"] = status;
    return Check(
        store_.Patch(Ref(resource, ns, name, "status"), PatchType::kMerge, patch.serialize()),
        error);
  }

  Store& store_;
};

}  // namespace

std::unique_ptr<Cluster> MakeStoreCluster(Store& store) {
  return std::make_unique<StoreCluster>(store);
}

}  // namespace zkop::devkube::pods
