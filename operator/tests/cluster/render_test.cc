#include "zkop/operator/cluster/render.h"

#include <cpprest/asyncrt_utils.h>
#include <gtest/gtest.h>

#include "zkop/zk/acl.h"

namespace zkop::op::cluster {
namespace {

ClusterSpec Spec(int replicas = 3) {
  ClusterSpec s;
  s.name = "demo";
  s.ns = "prod";
  s.uid = "uid-1";
  s.replicas = replicas;
  return s;
}

std::string Decode(const Json& v) {
  const auto bytes = utility::conversions::from_base64(v.as_string());
  return std::string(bytes.begin(), bytes.end());
}

std::string Label(const Json& obj, const std::string& key) {
  return obj.at("metadata").at("labels").at(key).as_string();
}

TEST(RenderClusterTest, ANewClusterGetsEveryObjectInCreationOrder) {
  const auto objects = RenderCluster(Spec(3), "pw", {});
  std::vector<std::string> got;
  for (const auto& o : objects)
    got.push_back(o.at("kind").as_string() + "/" + o.at("metadata").at("name").as_string());
  EXPECT_EQ(got, (std::vector<std::string>{"Secret/demo-admin", "ConfigMap/demo-config",
                                           "Service/demo-headless", "Service/demo-client",
                                           "PodDisruptionBudget/demo", "ConfigMap/demo-discovery",
                                           "PersistentVolumeClaim/data-demo-1", "Pod/demo-1",
                                           "PersistentVolumeClaim/data-demo-2", "Pod/demo-2",
                                           "PersistentVolumeClaim/data-demo-3", "Pod/demo-3"}));
  for (const auto& o : objects) {
    SCOPED_TRACE(o.at("metadata").at("name").as_string());
    EXPECT_EQ(o.at("metadata").at("namespace").as_string(), "prod");
    EXPECT_EQ(Label(o, "app.kubernetes.io/name"), "zookeeper");
    EXPECT_EQ(Label(o, "app.kubernetes.io/instance"), "demo");
    EXPECT_EQ(Label(o, "app.kubernetes.io/managed-by"), "zkop");
    const bool claim = o.at("kind").as_string() == "PersistentVolumeClaim";
    EXPECT_EQ(o.at("metadata").has_field("ownerReferences"), !claim);
    if (!claim) {
      const Json& ref = o.at("metadata").at("ownerReferences").at(0);
      EXPECT_EQ(ref.at("kind").as_string(), "ZookeeperCluster");
      EXPECT_EQ(ref.at("uid").as_string(), "uid-1");
      EXPECT_TRUE(ref.at("controller").as_bool());
    }
  }
}

TEST(RenderClusterTest, IsPure) {
  const auto a = RenderCluster(Spec(5), "pw", {});
  const auto b = RenderCluster(Spec(5), "pw", {});
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].serialize(), b[i].serialize());
}

TEST(RenderConfigTest, StaticConfigFollowsTheReconfigRules) {
  ClusterSpec s = Spec();
  s.config["tickTime"] = "1000";
  s.config["maxClientCnxns"] = "60";
  const std::string cfg = RenderStaticConfig(s);
  for (const char* line :
       {"reconfigEnabled=true\n", "standaloneEnabled=false\n", "tickTime=1000\n", "initLimit=10\n",
        "syncLimit=5\n", "maxClientCnxns=60\n", "autopurge.purgeInterval=1\n",
        "4lw.commands.whitelist=srvr,stat,conf,ruok,mntr,envi,isro,wchs,dirs\n"})
    EXPECT_NE(cfg.find(line), std::string::npos) << line << " in\n" << cfg;
  EXPECT_EQ(cfg.find("tickTime=2000"), std::string::npos);
  for (const char* banned : {"dataDir", "dynamicConfigFile", "skipACL", "clientPort="})
    EXPECT_EQ(cfg.find(banned), std::string::npos) << banned;
}

TEST(RenderConfigTest, DynamicConfigHasTheClientPortInEveryServerLine) {
  const Json cm = RenderConfigMap(Spec(3), InitialMembership(Spec(3), {}));
  EXPECT_EQ(cm.at("data").at("zoo.cfg.dynamic").as_string(),
            "server.1=demo-1.demo-headless.prod.svc.cluster.local:2888:3888:participant;"
            "demo-1.demo-headless.prod.svc.cluster.local:2181\n"
            "server.2=demo-2.demo-headless.prod.svc.cluster.local:2888:3888:participant;"
            "demo-2.demo-headless.prod.svc.cluster.local:2181\n"
            "server.3=demo-3.demo-headless.prod.svc.cluster.local:2888:3888:participant;"
            "demo-3.demo-headless.prod.svc.cluster.local:2181\n");
  RenderOptions other;
  other.cluster_domain = "corp.internal";
  EXPECT_EQ(MemberOf(Spec(), 2, "observer", other).ServerLine(),
            "server.2=demo-2.demo-headless.prod.svc.corp.internal:2888:3888:observer;"
            "demo-2.demo-headless.prod.svc.corp.internal:2181");
}

TEST(RenderSecretTest, HoldsThePasswordAndItsSuperDigest) {
  const Json secret = RenderAdminSecret(Spec(), "s3cret");
  EXPECT_EQ(Decode(secret.at("data").at("username")), "super");
  EXPECT_EQ(Decode(secret.at("data").at("password")), "s3cret");
  EXPECT_EQ(Decode(secret.at("data").at("digest")), zk::DigestId("super", "s3cret"));
  EXPECT_EQ(secret.at("type").as_string(), "Opaque");
}

TEST(RenderDiscoveryTest, GivesClientsWhatTheyEnvFrom) {
  const Json cm = RenderDiscoveryConfigMap(Spec(3), InitialMembership(Spec(3), {}), {});
  const Json& d = cm.at("data");
  EXPECT_EQ(d.at("ZOOKEEPER").as_string(),
            "demo-1.demo-headless.prod.svc.cluster.local:2181,"
            "demo-2.demo-headless.prod.svc.cluster.local:2181,"
            "demo-3.demo-headless.prod.svc.cluster.local:2181");
  EXPECT_EQ(d.at("ZOOKEEPER_HOSTS").as_string(),
            "demo-1.demo-headless.prod.svc.cluster.local,"
            "demo-2.demo-headless.prod.svc.cluster.local,"
            "demo-3.demo-headless.prod.svc.cluster.local");
  EXPECT_EQ(d.at("ZOOKEEPER_CLIENT_PORT").as_string(), "2181");
  EXPECT_EQ(d.at("DUBBO_REGISTRY_ADDRESS").as_string(),
            "zookeeper://demo-client.prod.svc.cluster.local:2181");
}

TEST(RenderServicesTest, HeadlessPublishesNotReadyMembersAndClientSelectsMembers) {
  const Json headless = RenderHeadlessService(Spec());
  EXPECT_EQ(headless.at("spec").at("clusterIP").as_string(), "None");
  EXPECT_TRUE(headless.at("spec").at("publishNotReadyAddresses").as_bool());
  EXPECT_EQ(headless.at("spec").at("ports").size(), 3u);
  const Json client = RenderClientService(Spec());
  EXPECT_EQ(client.at("spec").at("ports").size(), 1u);
  EXPECT_EQ(client.at("spec").at("ports").at(0).at("port").as_integer(), 2181);
  EXPECT_EQ(client.at("spec").at("selector").at("app.kubernetes.io/instance").as_string(), "demo");
  const Json pdb = RenderPodDisruptionBudget(Spec());
  EXPECT_EQ(pdb.at("spec").at("maxUnavailable").as_integer(), 1);
}

TEST(RenderPodTest, MemberPodRunsTheServerSafely) {
  const Json pod = RenderMemberPod(Spec(), 2);
  const Json& spec = pod.at("spec");
  EXPECT_EQ(pod.at("metadata").at("name").as_string(), "demo-2");
  EXPECT_EQ(Label(pod, "zkop.io/member-id"), "2");
  EXPECT_EQ(spec.at("hostname").as_string(), "demo-2");
  EXPECT_EQ(spec.at("subdomain").as_string(), "demo-headless");
  EXPECT_TRUE(spec.at("securityContext").at("runAsNonRoot").as_bool());
  EXPECT_EQ(spec.at("securityContext").at("fsGroup").as_integer(), 1000);
  EXPECT_EQ(spec.at("affinity")
                .at("podAntiAffinity")
                .at("preferredDuringSchedulingIgnoredDuringExecution")
                .at(0)
                .at("podAffinityTerm")
                .at("topologyKey")
                .as_string(),
            "kubernetes.io/hostname");
  const Json& c = spec.at("containers").at(0);
  EXPECT_EQ(c.at("image").as_string(), "zkop/zookeeper:3.8.0");
  const std::string probe = c.at("readinessProbe").serialize();
  EXPECT_EQ(probe.find("\"nc"), std::string::npos) << probe;
  EXPECT_NE(probe.find("srvr"), std::string::npos);
  EXPECT_TRUE(c.at("livenessProbe").has_field("tcpSocket"));
  EXPECT_FALSE(c.at("securityContext").at("allowPrivilegeEscalation").as_bool());
  std::map<std::string, std::string> env;
  for (const auto& e : c.at("env").as_array())
    env[e.at("name").as_string()] = e.has_field("value") ? e.at("value").as_string() : "<ref>";
  EXPECT_EQ(env["ZK_MEMBER_ID"], "2");
  EXPECT_EQ(env["ZK_SUPER_DIGEST_FILE"], "/etc/zkop/admin/digest");
  EXPECT_EQ(env["POD_IP"], "<ref>");
  EXPECT_EQ(spec.at("volumes").at(2).at("persistentVolumeClaim").at("claimName").as_string(),
            "data-demo-2");
  EXPECT_EQ(pod.serialize().find("skipACL"), std::string::npos);
}

TEST(RenderPodTest, ZooKeepersOwnMetricsProviderGetsANamedPort) {
  auto ports = [](const ClusterSpec& s) {
    const Json pod = RenderMemberPod(s, 1);
    std::map<std::string, int64_t> out;
    for (const auto& p : pod.at("spec").at("containers").at(0).at("ports").as_array())
      out[p.at("name").as_string()] = p.at("containerPort").as_integer();
    return out;
  };
  EXPECT_EQ(ports(Spec()).count("metrics"), 0u) << "no provider, no port";
  ClusterSpec s = Spec();
  s.config["metricsProvider.className"] =
      "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
  EXPECT_EQ(ports(s)["metrics"], 7000);
  s.config["metricsProvider.httpPort"] = "7070";
  EXPECT_EQ(ports(s)["metrics"], 7070);
  EXPECT_EQ(ports(s)["client"], 2181);
}

TEST(RenderPodTest, SpecOverridesReachThePod) {
  ClusterSpec s = Spec();
  s.pod.labels["team"] = "payments";
  s.pod.node_selector["disk"] = "ssd";
  s.pod.priority_class = "critical";
  s.pod.service_account = "zk";
  s.pod.tolerations = Json::parse(R"([{"key":"dedicated","operator":"Exists"}])");
  s.resources = Json::parse(R"({"requests":{"cpu":"500m"}})");
  s.jvm_flags = "-Xmx256m";
  s.image_pull_policy = "IfNotPresent";
  const Json pod = RenderMemberPod(s, 1);
  EXPECT_EQ(Label(pod, "team"), "payments");
  EXPECT_EQ(pod.at("spec").at("nodeSelector").at("disk").as_string(), "ssd");
  EXPECT_EQ(pod.at("spec").at("priorityClassName").as_string(), "critical");
  EXPECT_EQ(pod.at("spec").at("serviceAccountName").as_string(), "zk");
  EXPECT_EQ(pod.at("spec").at("tolerations").size(), 1u);
  const Json& c = pod.at("spec").at("containers").at(0);
  EXPECT_EQ(c.at("resources").at("requests").at("cpu").as_string(), "500m");
  EXPECT_EQ(c.at("imagePullPolicy").as_string(), "IfNotPresent");
  EXPECT_NE(c.at("env").serialize().find("-Xmx256m"), std::string::npos);
}

std::string Hash(const Json& pod) {
  return pod.at("metadata").at("annotations").at(kTemplateHashAnnotation).as_string();
}

TEST(RenderPodTest, TemplateHashIsSharedByMembersAndFollowsTheTemplate) {
  ClusterSpec s = Spec();
  const std::string h1 = Hash(RenderMemberPod(s, 1));
  EXPECT_EQ(h1.size(), 16u);
  EXPECT_EQ(h1, Hash(RenderMemberPod(s, 3)));
  s.image = "zkop/zookeeper:3.9.0";
  EXPECT_NE(Hash(RenderMemberPod(s, 1)), h1);
  ClusterSpec c = Spec();
  c.config["maxClientCnxns"] = "10";  // a static setting is part of the template
  EXPECT_NE(Hash(RenderMemberPod(c, 1)), h1);
  ClusterSpec r = Spec(5);  // the size is not
  EXPECT_EQ(Hash(RenderMemberPod(r, 1)), h1);
}

TEST(RenderClaimTest, ClaimsAskForTheSpecsStorage) {
  ClusterSpec s = Spec();
  s.storage.size = "20Gi";
  s.storage.storage_class = "fast";
  const Json claim = RenderMemberClaim(s, 4);
  EXPECT_EQ(claim.at("metadata").at("name").as_string(), "data-demo-4");
  EXPECT_EQ(Label(claim, "zkop.io/member-id"), "4");
  EXPECT_EQ(claim.at("spec").at("resources").at("requests").at("storage").as_string(), "20Gi");
  EXPECT_EQ(claim.at("spec").at("storageClassName").as_string(), "fast");
}

TEST(StableHashTest, IsFnv1a64) {
  EXPECT_EQ(StableHash(""), "cbf29ce484222325");
  EXPECT_EQ(StableHash("a"), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace zkop::op::cluster
