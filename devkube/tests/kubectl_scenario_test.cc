// The kubectl scenario: /usr/bin/kubectl (v1.32) as a real client of the emulator, with a
// fresh --cache-dir and --kubeconfig per run: CRD apply + established, CR apply, printer
// columns, scale through the scale subresource, schema rejection, get -w, delete.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "devkube_test_env.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {
namespace {

const char* kKubectl = "/usr/bin/kubectl";

struct KubectlRun {
  int exit = -1;
  std::string output;
};

class KubectlScenario : public DevkubeTest {
 protected:
  void SetUp() override {
    if (::access(kKubectl, X_OK) != 0) GTEST_SKIP() << kKubectl << " is not installed";
    DevkubeTest::SetUp();
    server_->WriteKubeconfig(dir_.Path("kubeconfig"));
  }

  std::vector<std::string> Argv(std::vector<std::string> args) {
    std::vector<std::string> argv = {kKubectl, "--kubeconfig", dir_.Path("kubeconfig"),
                                     "--cache-dir", dir_.Path("cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  KubectlRun Kubectl(std::vector<std::string> args) {
    std::string out = dir_.Path("run" + std::to_string(++runs_) + ".txt");
    zkop::testing::Subprocess p(Argv(std::move(args)), out);
    KubectlRun r;
    auto status = p.Wait(std::chrono::seconds(60));
    r.exit = status ? *status : -999;
    r.output = zkop::testing::ReadFile(out);
    return r;
  }

  static std::string Fixture(const std::string& name) {
    return std::string(ZKOP_SOURCE_DIR) + "/devkube/tests/fixtures/" + name;
  }

  zkop::testing::TempDir dir_{"devkube-kubectl"};
  int runs_ = 0;
};

// Waits until `file` contains `needle`.
bool WaitForText(const std::string& file, const std::string& needle, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    if (s.str().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST_F(KubectlScenario, ZookeeperClusterLifecycle) {
  KubectlRun crd = Kubectl(
      {"apply", "-f", std::string(ZKOP_SOURCE_DIR) + "/crds/zookeeperclusters.zkop.io.yaml"});
  ASSERT_EQ(crd.exit, 0) << crd.output;
  EXPECT_NE(crd.output.find(
                "customresourcedefinition.apiextensions.k8s.io/zookeeperclusters.zkop.io created"),
            std::string::npos);
  KubectlRun established = Kubectl(
      {"wait", "--for", "condition=established", "--timeout=20s", "crd/zookeeperclusters.zkop.io"});
  ASSERT_EQ(established.exit, 0) << established.output;
  EXPECT_NE(established.output.find("condition met"), std::string::npos);

  KubectlRun apply = Kubectl({"apply", "-f", Fixture("demo.yaml")});
  ASSERT_EQ(apply.exit, 0) << apply.output;
  EXPECT_NE(apply.output.find("zookeepercluster.zkop.io/demo created"), std::string::npos);
  KubectlRun again = Kubectl({"apply", "-f", Fixture("demo.yaml")});
  EXPECT_NE(again.output.find("zookeepercluster.zkop.io/demo unchanged"), std::string::npos)
      << again.output;

  // The operator's part, done in-process: a status through the status subresource.
  ResourceRef status{"zkop.io", "v1alpha1", "zookeeperclusters", "default", "demo", "status"};
  auto patched = server_->store().Patch(
      status, PatchType::kMerge,
      R"({"status":{"replicas":3,"readyReplicas":3,"leader":"demo-1","version":"3.8.0",)"
      R"("selector":"app.kubernetes.io/instance=demo"}})");
  ASSERT_TRUE(patched.ok()) << patched.status.message;

  KubectlRun get = Kubectl({"get", "zkc"});
  ASSERT_EQ(get.exit, 0) << get.output;
  EXPECT_EQ(get.output.substr(0, get.output.find('\n')),
            "NAME   READY   REPLICAS   LEADER   VERSION   AGE");
  EXPECT_NE(get.output.find("demo   3       3          demo-1   3.8.0     "), std::string::npos)
      << get.output;

  KubectlRun scale = Kubectl({"scale", "zkc", "demo", "--replicas=5"});
  ASSERT_EQ(scale.exit, 0) << scale.output;
  EXPECT_NE(scale.output.find("zookeepercluster.zkop.io/demo scaled"), std::string::npos);
  auto cr =
      server_->store().Get({"zkop.io", "v1alpha1", "zookeeperclusters", "default", "demo", ""});
  ASSERT_TRUE(cr.ok());
  EXPECT_EQ(cr.value["spec"]["replicas"].as_integer(), 5);
  EXPECT_EQ(cr.value["metadata"]["generation"].as_integer(), 2);

  KubectlRun invalid = Kubectl({"apply", "-f", Fixture("invalid.yaml")});
  EXPECT_NE(invalid.exit, 0);
  EXPECT_NE(invalid.output.find("The ZookeeperCluster \"bad\" is invalid: spec.replicas: Invalid "
                                "value: 0: spec.replicas in body should be greater than or equal "
                                "to 1"),
            std::string::npos)
      << invalid.output;

  // get -w streams the change made by another client.
  std::string watch_out = dir_.Path("watch.txt");
  zkop::testing::Subprocess watch(Argv({"get", "zkc", "-w"}), watch_out);
  ASSERT_TRUE(WaitForText(watch_out, "demo-1", std::chrono::seconds(20)))
      << zkop::testing::ReadFile(watch_out);
  KubectlRun patch =
      Kubectl({"patch", "zkc", "demo", "--type=merge", "-p", R"({"spec":{"replicas":7}})"});
  ASSERT_EQ(patch.exit, 0) << patch.output;
  EXPECT_TRUE(WaitForText(watch_out, "demo   3       7 ", std::chrono::seconds(20)))
      << zkop::testing::ReadFile(watch_out);
  watch.Terminate(std::chrono::seconds(2));

  KubectlRun del = Kubectl({"delete", "zkc", "demo"});
  ASSERT_EQ(del.exit, 0) << del.output;
  EXPECT_NE(del.output.find("zookeepercluster.zkop.io \"demo\" deleted"), std::string::npos);
  KubectlRun gone = Kubectl({"get", "zkc", "demo"});
  EXPECT_NE(gone.exit, 0);
  EXPECT_NE(gone.output.find("Error from server (NotFound): zookeeperclusters.zkop.io \"demo\" "
                             "not found"),
            std::string::npos)
      << gone.output;
}

// Built-in objects through kubectl apply (client-side: GET + strategic merge PATCH with the
// last-applied annotation) and kubectl get all.
TEST_F(KubectlScenario, BuiltinApplyUsesStrategicMerge) {
  std::string manifest = dir_.Write("app.yaml", R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: nginx:1
        env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
)");
  KubectlRun first = Kubectl({"apply", "-f", manifest});
  ASSERT_EQ(first.exit, 0) << first.output;
  dir_.Write("app.yaml", zkop::testing::ReadFile(manifest).replace(
                             zkop::testing::ReadFile(manifest).find("nginx:1"), 7, "nginx:2"));
  KubectlRun second = Kubectl({"apply", "-f", manifest});
  ASSERT_EQ(second.exit, 0) << second.output;
  EXPECT_NE(second.output.find("deployment.apps/web configured"), std::string::npos);
  EXPECT_NE(second.output.find("service/web unchanged"), std::string::npos);
  auto d = server_->store().Get({"apps", "v1", "deployments", "default", "web", ""});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(GetString(d.value["spec"]["template"]["spec"]["containers"][0], {"image"}), "nginx:2");
  EXPECT_EQ(d.value["metadata"]["generation"].as_integer(), 2);
  KubectlRun all = Kubectl({"get", "all"});
  EXPECT_NE(all.output.find("deployment.apps/web"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("service/web"), std::string::npos) << all.output;
}

}  // namespace
}  // namespace zkop::devkube::testing
