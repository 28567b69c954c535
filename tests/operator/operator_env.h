// A whole local cluster for the operator's end-to-end tests: zkop-devkube as a program (API
// emulator + pod runtime running member Pods as real ZooKeeper servers), kubectl against it,
// zkop's own Kubernetes client, and helpers to run and stop zkop-operator processes.
//
// Every process a test starts is a Subprocess: it is reaped when the fixture ends, even when
// the test fails. All traffic stays on 127.0.0.0/8 (the API on 127.0.0.1, Pods on 127.42.x).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "zkop/kube/client.h"
#include "zkop/kube/config.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::op::testing {

using namespace std::chrono_literals;
using kube::Json;
using zkop::testing::Subprocess;

// Cluster manifest with the settings tests use: small JVMs, a short tick. `extra_spec` lines
// go under spec ("  image: x\n"), `extra_config` lines under spec.config ("    k: v\n").
std::string ClusterYaml(const std::string& name, int replicas, const std::string& extra_spec = "",
                        const std::string& extra_config = "");

class OperatorEnv : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // kubectl with the emulator's kubeconfig and a fresh cache dir; `out` gets stdout+stderr.
  int Kubectl(const std::vector<std::string>& args, std::string* out = nullptr,
              const std::string& stdin_text = "");
  // kubectl apply -f - of `yaml`; fails the test on a non-zero exit.
  void Apply(const std::string& yaml);

  // Starts `zkop-operator run` against the emulator; `name` names its log file.
  Subprocess& StartOperator(const std::string& name, std::vector<std::string> extra = {});
  std::string OperatorLog(const std::string& name) const;
  // GET http://127.0.0.1:<port of operator `name`>/<path>: the body ("" when no answer).
  std::string OperatorHttp(const std::string& name, const std::string& path);
  // `promtool check metrics` of `text`: its exit status; its output in *out.
  int Promtool(const std::string& text, std::string* out);
  // What promtool finds in `text` beyond the lint of ZooKeeper's own metric names, which the
  // ensemble metrics keep (gauges named *_count, *_ms units): "" when nothing else, otherwise
  // promtool's exit status and findings. zkop's own names must have no finding at all.
  std::string PromtoolBeyondZooKeeperNaming(const std::string& text);

  std::optional<Json> Get(const kube::ResourceRef& ref, const std::string& name,
                          const std::string& ns = "default");
  // The cluster's condition status ("True"/"False"/"" when absent).
  std::string ConditionStatus(const std::string& cluster, const std::string& type);
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = 200ms);
  bool WaitReady(const std::string& cluster, std::chrono::milliseconds timeout);
  // Pod IPs of members, for clients outside the Pods (the test process).
  std::string MemberConnectString(const std::string& cluster, int replicas);
  // API writes (POST, PUT, PATCH, DELETE) the emulator logged after byte `offset` of its log,
  // leaving out Lease renewals (leader election's heartbeat).
  int ApiWritesSince(size_t offset, std::string* lines = nullptr);
  size_t DevkubeLogSize();
  // Runs `args` in a Pod (image zkop.io/local-exec, restartPolicy Never) with the cluster's
  // discovery ConfigMap as environment; waits for it to finish. Its log via `out`.
  bool RunInPod(const std::string& name, const std::vector<std::string>& args, std::string* out,
                const std::string& discovery = "");
  // What a failing wait should print: the cluster's status, its Pods, recent operator log.
  std::string Explain(const std::string& cluster);

  zkop::testing::TempDir dir_{"zkop-operator-e2e"};
  std::unique_ptr<Subprocess> devkube_;
  std::vector<std::unique_ptr<Subprocess>> operators_;
  std::vector<std::string> operator_names_;
  std::map<std::string, int> metrics_ports_;
  std::shared_ptr<kube::Client> client_;
  int kubectl_runs_ = 0;
};

}  // namespace zkop::op::testing
