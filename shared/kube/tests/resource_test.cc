#include "zkop/kube/resource.h"

#include <gtest/gtest.h>

namespace zkop::kube {
namespace {

TEST(ResourcePathTest, CoreNamespaced) {
  EXPECT_EQ(ResourcePath(resources::Pods(), "ns1"), "/api/v1/namespaces/ns1/pods");
  EXPECT_EQ(ResourcePath(resources::Pods(), "ns1", "demo-1"), "/api/v1/namespaces/ns1/pods/demo-1");
  EXPECT_EQ(ResourcePath(resources::Pods(), "ns1", "demo-1", "status"),
            "/api/v1/namespaces/ns1/pods/demo-1/status");
  EXPECT_EQ(ResourcePath(resources::Pods(), ""), "/api/v1/pods");
}

TEST(ResourcePathTest, GroupedAndClusterScoped) {
  EXPECT_EQ(ResourcePath(resources::Leases(), "kube-system", "zkop"),
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/zkop");
  EXPECT_EQ(ResourcePath(resources::Namespaces(), "ignored", "default"),
            "/api/v1/namespaces/default");
  EXPECT_EQ(ResourcePath(resources::ZookeeperClusters(), "d", "demo", "scale"),
            "/apis/zkop.io/v1alpha1/namespaces/d/zookeeperclusters/demo/scale");
  EXPECT_EQ(resources::ZookeeperClusters().ApiVersion(), "zkop.io/v1alpha1");
  EXPECT_EQ(resources::ConfigMaps().ApiVersion(), "v1");
}

TEST(ListQueryTest, EncodesEverySetOption) {
  ListOptions o;
  EXPECT_EQ(ListQuery(o, false), "");
  o.label_selector = "app=zk,tier in (a,b)";
  o.field_selector = "metadata.name=demo";
  o.limit = 5;
  o.continue_token = "abc=";
  EXPECT_EQ(ListQuery(o, false),
            "?labelSelector=app%3Dzk%2Ctier%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%3Ddemo&limit=5&continue=abc%3D");
}

TEST(ListQueryTest, WatchDropsPagingAndAddsBookmarks) {
  ListOptions o;
  o.limit = 5;
  o.continue_token = "x";
  o.resource_version = "42";
  o.timeout_seconds = 30;
  o.allow_bookmarks = true;
  EXPECT_EQ(ListQuery(o, true),
            "?watch=1&resourceVersion=42&timeoutSeconds=30&allowWatchBookmarks=true");
}

TEST(SelectorTest, FromLabels) {
  EXPECT_EQ(SelectorFromLabels({{"b", "2"}, {"a", "1"}}), "a=1,b=2");
}

TEST(SelectorTest, EqualityAndSetBased) {
  std::map<std::string, std::string> labels{
      {"app", "zk"}, {"tier", "b"}, {"zkop.io/member-id", "1"}};
  auto match = [&](std::string_view s) {
    std::string error;
    auto sel = LabelSelector::Parse(s, &error);
    EXPECT_TRUE(sel.has_value()) << error;
    return sel && sel->Matches(labels);
  };
  EXPECT_TRUE(match(""));
  EXPECT_TRUE(match("app=zk"));
  EXPECT_TRUE(match("app==zk, tier in (a, b)"));
  EXPECT_FALSE(match("app!=zk"));
  EXPECT_TRUE(match("tier notin (c)"));
  EXPECT_FALSE(match("tier notin (a,b)"));
  EXPECT_TRUE(match("zkop.io/member-id"));
  EXPECT_FALSE(match("!zkop.io/member-id"));
  EXPECT_TRUE(match("!missing,app"));
  EXPECT_FALSE(match("missing in (x)"));
  EXPECT_TRUE(match("missing notin (x)"));
}

TEST(SelectorTest, MalformedIsNamed) {
  std::string error;
  EXPECT_FALSE(LabelSelector::Parse("app in (a,b", &error));
  EXPECT_NE(error.find("expected ')'"), std::string::npos) << error;
  EXPECT_FALSE(LabelSelector::Parse("a=b c=d", &error));
  EXPECT_NE(error.find("expected ','"), std::string::npos) << error;
  EXPECT_FALSE(LabelSelector::Parse("=x", &error));
  EXPECT_NE(error.find("offset 0"), std::string::npos) << error;
}

}  // namespace
}  // namespace zkop::kube
