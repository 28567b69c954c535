// zkop-devkube as a program runs Pods by default: kubectl applies a Pod over HTTP, the Pod
// becomes Ready, kubectl deletes it (waiting for the runtime's confirmation), and SIGTERM stops
// the program with nothing left behind. With --no-pods the same Pod stays unscheduled.
#include <signal.h>

#include <cstdio>
#include <thread>

#include "gtest/gtest.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::ReadFile;
using zkop::testing::Subprocess;
using zkop::testing::SubprocessOptions;
using zkop::testing::TempDir;

constexpr const char* kPod = R"(apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: zkop.io/local-exec
    command: ["sh", "-c", "echo started as $(hostname) at $POD_IP | tee $MARK; exec sleep 300"]
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MARK, value: MARK_PATH}
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
)";

class DevkubeProgramTest : public ::testing::Test {
 protected:
  // Starts zkop-devkube with `extra` flags and waits for its kubeconfig.
  std::unique_ptr<Subprocess> StartDevkube(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        ZKOP_DEVKUBE_BIN,        "--listen",        "127.0.0.1:0",    "--kubeconfig-out",
        dir_.Path("kubeconfig"), "--pod-state-dir", dir_.Path("pods")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Subprocess>(argv, dir_.Path("devkube.log"));
    for (int i = 0;
         i < 200 && ReadFile(dir_.Path("devkube.log")).find("serving") == std::string::npos; ++i) {
      std::this_thread::sleep_for(20ms);
    }
    return p;
  }

  // Runs kubectl against the emulator; its exit status (its output alone in kubectl.log).
  int Kubectl(std::vector<std::string> args) {
    std::remove(dir_.Path("kubectl.log").c_str());
    std::vector<std::string> argv = {"/usr/bin/kubectl", "--kubeconfig", dir_.Path("kubeconfig"),
                                     "--cache-dir", dir_.Path("kube-cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess k(argv, dir_.Path("kubectl.log"));
    auto status = k.Wait(60s);
    return status ? *status : -1;
  }

  std::string ApplyPod() {
    std::string yaml = kPod;
    const std::string mark = dir_.Path("mark");
    yaml.replace(yaml.find("MARK_PATH"), 9, mark);
    const std::string file = dir_.Write("pod.yaml", yaml);
    EXPECT_EQ(Kubectl({"apply", "-f", file}), 0) << ReadFile(dir_.Path("kubectl.log"));
    return mark;
  }

  TempDir dir_{"devkube-program-pods"};
};

TEST_F(DevkubeProgramTest, RunsPodsByDefaultAndStopsCleanly) {
  auto devkube = StartDevkube({"--pod-backoff", "200ms"});
  const std::string mark = ApplyPod();
  ASSERT_EQ(Kubectl({"wait", "--for=condition=Ready", "pod/hello", "--timeout=30s"}), 0)
      << ReadFile(dir_.Path("kubectl.log")) << ReadFile(dir_.Path("devkube.log"));
  EXPECT_EQ(ReadFile(mark).rfind("started as hello at 127.42.", 0), 0u) << ReadFile(mark);
  // kubectl logs: the API serves the container's log file kept by the runtime.
  ASSERT_EQ(Kubectl({"logs", "hello"}), 0) << ReadFile(dir_.Path("kubectl.log"));
  EXPECT_EQ(ReadFile(dir_.Path("kubectl.log")), ReadFile(mark));
  ASSERT_EQ(Kubectl({"delete", "pod", "hello", "--wait=true", "--timeout=30s"}), 0)
      << ReadFile(dir_.Path("kubectl.log"));
  ASSERT_EQ(Kubectl({"get", "pod", "hello"}), 1);  // gone: NotFound
  devkube->Signal(SIGTERM);
  auto status = devkube->Wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << ReadFile(dir_.Path("devkube.log"));
}

TEST_F(DevkubeProgramTest, NoPodsServesTheApiAlone) {
  auto devkube = StartDevkube({"--no-pods"});
  const std::string mark = ApplyPod();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(ReadFile(mark), "");
  ASSERT_EQ(Kubectl({"get", "pod", "hello", "-o", "jsonpath={.spec.nodeName}/{.status.podIP}"}), 0);
  EXPECT_EQ(ReadFile(dir_.Path("kubectl.log")), "/");
  devkube->Signal(SIGTERM);
  auto status = devkube->Wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
}

}  // namespace
}  // namespace zkop::devkube::pods::testing
