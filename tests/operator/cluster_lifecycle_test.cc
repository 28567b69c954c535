// A ZookeeperCluster's life on real ZooKeeper servers: kubectl apply -> Ready with a leader,
// served through the client Service; members repaired with their id and data; quorum lost and
// regained with no manual step; no API writes at rest; deletion per reclaim policy.
#include <signal.h>

#include <sstream>

#include "operator_env.h"
#include "zkop/kube/resource.h"
#include "zkop/zk/client.h"

namespace zkop::op::testing {
namespace {

namespace res = kube::resources;

class ClusterLifecycleTest : public OperatorEnv {
 protected:
  std::string Uid(const kube::ResourceRef& ref, const std::string& name) {
    const auto obj = Get(ref, name);
    return obj ? kube::UidOf(*obj) : "";
  }

  bool PodReady(const std::string& name) {
    const auto pod = Get(res::Pods(), name);
    if (!pod || !pod->has_field("status") || !pod->at("status").has_field("conditions"))
      return false;
    for (const auto& c : pod->at("status").at("conditions").as_array())
      if (c.at("type").as_string() == "Ready") return c.at("status").as_string() == "True";
    return false;
  }

  int ContainerPid(const std::string& pod_name) {
    const auto pod = Get(res::Pods(), pod_name);
    if (!pod || !pod->has_field("status") || !pod->at("status").has_field("containerStatuses"))
      return 0;
    const auto& cs = pod->at("status").at("containerStatuses").at(0);
    if (!cs.at("state").has_field("running")) return 0;
    return std::stoi(cs.at("containerID").as_string().substr(std::string("local://").size()));
  }

  // Reads `path` through one member only (its Pod address).
  std::string ReadFromMember(const std::string& pod_name, const std::string& path) {
    const auto pod = Get(res::Pods(), pod_name);
    if (!pod) return "<no pod>";
    zk::ClientOptions o;
    o.connect = pod->at("status").at("podIP").as_string() + ":2181";
    o.session_timeout = 10s;
    zk::Client client(o);
    if (!client.Connect(20s).ok()) return "<no connection>";
    client.Sync(path);
    const auto got = client.Get(path);
    return got.status.ok() ? got.data : "<" + got.status.ToString() + ">";
  }

  // Lines of `text` that start with `prefix` and end with `suffix`.
  static std::vector<std::string> Lines(const std::string& text, const std::string& prefix,
                                        const std::string& suffix) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(prefix, 0) == 0 && line.size() >= suffix.size() &&
          line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(line);
    }
    return out;
  }

  std::string StatusField(const std::string& cluster, const std::string& field) {
    const auto cr = Get(res::ZookeeperClusters(), cluster);
    if (!cr || !cr->has_field("status") || !cr->at("status").has_field(field)) return "";
    const Json& v = cr->at("status").at(field);
    return v.is_string() ? v.as_string() : v.serialize();
  }
};

TEST_F(ClusterLifecycleTest, ReadyServedRepairedAndBackFromQuorumLossWithNoWritesAtRest) {
  StartOperator("main");
  Apply(ClusterYaml("demo", 3));
  ASSERT_TRUE(WaitReady("demo", 180s)) << Explain("demo");

  // Status and printer columns.
  EXPECT_TRUE(WaitFor([&] { return StatusField("demo", "readyReplicas") == "3"; }, 60s))
      << Explain("demo");
  const std::string leader = StatusField("demo", "leader");
  EXPECT_EQ(leader.rfind("demo-", 0), 0u) << leader;
  EXPECT_EQ(StatusField("demo", "version"), "3.8.0");
  EXPECT_EQ(StatusField("demo", "connectString"), "demo-client.default.svc.cluster.local:2181");
  std::string table;
  ASSERT_EQ(Kubectl({"get", "zkc", "demo"}, &table), 0) << table;
  EXPECT_NE(table.find("READY"), std::string::npos) << table;
  EXPECT_NE(table.find("LEADER"), std::string::npos) << table;
  EXPECT_NE(table.find("VERSION"), std::string::npos) << table;
  EXPECT_NE(table.find(leader), std::string::npos) << table;
  EXPECT_NE(table.find("3.8.0"), std::string::npos) << table;

  // What the cluster got, each owned by it (claims excepted: they follow the reclaim policy).
  for (const auto& [ref, name] :
       std::vector<std::pair<kube::ResourceRef, std::string>>{{res::Secrets(), "demo-admin"},
                                                              {res::ConfigMaps(), "demo-config"},
                                                              {res::ConfigMaps(), "demo-discovery"},
                                                              {res::Services(), "demo-headless"},
                                                              {res::Services(), "demo-client"},
                                                              {res::PodDisruptionBudgets(), "demo"},
                                                              {res::Pods(), "demo-1"}}) {
    const auto obj = Get(ref, name);
    ASSERT_TRUE(obj) << ref.resource << "/" << name;
    EXPECT_EQ(obj->at("metadata").at("ownerReferences").at(0).at("name").as_string(), "demo");
  }
  for (int k = 1; k <= 3; ++k)
    EXPECT_TRUE(Get(res::PersistentVolumeClaims(), "data-demo-" + std::to_string(k)));

  // The connect string works for zkop's ZooKeeper client, from a Pod, through the Service.
  std::string out;
  ASSERT_TRUE(RunInPod("writer",
                       {ZKOP_ZK_CLI_BIN, "--connect", "demo-client.default.svc.cluster.local:2181",
                        "put", "/e2e/data", "written-through-demo-client"},
                       &out, "demo-discovery"))
      << out;
  ASSERT_TRUE(RunInPod(
      "reader",
      {"sh", "-c", std::string(ZKOP_ZK_CLI_BIN) + " --connect \"$ZOOKEEPER\" get /e2e/data"}, &out,
      "demo-discovery"))
      << out;
  EXPECT_NE(out.find("written-through-demo-client"), std::string::npos) << out;

  // The operator's metrics say what the status says, and pass promtool.
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = OperatorHttp("main", "/metrics");
        return metrics.find("zkop_operator_clusters{phase=\"Ready\"} 1") != std::string::npos;
      },
      30s))
      << metrics;
  EXPECT_NE(metrics.find("role=\"leader\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("zkop_operator_reconcile_total{result=\"requeue\"}"), std::string::npos);
  EXPECT_NE(metrics.find("zkop_operator_api_requests_total{code=\"201\",verb=\"create\"}"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(OperatorHttp("main", "/readyz").empty(), false);

  // Ensemble metrics: every member's mntr, asked by the leading operator at the scrape, under
  // ZooKeeper's provider names; exactly one member leads, and it counts a quorum of 3.
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = OperatorHttp("main", "/metrics");
        return Lines(metrics, "zkop_member_up{namespace=\"default\",cluster=\"demo\"", "} 1")
                   .size() == 3;
      },
      30s))
      << metrics;
  const auto leaders = Lines(metrics, "zkop_member_role{namespace=\"default\",cluster=\"demo\"",
                             ",role=\"leader\"} 1");
  ASSERT_EQ(leaders.size(), 1u) << metrics;
  EXPECT_EQ(Lines(metrics, "zkop_member_role{", ",role=\"follower\"} 1").size(), 2u) << metrics;
  const std::string member_labels =  // {namespace=..,cluster=..,member=..,server_id=..}
      leaders[0].substr(leaders[0].find('{'), leaders[0].find(",role=") - leaders[0].find('{')) +
      "}";
  EXPECT_NE(member_labels.find("member=\"" + leader + "\""), std::string::npos)
      << member_labels << " vs status leader " << leader;
  EXPECT_EQ(Lines(metrics, "quorum_size" + member_labels, " 3").size(), 1u) << metrics;
  EXPECT_EQ(Lines(metrics, "synced_followers" + member_labels, " 2").size(), 1u) << metrics;
  EXPECT_EQ(Lines(metrics, "znode_count{namespace=\"default\",cluster=\"demo\"", "").size(), 3u);
  EXPECT_EQ(Lines(metrics, "election_time_count{namespace=\"default\"", "").size(), 3u);
  for (const char* type : {"# TYPE outstanding_requests gauge", "# TYPE avg_latency gauge",
                           "# TYPE election_time summary", "# TYPE looking_count_total counter",
                           "# TYPE packets_received gauge"})
    EXPECT_NE(metrics.find(type), std::string::npos) << type;
  EXPECT_EQ(PromtoolBeyondZooKeeperNaming(metrics), "");

  // At rest: not one API write for 60 s.
  ASSERT_TRUE(WaitFor([&] { return ConditionStatus("demo", "Progressing") == "False"; }, 60s))
      << Explain("demo");
  std::this_thread::sleep_for(3s);
  const size_t mark = DevkubeLogSize();
  std::this_thread::sleep_for(60s);
  std::string writes;
  EXPECT_EQ(ApiWritesSince(mark, &writes), 0) << writes;

  // A deleted member Pod comes back with the same id and the same volume (and its data).
  const std::string claim_uid = Uid(res::PersistentVolumeClaims(), "data-demo-2");
  const std::string pod_uid = Uid(res::Pods(), "demo-2");
  ASSERT_EQ(Kubectl({"delete", "pod", "demo-2", "--wait=false"}), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string uid = Uid(res::Pods(), "demo-2");
        return !uid.empty() && uid != pod_uid && PodReady("demo-2");
      },
      120s))
      << Explain("demo");
  EXPECT_EQ(Uid(res::PersistentVolumeClaims(), "data-demo-2"), claim_uid);
  EXPECT_EQ(ReadFromMember("demo-2", "/e2e/data"), "written-through-demo-client");
  ASSERT_TRUE(WaitReady("demo", 60s)) << Explain("demo");

  // A member whose JVM dies is restarted by the runtime and rejoins.
  const int pid = ContainerPid("demo-3");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return ContainerPid("demo-3") != pid && PodReady("demo-3"); }, 120s))
      << Explain("demo");
  ASSERT_TRUE(WaitFor([&] { return StatusField("demo", "readyReplicas") == "3"; }, 60s))
      << Explain("demo");

  // Two of three members deleted at once: quorum is lost, then back, with the data.
  ASSERT_EQ(Kubectl({"delete", "pod", "demo-1", "demo-2", "--wait=false"}), 0);
  ASSERT_TRUE(WaitFor([&] { return ConditionStatus("demo", "Ready") != "True"; }, 30s))
      << Explain("demo");
  ASSERT_TRUE(WaitFor([&] { return StatusField("demo", "readyReplicas") == "3"; }, 180s))
      << Explain("demo");
  EXPECT_EQ(ConditionStatus("demo", "Ready"), "True");

  // All three at once.
  ASSERT_EQ(Kubectl({"delete", "pod", "demo-1", "demo-2", "demo-3", "--wait=false"}), 0);
  ASSERT_TRUE(WaitFor([&] { return ConditionStatus("demo", "Ready") != "True"; }, 30s))
      << Explain("demo");
  ASSERT_TRUE(WaitFor([&] { return StatusField("demo", "readyReplicas") == "3"; }, 180s))
      << Explain("demo");
  EXPECT_EQ(ReadFromMember("demo-1", "/e2e/data"), "written-through-demo-client");
  std::string events;
  Kubectl({"get", "events", "--field-selector", "involvedObject.name=demo", "-o",
           "custom-columns=REASON:.reason", "--no-headers"},
          &events);
  EXPECT_NE(events.find("EnsembleReady"), std::string::npos) << events;
  EXPECT_NE(events.find("MemberRecreated"), std::string::npos) << events;
  EXPECT_NE(events.find("QuorumLost"), std::string::npos) << events;
}

TEST_F(ClusterLifecycleTest, DeletionFollowsTheReclaimPolicyAndLeavesNothingElse) {
  StartOperator("main");
  Apply(ClusterYaml("keep", 1));
  Apply(ClusterYaml("drop", 1, "  storage:\n    reclaimPolicy: Delete\n"));
  ASSERT_TRUE(WaitReady("keep", 180s)) << Explain("keep");
  ASSERT_TRUE(WaitReady("drop", 180s)) << Explain("drop");
  const auto keep = Get(res::ZookeeperClusters(), "keep");
  ASSERT_TRUE(keep);
  EXPECT_NE(keep->at("metadata").at("finalizers").serialize().find("zkop.io/cleanup"),
            std::string::npos);

  ASSERT_EQ(Kubectl({"delete", "zkc", "keep", "drop", "--timeout=120s"}), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string left;
        Kubectl({"get", "pods,svc,configmaps,secrets,pdb", "-o", "name"}, &left);
        return left.find("keep") == std::string::npos && left.find("drop") == std::string::npos;
      },
      120s));
  EXPECT_TRUE(Get(res::PersistentVolumeClaims(), "data-keep-1"));
  EXPECT_TRUE(
      WaitFor([&] { return !Get(res::PersistentVolumeClaims(), "data-drop-1").has_value(); }, 60s));
}

TEST_F(ClusterLifecycleTest, OperatorKilledMidBootstrapIsFinishedByTheNextOne) {
  auto& first = StartOperator("first");
  Apply(ClusterYaml("boot", 3));
  ASSERT_TRUE(WaitFor([&] { return Get(res::Pods(), "boot-1").has_value(); }, 60s))
      << Explain("boot");
  first.Kill();
  StartOperator("second");
  ASSERT_TRUE(WaitReady("boot", 180s)) << Explain("boot");
  for (int k = 1; k <= 3; ++k) EXPECT_TRUE(Get(res::Pods(), "boot-" + std::to_string(k))) << k;
}

TEST_F(ClusterLifecycleTest, TwoOperatorsOneLeadsAndTheOtherTakesOverWhenItStops) {
  auto& a = StartOperator("a");
  ASSERT_TRUE(
      WaitFor([&] { return OperatorLog("a").find(": leading ") != std::string::npos; }, 30s))
      << OperatorLog("a");
  auto& b = StartOperator("b");
  ASSERT_TRUE(WaitFor([&] { return !OperatorHttp("b", "/readyz").empty(); }, 30s))
      << OperatorLog("b");
  Apply(ClusterYaml("ha", 1));
  ASSERT_TRUE(WaitReady("ha", 180s)) << Explain("ha");
  // Only the leader reconciles: the standby has not written a thing.
  EXPECT_EQ(OperatorLog("b").find("applied"), std::string::npos) << OperatorLog("b");
  EXPECT_EQ(OperatorLog("b").find(": leading "), std::string::npos);
  EXPECT_NE(OperatorHttp("b", "/metrics").find("zkop_operator_leader 0"), std::string::npos);
  // Ensemble metrics come from the leader only (two replicas would duplicate every series).
  EXPECT_TRUE(WaitFor(
      [&] {
        return OperatorHttp("a", "/metrics")
                   .find(
                       "zkop_member_up{namespace=\"default\",cluster=\"ha\",member=\"ha-1\","
                       "server_id=\"1\"} 1") != std::string::npos;
      },
      30s))
      << OperatorHttp("a", "/metrics");
  EXPECT_EQ(OperatorHttp("b", "/metrics").find("zkop_member_"), std::string::npos);

  // The leader stops (SIGTERM releases the Lease); the standby takes over at once and repairs.
  ASSERT_EQ(a.Terminate(20s), 0) << OperatorLog("a");
  ASSERT_TRUE(
      WaitFor([&] { return OperatorLog("b").find(": leading ") != std::string::npos; }, 10s))
      << OperatorLog("b");
  const auto pod = Get(res::Pods(), "ha-1");
  ASSERT_TRUE(pod);
  ASSERT_EQ(Kubectl({"delete", "pod", "ha-1", "--wait=false"}), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string uid = Uid(res::Pods(), "ha-1");
        return !uid.empty() && uid != kube::UidOf(*pod);
      },
      60s))
      << Explain("ha");
  ASSERT_TRUE(WaitReady("ha", 180s)) << Explain("ha");
  std::string events;
  Kubectl({"get", "events", "--field-selector", "involvedObject.name=ha", "-o",
           "custom-columns=REASON:.reason", "--no-headers"},
          &events);
  EXPECT_NE(events.find("MemberRecreated"), std::string::npos) << events;
  EXPECT_TRUE(b.Running());
}

}  // namespace
}  // namespace zkop::op::testing
