// apps/v1 Deployments and ReplicaSets as kube-controller-manager runs them, driven here with
// the in-process Store and a stand-in kubelet that marks Pods ready on demand (the pod
// runtime does the same for real in tests/runtime/workloads_test.cc).
#include <thread>

#include "devkube_test_env.h"
#include "workloads.h"

namespace zkop::devkube::testing {
namespace {

using namespace std::chrono_literals;

class WorkloadsTest : public DevkubeTest {
 protected:
  Store& store() { return server_->store(); }
  std::vector<Json> Pods() {
    std::vector<Json> out;
    auto list = store().List({"", "v1", "pods", "default", "", ""}, {});
    for (const Json& p : list.value.at("items").as_array()) out.push_back(p);
    return out;
  }
  std::vector<Json> ReplicaSets() {
    std::vector<Json> out;
    auto list = store().List({"apps", "v1", "replicasets", "default", "", ""}, {});
    for (const Json& p : list.value.at("items").as_array()) out.push_back(p);
    return out;
  }
  Json Deployment(const std::string& name = "web") {
    return store().Get({"apps", "v1", "deployments", "default", name, ""}).value;
  }
  // The kubelet's part: Pod `name` becomes Ready.
  void MarkReady(const Json& pod) {
    const std::string now = FormatTime(std::chrono::system_clock::now());
    store().Patch({"", "v1", "pods", "default", GetString(pod, {"metadata", "name"}), "status"},
                  PatchType::kMerge,
                  R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True",)"
                  R"("lastTransitionTime":")" +
                      now + R"("}]}})");
  }
  template <typename F>
  bool WaitFor(F done, std::chrono::milliseconds timeout = 10s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }
};

const char kDeployment[] = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main, image: "zkop.io/local-exec", env: [{name: V, value: "1"}]}]
)";

// apps/v1 defaulting (pkg/apis/apps/v1/defaults.go, core/v1 pod defaults).
TEST_F(WorkloadsTest, DeploymentDefaults) {
  Json d = CreateYaml("/apis/apps/v1/namespaces/default/deployments",
                      "metadata: {name: d}\nspec: {selector: {matchLabels: {a: b}}, template: "
                      "{metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: "
                      "\"nginx\"}, {name: e, image: \"x:1.2\"}]}}}");
  EXPECT_EQ(d["spec"]["replicas"].as_integer(), 1);
  EXPECT_EQ(GetString(d, {"spec", "strategy", "type"}), "RollingUpdate");
  EXPECT_EQ(GetString(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}), "25%");
  EXPECT_EQ(GetString(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), "25%");
  EXPECT_EQ(d["spec"]["revisionHistoryLimit"].as_integer(), 10);
  EXPECT_EQ(d["spec"]["progressDeadlineSeconds"].as_integer(), 600);
  const Json& pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(GetString(pod, {"restartPolicy"}), "Always");
  EXPECT_EQ(GetString(pod, {"dnsPolicy"}), "ClusterFirst");
  EXPECT_EQ(pod.at("terminationGracePeriodSeconds").as_integer(), 30);
  EXPECT_EQ(GetString(pod.at("containers").at(0), {"imagePullPolicy"}), "Always");
  EXPECT_EQ(GetString(pod.at("containers").at(1), {"imagePullPolicy"}), "IfNotPresent");
  EXPECT_EQ(GetString(pod.at("containers").at(0), {"terminationMessagePath"}),
            "/dev/termination-log");
}

// The Deployment controller makes a ReplicaSet <name>-<pod-template-hash> owned by the
// Deployment, which makes Pods owned by it carrying the pod-template-hash label; status and
// revision annotations follow; `kubectl get deploy` columns come from the server's Table.
TEST_F(WorkloadsTest, DeploymentMakesReplicaSetAndPods) {
  CreateYaml("/apis/apps/v1/namespaces/default/deployments", kDeployment);
  ASSERT_TRUE(WaitFor([&] { return Pods().size() == 4; })) << Pods().size();
  auto rss = ReplicaSets();
  ASSERT_EQ(rss.size(), 1u);
  const Json& rs = rss[0];
  const std::string hash = GetString(rs, {"metadata", "labels", "pod-template-hash"});
  EXPECT_FALSE(hash.empty());
  EXPECT_EQ(GetString(rs, {"metadata", "name"}), "web-" + hash);
  EXPECT_EQ(ControllerUid(rs, "Deployment"), GetString(Deployment(), {"metadata", "uid"}));
  EXPECT_EQ(GetString(rs, {"metadata", "annotations", "deployment.kubernetes.io/revision"}), "1");
  EXPECT_EQ(GetString(rs, {"spec", "selector", "matchLabels", "pod-template-hash"}), hash);
  for (const Json& p : Pods()) {
    EXPECT_EQ(GetString(p, {"metadata", "labels", "pod-template-hash"}), hash);
    EXPECT_EQ(ControllerUid(p, "ReplicaSet"), GetString(rs, {"metadata", "uid"}));
    EXPECT_EQ(GetString(p, {"metadata", "generateName"}), "web-" + hash + "-");
  }
  EXPECT_TRUE(WaitFor([&] {
    return GetString(Deployment(),
                     {"metadata", "annotations", "deployment.kubernetes.io/revision"}) == "1";
  }));
  for (const Json& p : Pods()) MarkReady(p);
  ASSERT_TRUE(WaitFor([&] {
    Json d = Deployment();
    const Json* a = Find(d, {"status", "availableReplicas"});
    return a && a->as_integer() == 4;
  }));
  Json d = Deployment();
  EXPECT_EQ(d["status"]["observedGeneration"].as_integer(), 1);
  EXPECT_EQ(d["status"]["readyReplicas"].as_integer(), 4);
  EXPECT_EQ(d["status"]["updatedReplicas"].as_integer(), 4);
  EXPECT_EQ(d["status"]["unavailableReplicas"].as_integer(), 0);
  EXPECT_EQ(GetString(d["status"]["conditions"][0], {"reason"}), "MinimumReplicasAvailable");
  EXPECT_EQ(GetString(d["status"]["conditions"][1], {"reason"}), "NewReplicaSetAvailable");
  EXPECT_EQ(GetString(d["status"]["conditions"][1], {"message"}),
            "ReplicaSet \"web-" + hash + "\" has successfully progressed.");
  Reply table = client().Get("/apis/apps/v1/namespaces/default/deployments",
                             "application/json;as=Table;v=v1;g=meta.k8s.io");
  ASSERT_EQ(table.status, 200);
  std::string names;
  for (const Json& c : table.json["columnDefinitions"].as_array())
    names += GetString(c, {"name"}) + ",";
  EXPECT_EQ(names, "Name,Ready,Up-to-date,Available,Age,Containers,Images,Selector,");
  EXPECT_EQ(table.json["rows"][0]["cells"][1].as_string(), "4/4");
  EXPECT_EQ(table.json["rows"][0]["cells"][2].as_integer(), 4);
  Reply rs_table = client().Get("/apis/apps/v1/namespaces/default/replicasets",
                                "application/json;as=Table;v=v1;g=meta.k8s.io");
  EXPECT_EQ(rs_table.json["columnDefinitions"][1]["name"].as_string(), "Desired");
  // kubectl scale deploy: the ReplicaSet follows, the extra Pods go.
  store().Patch({"apps", "v1", "deployments", "default", "web", "scale"}, PatchType::kMerge,
                R"({"spec":{"replicas":2}})");
  EXPECT_TRUE(WaitFor([&] { return Pods().size() == 2; })) << Pods().size();
}

// A rolling update (RollingUpdate maxSurge 1, maxUnavailable 1 of 4): a new ReplicaSet with
// revision 2; at no point more than replicas + maxSurge Pods or fewer than
// replicas - maxUnavailable ready ones; old Pods go only as new ones become available.
TEST_F(WorkloadsTest, RollingUpdateHonoursSurgeAndUnavailability) {
  CreateYaml("/apis/apps/v1/namespaces/default/deployments", kDeployment);
  ASSERT_TRUE(WaitFor([&] { return Pods().size() == 4; }));
  for (const Json& p : Pods()) MarkReady(p);
  ASSERT_TRUE(WaitFor([&] {
    return GetString(Deployment()["status"]["conditions"][1], {"reason"}) ==
           "NewReplicaSetAvailable";
  }));
  store().Patch(
      {"apps", "v1", "deployments", "default", "web", ""}, PatchType::kStrategic,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"V","value":"2"}]}]}}}})");
  int max_pods = 0, min_ready = 4, steps = 0;
  bool done = false;
  while (!done && steps++ < 200) {
    std::this_thread::sleep_for(50ms);
    auto pods = Pods();
    int ready = 0;
    for (const Json& p : pods)
      if (PodReady(p)) ++ready;
    max_pods = std::max(max_pods, static_cast<int>(pods.size()));
    min_ready = std::min(min_ready, ready);
    // The kubelet: one new Pod becomes ready per step.
    for (const Json& p : pods)
      if (!PodReady(p)) {
        MarkReady(p);
        break;
      }
    Json d = Deployment();
    done = Find(d, {"status", "updatedReplicas"}) &&
           d["status"]["updatedReplicas"].as_integer() == 4 &&
           d["status"]["replicas"].as_integer() == 4 &&
           d["status"]["availableReplicas"].as_integer() == 4;
  }
  ASSERT_TRUE(done);
  EXPECT_LE(max_pods, 5);
  EXPECT_GE(min_ready, 3);
  auto rss = ReplicaSets();
  ASSERT_EQ(rss.size(), 2u);
  for (const Json& rs : rss) {
    std::string rev =
        GetString(rs, {"metadata", "annotations", "deployment.kubernetes.io/revision"});
    EXPECT_EQ(rs.at("spec").at("replicas").as_integer(), rev == "2" ? 4 : 0) << rev;
  }
  EXPECT_TRUE(WaitFor([&] {
    return GetString(Deployment(),
                     {"metadata", "annotations", "deployment.kubernetes.io/revision"}) == "2";
  }));
}

}  // namespace
}  // namespace zkop::devkube::testing
