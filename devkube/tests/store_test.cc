// The in-process Store API (used by the local pod runtime and tests): same semantics as HTTP,
// subscriptions delivered in resourceVersion order, unsubscribe on destruction.
#include <gtest/gtest.h>

#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {
namespace {

Json Obj(const std::string& json) {
  std::string error;
  return *ParseJson(json, &error);
}

TEST(Store, CrudAndSubscriptionInProcess) {
  Store store;
  std::vector<std::string> seen;
  WatchRequest wr{"", "v1", "configmaps", "", std::nullopt};
  auto sub = store.Watch(wr, [&](const WatchEvent& ev) {
    seen.push_back(std::string(WatchEventTypeName(ev.type)) + ":" +
                   GetString(ev.object, {"metadata", "name"}) + "@" +
                   GetString(ev.object, {"metadata", "namespace"}));
  });
  ASSERT_TRUE(sub.ok());
  ResourceRef cms{"", "v1", "configmaps", "", "", ""};
  auto created = store.Create(cms, Obj(R"({"metadata":{"name":"a"}})"));
  ASSERT_TRUE(created.ok()) << created.status.message;
  EXPECT_EQ(GetString(created.value, {"kind"}), "ConfigMap");
  ResourceRef a{"", "v1", "configmaps", "default", "a", ""};
  EXPECT_TRUE(store.Patch(a, PatchType::kMerge, R"({"data":{"k":"v"}})").ok());
  auto conflict = store.Update(a, created.value);  // stale resourceVersion
  EXPECT_EQ(conflict.status.code, 409);
  EXPECT_TRUE(store.Delete(a).ok());
  EXPECT_EQ(store.Get(a).status.code, 404);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED:a@default", "MODIFIED:a@default",
                                            "DELETED:a@default"}));
  sub.value.reset();
  store.Create(cms, Obj(R"({"metadata":{"name":"b"}})"));
  EXPECT_EQ(seen.size(), 3u);  // unsubscribed
}

TEST(Store, SnapshotRestoreKeepsObjectsAndCounter) {
  Store a;
  ResourceRef cms{"", "v1", "configmaps", "default", "", ""};
  a.Create(cms, Obj(R"({"metadata":{"name":"x"},"data":{"k":"v"}})"));
  Json snap = a.Snapshot();
  Store b;
  ASSERT_TRUE(b.Restore(snap).ok());
  EXPECT_EQ(b.CurrentResourceVersion(), a.CurrentResourceVersion());
  auto x = b.Get({"", "v1", "configmaps", "default", "x", ""});
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(GetString(x.value, {"data", "k"}), "v");
  EXPECT_EQ(b.Restore(Obj(R"({"objects":1})")).code, 400);
}

}  // namespace
}  // namespace zkop::devkube
