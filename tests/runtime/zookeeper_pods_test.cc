// Real ZooKeeper servers as Pods: the zkop/zookeeper image runs images/zookeeper/entrypoint.sh
// with Debian's ZooKeeper; members find each other through their Pod DNS names.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime_fixture.h"
#include "zkop/zk/client.h"
#include "zkop/zk/four_letter.h"

namespace zkop::devkube::pods::testing {
namespace {

constexpr const char* kNs = "zk";

std::string MemberHost(int k) {
  return "demo-" + std::to_string(k) + ".demo-headless." + kNs + ".svc.cluster.local";
}

class ZooKeeperPodsTest : public RuntimeFixture {
 protected:
  void CreateEnsembleObjects(int members) {
    Create("namespaces", "", R"({"metadata":{"name":"zk"}})");
    std::string dynamic;
    for (int k = 1; k <= members; ++k) {
      dynamic += "server." + std::to_string(k) + "=" + MemberHost(k) + ":2888:3888:participant;" +
                 MemberHost(k) + ":2181\n";
    }
    value cm = value::object();
    cm["metadata"]["name"] = value::string("demo-config");
    cm["data"]["zoo.cfg"] = value::string(
        "tickTime=500\ninitLimit=20\nsyncLimit=10\nstandaloneEnabled=false\n"
        "reconfigEnabled=true\n4lw.commands.whitelist=*\nadmin.enableServer=false\n");
    cm["data"]["zoo.cfg.dynamic"] = value::string(dynamic);
    Create("configmaps", kNs, cm.serialize());
    Create("services", kNs, R"({"metadata":{"name":"demo-headless"},"spec":{"clusterIP":"None",
        "publishNotReadyAddresses":true,
        "selector":{"app.kubernetes.io/instance":"demo"},
        "ports":[{"name":"client","port":2181},{"name":"quorum","port":2888},
                 {"name":"election","port":3888}]}})");
    for (int k = 1; k <= members; ++k) {
      Create("persistentvolumeclaims", kNs,
             R"({"metadata":{"name":"data-demo-)" + std::to_string(k) + R"("},"spec":{
                 "accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})");
      CreateMember(k);
    }
  }

  void CreateMember(int k) {
    const std::string id = std::to_string(k);
    Create("pods", kNs,
           R"({"metadata":{"name":"demo-)" + id + R"(","labels":{
        "app.kubernetes.io/name":"zookeeper","app.kubernetes.io/instance":"demo",
        "zkop.io/member-id":")" +
               id + R"("}},
      "spec":{"hostname":"demo-)" +
               id + R"(","subdomain":"demo-headless",
        "terminationGracePeriodSeconds":10,
        "containers":[{"name":"zookeeper","image":"zkop/zookeeper:3.8.0",
          "env":[{"name":"ZK_HEAP","value":"96m"},
                 {"name":"JAVA_OPTS","value":"-XX:+UseSerialGC -XX:TieredStopAtLevel=1"}],
          "ports":[{"name":"client","containerPort":2181}],
          "readinessProbe":{"exec":{"command":["sh","-c",
              "echo srvr | nc -w 2 localhost 2181 | grep -qE 'Mode: (leader|follower)'"]},
            "periodSeconds":1,"timeoutSeconds":3},
          "livenessProbe":{"tcpSocket":{"port":"client"},"initialDelaySeconds":20,"periodSeconds":5},
          "volumeMounts":[{"name":"config","mountPath":"/etc/zkop/config"},
                          {"name":"data","mountPath":"/data"}]}],
        "volumes":[{"name":"config","configMap":{"name":"demo-config"}},
                   {"name":"data","persistentVolumeClaim":{"claimName":"data-demo-)" +
               id + R"("}}]}})");
  }

  // The processes whose parent is `pid` (from /proc/<pid>/task/*/children).
  static std::vector<int> ChildPids(int pid) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
      std::ifstream in(task.path() / "children");
      int child = 0;
      while (in >> child) out.push_back(child);
    }
    return out;
  }

  static std::string EntrypointLines(const std::string& log) {
    std::istringstream in(log);
    std::string line, out;
    while (std::getline(in, line))
      if (line.rfind("zkop-entrypoint", 0) == 0) out += line + "\n";
    return out;
  }

  // Member k's container has restarted `restarts` times and its Pod is Ready again.
  bool RestartedAndReady(int k, int restarts) {
    const std::string pod = "demo-" + std::to_string(k);
    return WaitFor(
        [&] {
          return ContainerStatus(kNs, pod).at("restartCount").as_integer() == restarts &&
                 Ready(kNs, pod);
        },
        60s);
  }
  int LastExitCode(int k) {
    return ContainerStatus(kNs, "demo-" + std::to_string(k))
        .at("lastState")
        .at("terminated")
        .at("exitCode")
        .as_integer();
  }

  std::string Ip(int k) { return PodStatus(kNs, "demo-" + std::to_string(k), {"podIP"}); }

  zk::ServerMode Mode(int k) {
    zk::ServerInfo info;
    if (!zk::QueryServer(Ip(k) + ":2181", 2s, &info).ok()) return zk::ServerMode::kUnknown;
    return info.mode;
  }

  std::string Explain(int k) {
    const std::string name = "demo-" + std::to_string(k);
    return "pod " + name + " status: " + PodStatus(kNs, name, {}) + "\nlog tail:\n" +
           zkop::testing::TailFile(runtime_->LogPath(kNs, name, "zookeeper"), 30);
  }
};

TEST_F(ZooKeeperPodsTest, ThreeMembersFormAQuorumRestartRejoinAndKeepTheirData) {
  CreateEnsembleObjects(3);
  for (int k = 1; k <= 3; ++k) {
    ASSERT_TRUE(WaitFor([&] { return Ready(kNs, "demo-" + std::to_string(k)); }, 60s))
        << Explain(k);
  }
  // Each member serves srvr at its own Pod address; exactly one leads.
  int leaders = 0;
  for (int k = 1; k <= 3; ++k) {
    const auto mode = Mode(k);
    EXPECT_TRUE(mode == zk::ServerMode::kLeader || mode == zk::ServerMode::kFollower) << Explain(k);
    leaders += mode == zk::ServerMode::kLeader;
  }
  EXPECT_EQ(leaders, 1);

  zk::ClientOptions options;
  options.connect = Ip(1) + ":2181," + Ip(2) + ":2181," + Ip(3) + ":2181";
  options.session_timeout = 10s;
  {
    zk::Client client(options);
    ASSERT_TRUE(client.Connect(20s).ok());
    auto created = client.Create("/pod-runtime-test", "written-before");
    ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  }

  // Killing a server's process: the runtime restarts it and it rejoins the quorum.
  const int pid = ContainerPid(kNs, "demo-2");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(RestartedAndReady(2, 1)) << Explain(2);
  EXPECT_NE(ContainerPid(kNs, "demo-2"), pid);
  EXPECT_EQ(LastExitCode(2), 128 + SIGKILL);
  const auto rejoined = Mode(2);
  EXPECT_TRUE(rejoined == zk::ServerMode::kLeader || rejoined == zk::ServerMode::kFollower);

  // SIGTERM to the container's process alone, as the kubelet stops a container: the entrypoint
  // ends the JVM at once (SIGKILL) and exits 143; the runtime restarts it and it rejoins.
  const int entrypoint = ContainerPid(kNs, "demo-2");
  const std::vector<int> jvm = ChildPids(entrypoint);
  ASSERT_EQ(jvm.size(), 1u) << "the entrypoint runs ZooKeeper as its one child";
  ASSERT_EQ(::kill(entrypoint, SIGTERM), 0);
  ASSERT_TRUE(RestartedAndReady(2, 2)) << Explain(2);
  EXPECT_NE(::kill(jvm[0], 0), 0) << "the JVM outlived its entrypoint";
  EXPECT_EQ(LastExitCode(2), 143);
  // The log of the run that was stopped (run 1; `kubectl logs --previous`).
  const std::string log = zkop::testing::TailFile(
      (std::filesystem::path(runtime_->LogPath(kNs, "demo-2", "zookeeper")).parent_path() / "1.log")
          .string(),
      100000);
  EXPECT_NE(log.find("zkop-entrypoint: SIGTERM: stopping ZooKeeper (pid " + std::to_string(jvm[0]) +
                     ") at once"),
            std::string::npos)
      << "run 1 log, the entrypoint's lines:\n"
      << EntrypointLines(log);

  // Deleting a Pod stops its processes; a new Pod on the same claim finds its data.
  const int old_pid = ContainerPid(kNs, "demo-3");
  const std::vector<int> old_jvm = ChildPids(old_pid);
  ASSERT_TRUE(store_.Delete(Ref("pods", kNs, "demo-3")).ok());
  ASSERT_TRUE(WaitFor([&] { return !Get("pods", kNs, "demo-3"); }, 30s));
  EXPECT_NE(::kill(old_pid, 0), 0);
  for (int child : old_jvm) EXPECT_NE(::kill(child, 0), 0);
  CreateMember(3);
  ASSERT_TRUE(WaitFor([&] { return Ready(kNs, "demo-3"); }, 60s)) << Explain(3);
  zk::ClientOptions only3;
  only3.connect = Ip(3) + ":2181";
  only3.session_timeout = 10s;
  zk::Client client(only3);
  ASSERT_TRUE(client.Connect(20s).ok());
  auto got = client.Get("/pod-runtime-test");
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.data, "written-before");
}

}  // namespace
}  // namespace zkop::devkube::pods::testing
