// OperatorMetrics series bookkeeping and the API verb classification of request paths.
#include "zkop/operator/controller/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace zkop::op {
namespace {

std::string Scrape(const OperatorMetrics& m) {
  return prometheus::TextSerializer().Serialize(m.registry()->Collect());
}

TEST(ApiVerbTest, MethodAndPathGiveTheVerb) {
  EXPECT_EQ(ApiVerb("GET", "/api/v1/namespaces/default/pods/demo-1", false), "get");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/namespaces/default/pods?labelSelector=a%3Db", false), "list");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/pods?limit=500", false), "list");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/namespaces", false), "list");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/namespaces/default", false), "get");
  EXPECT_EQ(ApiVerb("GET", "/apis/zkop.io/v1alpha1/zookeeperclusters", false), "list");
  EXPECT_EQ(
      ApiVerb("GET", "/apis/zkop.io/v1alpha1/namespaces/a/zookeeperclusters/demo/status", false),
      "get");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/namespaces/a/configmaps?watch=true&resourceVersion=5", false),
            "watch");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/watch/namespaces/a/configmaps", false), "watch");
  EXPECT_EQ(ApiVerb("GET", "/api/v1/pods?watch=1", true), "watch");
  EXPECT_EQ(ApiVerb("POST", "/api/v1/namespaces/a/pods", false), "create");
  EXPECT_EQ(ApiVerb("PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/x", false), "update");
  EXPECT_EQ(ApiVerb("PATCH", "/api/v1/namespaces/a/pods/x", false), "patch");
  EXPECT_EQ(ApiVerb("DELETE", "/api/v1/namespaces/a/pods/x", false), "delete");
}

TEST(OperatorMetricsTest, ControllerFamiliesAreExported) {
  OperatorMetrics m("1.2.3");
  m.ObserveReconcile(ReconcileOutcome::Result::kError, 0.02);
  m.ObserveApiRequest("get", "200");
  m.ObserveApiRequest("get", "200");
  m.ObserveApiRequest("watch", "error");
  m.SetLeader(true);
  std::string text = Scrape(m);
  EXPECT_NE(text.find("zkop_operator_build_info{version=\"1.2.3\"} 1"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_reconcile_total{result=\"error\"} 1"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_reconcile_total{result=\"success\"} 0"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_reconcile_duration_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_api_requests_total{code=\"200\",verb=\"get\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("zkop_operator_api_requests_total{code=\"error\",verb=\"watch\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("\nzkop_operator_leader 1\n"), std::string::npos);
}

TEST(OperatorMetricsTest, ClusterSeriesFollowTheClusterAndGoWithIt) {
  OperatorMetrics m("x");
  m.SetClusterPhase("a", "demo", "Running");
  m.SetClusterPhase("b", "demo", "Running");
  m.SetClusterPhase("b", "other", "Creating");
  m.SetMembers("a", "demo", {{"leader", true}, {"follower", true}, {"follower", false}});
  m.IncLeaderElections("a", "demo");
  std::string text = Scrape(m);
  EXPECT_NE(text.find("zkop_operator_clusters{phase=\"Running\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("zkop_operator_clusters{phase=\"Creating\"} 1"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_members{cluster=\"demo\",namespace=\"a\",ready=\"true\","
                      "role=\"follower\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("zkop_operator_leader_elections_total{cluster=\"demo\",namespace=\"a\"} 1"),
            std::string::npos);

  // A member changed role: the old combination's series goes away.
  m.SetMembers("a", "demo", {{"leader", true}, {"follower", true}, {"follower", true}});
  text = Scrape(m);
  EXPECT_EQ(text.find("ready=\"false\""), std::string::npos) << text;
  EXPECT_NE(text.find("ready=\"true\",role=\"follower\"} 2"), std::string::npos);

  m.ForgetCluster("a", "demo");
  text = Scrape(m);
  EXPECT_EQ(text.find("zkop_operator_members{"), std::string::npos) << text;
  EXPECT_EQ(text.find("zkop_operator_leader_elections_total{"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_clusters{phase=\"Running\"} 1"), std::string::npos);
  m.ForgetCluster("b", "other");
  EXPECT_NE(Scrape(m).find("zkop_operator_clusters{phase=\"Creating\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace zkop::op
