// Informer events → cluster keys, and the status-only-change filter, on plain JSON objects
// shaped like the API server's.
#include "zkop/operator/controller/event_router.h"

#include <gtest/gtest.h>

namespace zkop::op::controller {
namespace {

using kube::Json;

Json Parse(const std::string& text) { return Json::parse(text); }

Json Cluster(const std::string& extra_metadata = "", const std::string& status = "{}") {
  return Parse(R"({"apiVersion":"zkop.io/v1alpha1","kind":"ZookeeperCluster",
    "metadata":{"name":"demo","namespace":"prod","resourceVersion":"7","generation":1)" +
               extra_metadata + R"(},"spec":{"replicas":3},"status":)" + status + "}");
}

Json Owned(const std::string& labels, const std::string& ns = "prod",
           const std::string& rv = "11") {
  return Parse(R"({"kind":"ConfigMap","metadata":{"name":"demo-config","namespace":")" + ns +
               R"(","resourceVersion":")" + rv + R"(","labels":)" + labels + "}}");
}

constexpr const char* kLabels =
    R"({"app.kubernetes.io/managed-by":"zkop","app.kubernetes.io/instance":"demo"})";

TEST(EventRouterTest, AClusterMapsToItsOwnKey) {
  EXPECT_EQ(KeysForClusterEvent(EventKind::kAdd, Json::null(), Cluster()),
            std::vector<std::string>{"prod/demo"});
  EXPECT_EQ(KeysForClusterEvent(EventKind::kDelete, Json::null(), Cluster()),
            std::vector<std::string>{"prod/demo"});
  EXPECT_TRUE(
      KeysForClusterEvent(EventKind::kAdd, Json::null(), Parse(R"({"metadata":{}})")).empty());
}

TEST(EventRouterTest, AStatusOnlyUpdateIsNotEnqueued) {
  Json before = Cluster();
  Json after = Cluster("", R"({"readyReplicas":3,"observedGeneration":1})");
  after["metadata"]["resourceVersion"] = Json::string("8");
  EXPECT_FALSE(ClusterUpdateNeedsReconcile(before, after));
  EXPECT_TRUE(KeysForClusterEvent(EventKind::kUpdate, before, after).empty());
  // managedFields / resourceVersion churn alone is no reason either.
  after["metadata"]["managedFields"] = Parse(R"([{"manager":"zkop-operator"}])");
  EXPECT_FALSE(ClusterUpdateNeedsReconcile(before, after));
}

TEST(EventRouterTest, SpecMetadataAndDeletionChangesAreEnqueued) {
  Json before = Cluster();
  struct Case {
    const char* what;
    std::string metadata;
  } cases[] = {
      {"generation (spec)", R"(,"generation":2)"},
      {"deletionTimestamp", R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"},
      {"finalizers", R"(,"finalizers":["zkop.io/cleanup"])"},
      {"labels", R"(,"labels":{"team":"a"})"},
      {"annotations", R"(,"annotations":{"zkop.io/pause":"true"})"},
  };
  for (const Case& c : cases) {
    Json after = Cluster();
    Json extra = Parse("{" + c.metadata.substr(1) + "}");
    for (const auto& [k, v] : extra.as_object()) after["metadata"][k] = v;
    after["metadata"]["resourceVersion"] = Json::string("8");
    EXPECT_EQ(KeysForClusterEvent(EventKind::kUpdate, before, after),
              std::vector<std::string>{"prod/demo"})
        << c.what;
  }
}

TEST(EventRouterTest, AResyncOfTheSameVersionIsEnqueued) {
  EXPECT_EQ(KeysForClusterEvent(EventKind::kUpdate, Cluster(), Cluster()),
            std::vector<std::string>{"prod/demo"});
}

TEST(EventRouterTest, OwnedObjectsMapToTheirInstanceInTheirNamespace) {
  EXPECT_EQ(KeysForOwnedEvent(EventKind::kAdd, Json::null(), Owned(kLabels)),
            std::vector<std::string>{"prod/demo"});
  EXPECT_EQ(KeysForOwnedEvent(EventKind::kDelete, Json::null(), Owned(kLabels, "other")),
            std::vector<std::string>{"other/demo"});
  // Every update counts, status included (a Pod's readiness is a member's health).
  EXPECT_EQ(KeysForOwnedEvent(EventKind::kUpdate, Owned(kLabels), Owned(kLabels, "prod", "12")),
            std::vector<std::string>{"prod/demo"});
}

TEST(EventRouterTest, MovingBetweenInstancesEnqueuesBoth) {
  Json moved = Owned(R"({"app.kubernetes.io/managed-by":"zkop","app.kubernetes.io/instance":"b"})");
  EXPECT_EQ(KeysForOwnedEvent(EventKind::kUpdate, Owned(kLabels), moved),
            (std::vector<std::string>{"prod/b", "prod/demo"}));
}

TEST(EventRouterTest, ObjectsNotManagedByZkopMapToNothing) {
  EXPECT_TRUE(KeysForOwnedEvent(EventKind::kAdd, Json::null(),
                                Owned(R"({"app.kubernetes.io/instance":"demo"})"))
                  .empty());
  EXPECT_TRUE(KeysForOwnedEvent(EventKind::kAdd, Json::null(),
                                Owned(R"({"app.kubernetes.io/managed-by":"helm",
                                          "app.kubernetes.io/instance":"demo"})"))
                  .empty());
  EXPECT_TRUE(KeysForOwnedEvent(EventKind::kAdd, Json::null(),
                                Owned(R"({"app.kubernetes.io/managed-by":"zkop"})"))
                  .empty());
  EXPECT_FALSE(OwnerClusterKeyOf(Owned(kLabels, "")).has_value());
}

}  // namespace
}  // namespace zkop::op::controller
