// The runtime's kubelet behaviour with small host programs (image zkop.io/local-exec): image
// table misses, probes, restarts, env and volumes, DNS, claims and graceful deletion.
#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "runtime_fixture.h"

namespace zkop::devkube::pods::testing {
namespace {

using zkop::testing::ReadFile;

class LocalExecTest : public RuntimeFixture {};

TEST_F(LocalExecTest, UnknownImageIsAClearWaitingStatusNotACrash) {
  Create("pods", "default", R"({"metadata":{"name":"web"},"spec":{"containers":[
      {"name":"nginx","image":"nginx:1.25"}]}})");
  Create("pods", "default", R"({"metadata":{"name":"ok"},"spec":{"containers":[
      {"name":"main","image":"zkop.io/local-exec","command":["sleep","60"]}]}})");
  ASSERT_TRUE(WaitFor(
      [&] {
        const value cs = ContainerStatus("default", "web");
        return cs.is_object() && cs.at("state").has_field("waiting") &&
               cs.at("state").at("waiting").at("reason").as_string() == "ImagePullBackOff";
      },
      10s))
      << ContainerStatus("default", "web").serialize();
  const value waiting = ContainerStatus("default", "web").at("state").at("waiting");
  EXPECT_NE(waiting.at("message").as_string().find("image \"nginx:1.25\" is not in the devkube "
                                                   "pod runtime's image table"),
            std::string::npos)
      << waiting.serialize();
  EXPECT_EQ(PodStatus("default", "web", {"phase"}), "Pending");
  EXPECT_EQ(Condition("default", "web", "Ready"), "False");
  // A probe the runtime cannot run is a config error, not a silently skipped check.
  Create("pods", "default", R"({"metadata":{"name":"grpc"},"spec":{"containers":[
      {"name":"main","image":"zkop.io/local-exec","command":["sleep","60"],
       "readinessProbe":{"grpc":{"port":9000}}}]}})");
  ASSERT_TRUE(WaitFor(
      [&] {
        const value cs = ContainerStatus("default", "grpc");
        return cs.is_object() && cs.at("state").has_field("waiting") &&
               cs.at("state").at("waiting").at("reason").as_string() ==
                   "CreateContainerConfigError";
      },
      10s))
      << ContainerStatus("default", "grpc").serialize();
  EXPECT_NE(ContainerStatus("default", "grpc")
                .at("state")
                .at("waiting")
                .at("message")
                .as_string()
                .find("readinessProbe: expected one of exec, tcpSocket, httpGet"),
            std::string::npos);
  // The runtime carries on with other Pods.
  EXPECT_TRUE(WaitFor([&] { return Ready("default", "ok"); }, 10s));
}

TEST_F(LocalExecTest, FailingReadinessProbeKeepsThePodUnready) {
  Create("pods", "default", R"({"metadata":{"name":"probe"},"spec":{"containers":[
      {"name":"main","image":"zkop.io/local-exec","command":["sleep","60"],
       "readinessProbe":{"exec":{"command":["sh","-c","test -e /tmp/never-$$$$"]},
                         "periodSeconds":1}},
      {"name":"http","image":"zkop.io/local-exec","command":["sleep","60"],
       "readinessProbe":{"tcpSocket":{"port":1},"periodSeconds":1}}]}})");
  ASSERT_TRUE(WaitFor([&] { return PodStatus("default", "probe", {"phase"}) == "Running"; }, 10s));
  std::this_thread::sleep_for(3s);  // several probe periods
  EXPECT_EQ(Condition("default", "probe", "Ready"), "False");
  EXPECT_EQ(Condition("default", "probe", "ContainersReady"), "False");
  for (size_t i = 0; i < 2; ++i) {
    const value cs = ContainerStatus("default", "probe", i);
    EXPECT_FALSE(cs.at("ready").as_bool()) << cs.serialize();
    EXPECT_TRUE(cs.at("state").has_field("running")) << cs.serialize();
    EXPECT_EQ(cs.at("restartCount").as_integer(), 0);
  }
}

TEST_F(LocalExecTest, CrashesRestartWithBackOffAndLivenessFailureRestarts) {
  Create("pods", "default", R"({"metadata":{"name":"crash"},"spec":{"containers":[
      {"name":"main","image":"zkop.io/local-exec","command":["sh","-c","exit 3"]}]}})");
  Create("pods", "default", R"({"metadata":{"name":"live"},"spec":{
      "terminationGracePeriodSeconds":1,"containers":[
      {"name":"main","image":"zkop.io/local-exec","command":["sleep","60"],
       "livenessProbe":{"exec":{"command":["false"]},"periodSeconds":1,"failureThreshold":2}}]}})");
  ASSERT_TRUE(WaitFor(
      [&] {
        const value cs = ContainerStatus("default", "crash");
        return cs.is_object() && cs.at("restartCount").as_integer() >= 2;
      },
      10s))
      << ContainerStatus("default", "crash").serialize();
  const value cs = ContainerStatus("default", "crash");
  EXPECT_EQ(cs.at("lastState").at("terminated").at("exitCode").as_integer(), 3);
  EXPECT_EQ(cs.at("lastState").at("terminated").at("reason").as_string(), "Error");

  ASSERT_TRUE(WaitFor(
      [&] {
        const value l = ContainerStatus("default", "live");
        return l.is_object() && l.at("restartCount").as_integer() >= 1;
      },
      15s))
      << ContainerStatus("default", "live").serialize();
  EXPECT_EQ(ContainerStatus("default", "live")
                .at("lastState")
                .at("terminated")
                .at("exitCode")
                .as_integer(),
            128 + SIGTERM);
}

TEST_F(LocalExecTest, EnvVolumesAndNamesReachTheProcess) {
  Create("configmaps", "default", R"({"metadata":{"name":"app-config"},"data":{"mode":"fast"}})");
  Create("secrets", "default",
         R"({"metadata":{"name":"app-secret"},"data":{"token":"czNjcjN0"}})");  // "s3cr3t"
  Create("services", "default", R"({"metadata":{"name":"web"},"spec":{"clusterIP":"None",
      "selector":{"app":"web"},"ports":[{"port":80}]}})");
  Create("pods", "default", R"j({"metadata":{"name":"web-0","labels":{"app":"web"}},"spec":{
      "hostname":"web-0","subdomain":"web","containers":[{"name":"main",
      "image":"zkop.io/local-exec","command":["sh","-c",
        "echo ip=$POD_IP name=$POD_NAME ns=$POD_NS mode=$MODE token=$TOKEN host=$(hostname); cat /etc/app/mode; cat /etc/secret/token; echo; getent hosts web-0.web.default.svc.cluster.local web.default.svc localhost; sleep 60"],
      "env":[{"name":"POD_IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
             {"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
             {"name":"POD_NS","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
             {"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"app-config","key":"mode"}}},
             {"name":"TOKEN","valueFrom":{"secretKeyRef":{"name":"app-secret","key":"token"}}}],
      "volumeMounts":[{"name":"cfg","mountPath":"/etc/app"},{"name":"sec","mountPath":"/etc/secret"}]}],
      "volumes":[{"name":"cfg","configMap":{"name":"app-config"}},
                 {"name":"sec","secret":{"secretName":"app-secret"}}]}})j");
  ASSERT_TRUE(WaitFor([&] { return Ready("default", "web-0"); }, 10s));
  const std::string ip = PodStatus("default", "web-0", {"podIP"});
  ASSERT_EQ(ip.rfind("127.42.", 0), 0u) << ip;
  EXPECT_EQ(PodStatus("default", "web-0", {"hostIP"}), "127.0.0.1");
  const std::string log = runtime_->LogPath("default", "web-0", "main");
  ASSERT_TRUE(WaitFor([&] { return ReadFile(log).find("localhost") != std::string::npos; }, 5s))
      << ReadFile(log);
  const std::string out = ReadFile(log);
  EXPECT_NE(out.find("ip=" + ip +
                     " name=web-0 ns=default mode=fast token=s3cr3t host=web-0\n"
                     "fast"
                     "s3cr3t\n"),
            std::string::npos)
      << out;
  // getent through libnss_wrapper: the Pod's DNS name, its Service and its own localhost.
  EXPECT_NE(out.find(ip + " "), std::string::npos) << out;
  EXPECT_EQ(out.find("127.0.0.1 "), std::string::npos) << out;

  // A ConfigMap change is projected into the running Pod's volume.
  const std::string file = runtime_->VolumeDir("default", "web-0", "cfg") + "/mode";
  EXPECT_EQ(ReadFile(file), "fast");
  auto r = store_.Patch(Ref("configmaps", "default", "app-config"), PatchType::kMerge,
                        R"({"data":{"mode":"slow","extra":"1"}})");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_TRUE(WaitFor([&] { return ReadFile(file) == "slow"; }, 5s)) << ReadFile(file);
  EXPECT_TRUE(std::filesystem::exists(runtime_->VolumeDir("default", "web-0", "cfg") + "/extra"));
  const auto secret_mode =
      std::filesystem::status(runtime_->VolumeDir("default", "web-0", "sec") + "/token")
          .permissions();
  EXPECT_EQ(static_cast<unsigned>(secret_mode) & 0777, 0600u);
}

TEST_F(LocalExecTest, ClaimsOutliveThePodAndGoWithTheClaim) {
  Create("persistentvolumeclaims", "default", R"({"metadata":{"name":"data-w"},"spec":{
      "accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})");
  const std::string pod = R"({"metadata":{"name":"w"},"spec":{"terminationGracePeriodSeconds":2,
      "containers":[{"name":"main","image":"zkop.io/local-exec",
        "command":["sh","-c","echo run >> /data/runs; sleep 60"],
        "volumeMounts":[{"name":"data","mountPath":"/data"}]}],
      "volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-w"}}]}})";
  Create("pods", "default", pod);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto c = Get("persistentvolumeclaims", "default", "data-w");
        return c && c->at("status").has_field("phase") &&
               c->at("status").at("phase").as_string() == "Bound";
      },
      10s));
  ASSERT_TRUE(WaitFor([&] { return Ready("default", "w"); }, 10s));
  const std::string dir = runtime_->ClaimDir("default", "data-w");
  ASSERT_FALSE(dir.empty());
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir + "/runs") == "run\n"; }, 5s));

  ASSERT_TRUE(store_.Delete(Ref("pods", "default", "w")).ok());
  ASSERT_TRUE(WaitFor([&] { return !Get("pods", "default", "w"); }, 10s));
  EXPECT_EQ(ReadFile(dir + "/runs"), "run\n");
  Create("pods", "default", pod);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(dir + "/runs") == "run\nrun\n"; }, 10s));

  ASSERT_TRUE(store_.Delete(Ref("pods", "default", "w")).ok());
  ASSERT_TRUE(store_.Delete(Ref("persistentvolumeclaims", "default", "data-w")).ok());
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(dir); }, 10s)) << dir;
}

TEST_F(LocalExecTest, DeletionRunsPreStopThenSigtermThenSigkillAfterTheGracePeriod) {
  const std::string trace = dir_.Path("trace");
  // Each shell says when its trap is set: a SIGTERM that came before would end it at once.
  const std::string traps = dir_.Path("traps");
  Create("pods", "default",
         R"({"metadata":{"name":"polite"},"spec":{
      "terminationGracePeriodSeconds":10,"containers":[{"name":"main",
      "image":"zkop.io/local-exec",
      "command":["sh","-c","trap 'echo term >> )" +
             trace + R"(; exit 0' TERM; echo polite >> )" + traps +
             R"(; while true; do sleep 0.05; done"],
      "lifecycle":{"preStop":{"exec":{"command":["sh","-c","echo prestop >> )" +
             trace + R"("]}}}}]}})");
  Create("pods", "default",
         R"({"metadata":{"name":"stubborn"},"spec":{
      "terminationGracePeriodSeconds":1,"containers":[{"name":"main",
      "image":"zkop.io/local-exec","command":["sh","-c","trap '' TERM; echo stubborn >> )" +
             traps + R"(; while true; do sleep 0.05; done"]}]}})");
  ASSERT_TRUE(
      WaitFor([&] { return Ready("default", "polite") && Ready("default", "stubborn"); }, 10s));
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string set = ReadFile(traps);
        return std::count(set.begin(), set.end(), '\n') == 2;  // both, in either order
      },
      10s))
      << ReadFile(traps);
  const int polite_pid = ContainerPid("default", "polite");
  const int stubborn_pid = ContainerPid("default", "stubborn");
  ASSERT_GT(polite_pid, 0);

  ASSERT_TRUE(store_.Delete(Ref("pods", "default", "polite")).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_.Delete(Ref("pods", "default", "stubborn")).ok());
  // While its processes stop, the object stays (deletionTimestamp set).
  EXPECT_TRUE(Get("pods", "default", "stubborn").has_value());
  ASSERT_TRUE(WaitFor([&] { return !Get("pods", "default", "polite"); }, 10s));
  EXPECT_EQ(ReadFile(trace), "prestop\nterm\n");
  ASSERT_TRUE(WaitFor([&] { return !Get("pods", "default", "stubborn"); }, 10s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);  // the grace period was honoured before SIGKILL
  EXPECT_LT(took, 5s);
  EXPECT_NE(::kill(polite_pid, 0), 0);  // reaped: no such process
  EXPECT_NE(::kill(stubborn_pid, 0), 0);
}

// As the kubelet: each container runs its own preStop and then gets SIGTERM, all in parallel.
// "app" waits in its preStop for a file that "agent" writes when it gets SIGTERM — with the
// hooks run one after the other before any SIGTERM, this Pod would need its whole grace
// period. "drain" has a sleep hook (lifecycle.preStop.sleep).
TEST_F(LocalExecTest, DeletionStopsEachContainerOnItsOwnAfterItsPreStop) {
  const std::string trace = dir_.Path("parallel-trace");
  const std::string gone = dir_.Path("agent-gone");
  auto loop = [&](const std::string& name, const std::string& extra) {
    return R"(["sh","-c","trap 'echo )" + name + " >> " + trace + extra +
           R"(; exit 0' TERM; while true; do sleep 0.05; done"])";
  };
  Create("pods", "default",
         R"({"metadata":{"name":"sidecars"},"spec":{"terminationGracePeriodSeconds":20,
      "containers":[
       {"name":"app","image":"zkop.io/local-exec","command":)" +
             loop("app-term", "") + R"(,
        "lifecycle":{"preStop":{"exec":{"command":["sh","-c",
          "while [ ! -e )" +
             gone + R"( ]; do sleep 0.05; done; echo app-prestop-done >> )" + trace + R"("]}}}},
       {"name":"agent","image":"zkop.io/local-exec","command":)" +
             loop("agent-term", "; touch " + gone) + R"(},
       {"name":"drain","image":"zkop.io/local-exec","command":)" +
             loop("drain-term", "") + R"(,
        "lifecycle":{"preStop":{"sleep":{"seconds":1}}}}]}})");
  ASSERT_TRUE(WaitFor([&] { return Ready("default", "sidecars"); }, 10s));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store_.Delete(Ref("pods", "default", "sidecars")).ok());
  ASSERT_TRUE(WaitFor([&] { return !Get("pods", "default", "sidecars"); }, 15s)) << ReadFile(trace);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ReadFile(trace), "agent-term\napp-prestop-done\napp-term\ndrain-term\n");
  EXPECT_GE(took, 1s);  // the sleep hook held "drain"'s SIGTERM back
  EXPECT_LT(took, 8s);  // and nobody waited for the 20 s grace period
}

TEST_F(LocalExecTest, InitContainersRunInOrderAndRetryBeforeTheApp) {
  Create("pods", "default", R"({"metadata":{"name":"init"},"spec":{
      "initContainers":[
        {"name":"a","image":"zkop.io/local-exec","command":["sh","-c","echo a >> /work/trace"],
         "volumeMounts":[{"name":"work","mountPath":"/work"}]},
        {"name":"b","image":"zkop.io/local-exec",
         "command":["sh","-c","echo b >> /work/trace; test -e /work/go || { touch /work/go; exit 1; }"],
         "volumeMounts":[{"name":"work","mountPath":"/work"}]}],
      "containers":[{"name":"main","image":"zkop.io/local-exec",
        "command":["sh","-c","echo main >> /work/trace; exec sleep 60"],
        "volumeMounts":[{"name":"work","mountPath":"/work"}]}],
      "volumes":[{"name":"work","emptyDir":{}}]}})");
  ASSERT_TRUE(WaitFor([&] { return Ready("default", "init"); }, 10s))
      << PodStatus("default", "init", {});
  EXPECT_EQ(ReadFile(runtime_->VolumeDir("default", "init", "work") + "/trace"), "a\nb\nb\nmain\n");
  EXPECT_EQ(Condition("default", "init", "Initialized"), "True");
  auto pod = Get("pods", "default", "init");
  const auto& init = pod->at("status").at("initContainerStatuses").as_array();
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init.at(0).at("restartCount").as_integer(), 0);
  EXPECT_EQ(init.at(1).at("restartCount").as_integer(), 1);
  EXPECT_EQ(init.at(1).at("state").at("terminated").at("reason").as_string(), "Completed");
}

TEST_F(LocalExecTest, PostStartHookRunsAndAnImageChangeRestartsTheContainer) {
  const std::string trace = dir_.Path("hooks");
  Create("pods", "default",
         R"({"metadata":{"name":"upd"},"spec":{"terminationGracePeriodSeconds":2,
      "containers":[{"name":"main","image":"zkop.io/local-exec:v1",
        "command":["sh","-c","echo run >> )" +
             trace + R"(; exec sleep 60"],
        "lifecycle":{"postStart":{"exec":{"command":["sh","-c","echo poststart >> )" +
             trace + R"("]}}}}]}})");
  ASSERT_TRUE(WaitFor([&] { return Ready("default", "upd"); }, 10s));
  EXPECT_TRUE(WaitFor([&] { return ReadFile(trace).find("poststart") != std::string::npos; }, 5s));
  const int pid = ContainerPid("default", "upd");
  auto r =
      store_.Patch(Ref("pods", "default", "upd"), PatchType::kStrategic,
                   R"({"spec":{"containers":[{"name":"main","image":"zkop.io/local-exec:v2"}]}})");
  ASSERT_TRUE(r.ok()) << r.status.message;
  ASSERT_TRUE(WaitFor(
      [&] {
        const value cs = ContainerStatus("default", "upd");
        return cs.at("image").as_string() == "zkop.io/local-exec:v2" &&
               cs.at("restartCount").as_integer() == 1 && Ready("default", "upd");
      },
      10s))
      << ContainerStatus("default", "upd").serialize();
  EXPECT_NE(ContainerPid("default", "upd"), pid);
  // postStart runs beside the container's process (no order between them, as in Kubernetes):
  // twice each, once per run.
  ASSERT_TRUE(WaitFor(
      [&] { return ReadFile(trace).size() == std::string("run\npoststart\n").size() * 2; }, 5s));
  std::string sorted = ReadFile(trace);
  std::vector<std::string> lines;
  for (size_t at = 0; at < sorted.size();) {
    const size_t nl = sorted.find('\n', at);
    lines.push_back(sorted.substr(at, nl - at));
    at = nl + 1;
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"poststart", "poststart", "run", "run"}));
}

}  // namespace
}  // namespace zkop::devkube::pods::testing
