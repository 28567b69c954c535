#include "zkop/operator/cluster/spec.h"

#include <gtest/gtest.h>

namespace zkop::op::cluster {
namespace {

Json Cluster(const std::string& spec_json, const std::string& name = "demo") {
  return Json::parse(R"({"apiVersion":"zkop.io/v1alpha1","kind":"ZookeeperCluster",
      "metadata":{"name":")" +
                     name + R"(","namespace":"ns1","uid":"u-1","generation":4},
      "spec":)" + spec_json +
                     "}");
}

std::vector<std::string> Fields(const std::vector<FieldProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.field + "/" + p.reason);
  return out;
}

TEST(ParseClusterTest, DefaultsForAnEmptySpec) {
  const ParsedCluster p = ParseCluster(Cluster("{}"));
  ASSERT_TRUE(p.ok()) << Fields(p.errors).front();
  EXPECT_EQ(p.spec.name, "demo");
  EXPECT_EQ(p.spec.ns, "ns1");
  EXPECT_EQ(p.spec.uid, "u-1");
  EXPECT_EQ(p.spec.generation, 4);
  EXPECT_EQ(p.spec.replicas, 3);
  EXPECT_EQ(p.spec.image, "zkop/zookeeper:3.8.0");
  EXPECT_EQ(p.spec.storage.size, "1Gi");
  EXPECT_EQ(p.spec.storage.reclaim, ReclaimPolicy::kRetain);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(ParseClusterTest, ReadsEveryField) {
  const ParsedCluster p = ParseCluster(Cluster(R"({"replicas":5,
      "image":"registry.example:5000/team/zookeeper:3.8.1@sha256:abc",
      "imagePullPolicy":"Always","resources":{"limits":{"memory":"1Gi"}},
      "storage":{"size":"10Gi","storageClassName":"fast","reclaimPolicy":"Delete"},
      "config":{"tickTime":"1000","maxClientCnxns":"100"},"jvmFlags":"-Xmx1g",
      "podTemplate":{"labels":{"team":"a"},"annotations":{"x":"y"},"nodeSelector":{"d":"1"},
        "tolerations":[{"key":"k","operator":"Exists"}],"priorityClassName":"high",
        "serviceAccountName":"zk","securityContext":{"runAsUser":2000},
        "affinity":{"nodeAffinity":{}}}})"));
  ASSERT_TRUE(p.ok()) << Fields(p.errors).front();
  EXPECT_EQ(p.spec.replicas, 5);
  EXPECT_EQ(p.spec.image, "registry.example:5000/team/zookeeper:3.8.1@sha256:abc");
  EXPECT_EQ(p.spec.image_pull_policy, "Always");
  EXPECT_EQ(p.spec.storage.size, "10Gi");
  EXPECT_EQ(p.spec.storage.storage_class, "fast");
  EXPECT_EQ(p.spec.storage.reclaim, ReclaimPolicy::kDelete);
  EXPECT_EQ(p.spec.config.at("tickTime"), "1000");
  EXPECT_EQ(p.spec.jvm_flags, "-Xmx1g");
  EXPECT_EQ(p.spec.pod.labels.at("team"), "a");
  EXPECT_EQ(p.spec.pod.priority_class, "high");
  EXPECT_EQ(p.spec.pod.service_account, "zk");
  ASSERT_TRUE(p.spec.pod.tolerations.has_value());
  ASSERT_TRUE(p.spec.pod.security_context.has_value());
  ASSERT_TRUE(p.spec.resources.has_value());
}

struct Refusal {
  const char* spec;
  const char* field;
  const char* reason;
};

std::string RefusalName(const ::testing::TestParamInfo<Refusal>& param) {
  std::string n = std::string(param.param.reason) + "_" + std::to_string(param.index);
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

class RefusedSpecTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(RefusedSpecTest, NamesTheFieldAndTheReason) {
  const ParsedCluster p = ParseCluster(Cluster(GetParam().spec));
  ASSERT_FALSE(p.ok());
  const std::string want = std::string(GetParam().field) + "/" + GetParam().reason;
  const auto got = Fields(p.errors);
  EXPECT_NE(std::find(got.begin(), got.end(), want), got.end())
      << "want " << want << ", got " << (got.empty() ? "" : got.front());
  for (const auto& e : p.errors) EXPECT_FALSE(e.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, RefusedSpecTest,
    ::testing::Values(
        Refusal{R"({"config":{"dataDir":"/x"}})", "spec.config.dataDir", "ManagedConfigKey"},
        Refusal{R"({"config":{"skipACL":"yes"}})", "spec.config.skipACL", "ManagedConfigKey"},
        Refusal{R"({"config":{"server.4":"h:1:2"}})", "spec.config.server.4", "ManagedConfigKey"},
        Refusal{R"({"config":{"reconfigEnabled":"false"}})", "spec.config.reconfigEnabled",
                "ManagedConfigKey"},
        Refusal{R"({"config":{"standaloneEnabled":"true"}})", "spec.config.standaloneEnabled",
                "ManagedConfigKey"},
        Refusal{R"({"config":{"tickTime":"fast"}})", "spec.config.tickTime", "InvalidConfigValue"},
        Refusal{R"({"config":{"initLimit":"0"}})", "spec.config.initLimit", "InvalidConfigValue"},
        Refusal{R"({"config":{"a b":"1"}})", "spec.config.a b", "InvalidConfigKey"},
        Refusal{R"({"config":{"maxClientCnxns":"1\nskipACL=yes"}})", "spec.config.maxClientCnxns",
                "InvalidConfigValue"},
        Refusal{R"({"config":{"tickTime":2000}})", "spec.config.tickTime", "InvalidType"},
        Refusal{R"({"image":"nginx:1.25"})", "spec.image", "NotAZooKeeperImage"},
        Refusal{R"({"image":"zookeeper-exporter:1"})", "spec.image", "NotAZooKeeperImage"},
        Refusal{R"({"image":"zkop/zookeeper 3"})", "spec.image", "InvalidImage"},
        Refusal{R"({"replicas":0})", "spec.replicas", "InvalidReplicas"},
        Refusal{R"({"replicas":10})", "spec.replicas", "InvalidReplicas"},
        Refusal{R"({"replicas":"3"})", "spec.replicas", "InvalidReplicas"},
        Refusal{R"({"jvmFlags":"-Dzookeeper.skipACL=yes"})", "spec.jvmFlags", "ManagedJvmFlag"},
        Refusal{R"({"storage":{"reclaimPolicy":"Recycle"}})", "spec.storage.reclaimPolicy",
                "InvalidReclaimPolicy"},
        Refusal{R"({"podTemplate":{"labels":{"app.kubernetes.io/instance":"x"}}})",
                "spec.podTemplate.labels.app.kubernetes.io/instance", "ManagedLabel"},
        Refusal{R"({"podTemplate":{"tolerations":{}}})", "spec.podTemplate.tolerations",
                "InvalidType"}),
    RefusalName);

TEST(ParseClusterTest, ReportsEveryProblemAtOnce) {
  const ParsedCluster p =
      ParseCluster(Cluster(R"({"image":"nginx","config":{"dataDir":"/x","clientPort":"1"}})"));
  EXPECT_EQ(p.errors.size(), 3u);
}

TEST(ParseClusterTest, EvenReplicasAreAWarningNotAnError) {
  const ParsedCluster p = ParseCluster(Cluster(R"({"replicas":4})"));
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].field, "spec.replicas");
  EXPECT_EQ(p.warnings[0].reason, "EvenReplicas");
}

TEST(ParseClusterTest, NamesTooLongForDerivedNamesAreRefused) {
  const ParsedCluster p = ParseCluster(Cluster("{}", std::string(53, 'a')));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.errors[0].field, "metadata.name");
  EXPECT_TRUE(ParseCluster(Cluster("{}", std::string(52, 'a'))).ok());
}

TEST(ParseClusterTest, MissingSpecIsRefused) {
  const ParsedCluster p =
      ParseCluster(Json::parse(R"({"metadata":{"name":"demo","namespace":"x"}})"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.errors[0].field, "spec");
}

TEST(NamesTest, FollowTheContracts) {
  EXPECT_EQ(MemberPodName("demo", 3), "demo-3");
  EXPECT_EQ(MemberClaimName("demo", 3), "data-demo-3");
  EXPECT_EQ(HeadlessServiceName("demo"), "demo-headless");
  EXPECT_EQ(ClientServiceName("demo"), "demo-client");
  EXPECT_EQ(AdminSecretName("demo"), "demo-admin");
  EXPECT_EQ(ConfigMapName("demo"), "demo-config");
  EXPECT_EQ(DiscoveryConfigMapName("demo"), "demo-discovery");
  EXPECT_EQ(MemberIdOfPod("demo", "demo-3"), 3);
  EXPECT_EQ(MemberIdOfPod("demo", "demo-12"), 12);
  EXPECT_EQ(MemberIdOfPod("demo", "demo-03"), 0);
  EXPECT_EQ(MemberIdOfPod("demo", "demo-x"), 0);
  EXPECT_EQ(MemberIdOfPod("demo", "demox-3"), 0);
  EXPECT_EQ(MemberIdOfPod("demo", "demo-"), 0);
  EXPECT_EQ(MemberIdOfPod("demo-a", "demo-a-2"), 2);
}

}  // namespace
}  // namespace zkop::op::cluster
