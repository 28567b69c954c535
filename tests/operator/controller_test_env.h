// Fixture for the controller machinery's integration tests: the devkube emulator in process
// (KubeEnv: no pod runtime) with the ZookeeperCluster CRD installed, a recording fake
// Reconciler and helpers to run Managers on their own threads.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "json_util.h"
#include "kube_test_env.h"
#include "zkop/operator/controller/manager.h"

namespace zkop::op::testing {

using Clock = std::chrono::steady_clock;
using kube::Json;
using namespace std::chrono_literals;

inline bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

// Records every Reconcile call; `behaviour` decides the outcome (default: success).
class FakeReconciler : public Reconciler {
 public:
  struct Call {
    std::string key;
    Clock::time_point start, end;
  };
  std::function<ReconcileOutcome(const ReconcileRequest&, std::stop_token)> behaviour;

  ReconcileOutcome Reconcile(const ReconcileRequest& request, std::stop_token stop) override {
    Call call{request.Key(), Clock::now(), {}};
    ReconcileOutcome outcome = behaviour ? behaviour(request, stop) : ReconcileOutcome::Done();
    call.end = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(call);
    return outcome;
  }
  std::vector<Call> Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int Count(const std::string& key) const {
    int n = 0;
    for (const Call& c : Calls()) n += c.key == key;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Call> calls_;
};

inline std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(ZKOP_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class OperatorEnv : public kube::testing::KubeEnv {
 protected:
  OperatorEnv() {
    std::string error;
    std::optional<Json> crd =
        devkube::ParseYamlAsJson(ReadSource("crds/zookeeperclusters.zkop.io.yaml"), &error);
    EXPECT_TRUE(crd) << error;
    auto created = client_->Create(kube::resources::CustomResourceDefinitions(), "", *crd);
    EXPECT_TRUE(created.ok()) << created.error().ToString();
  }

  static ManagerOptions Options() {
    ManagerOptions o;
    o.metrics_address = "127.0.0.1:0";
    o.leader_election.enabled = false;
    o.controller.concurrency = 2;
    return o;
  }

  // A Manager running on its own thread; the FakeReconciler it was built with.
  struct Running {
    std::unique_ptr<Manager> manager;
    FakeReconciler* reconciler = nullptr;
    std::shared_ptr<kube::testing::FaultTransport> transport;
    std::jthread thread;
    std::atomic<int> exit_code{-1};
    void Stop() {
      thread.request_stop();
      if (thread.joinable()) thread.join();
    }
  };

  std::unique_ptr<Running> Start(
      ManagerOptions options,
      std::function<ReconcileOutcome(const ReconcileRequest&, std::stop_token)> behaviour = {}) {
    auto r = std::make_unique<Running>();
    r->transport = std::make_shared<kube::testing::FaultTransport>(kube::NewHttpTransport(config_));
    Running* raw = r.get();
    r->manager =
        std::make_unique<Manager>(options, r->transport, [raw, behaviour](const ManagerDeps& deps) {
          EXPECT_TRUE(deps.client && deps.cache && deps.recorder && deps.metrics);
          auto fake = std::make_unique<FakeReconciler>();
          fake->behaviour = behaviour;
          raw->reconciler = fake.get();
          return fake;
        });
    r->thread =
        std::jthread([raw](std::stop_token stop) { raw->exit_code = raw->manager->Run(stop); });
    return r;
  }

  Json CreateCluster(const std::string& name, const std::string& ns = "default") {
    Json cr = Json::parse(R"({"metadata":{"name":")" + name + R"("},"spec":{"replicas":3}})");
    auto r = client_->Create(kube::resources::ZookeeperClusters(), ns, cr);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r.value() : Json();
  }

  void Patch(const kube::ResourceRef& ref, const std::string& name, const std::string& patch,
             bool status = false) {
    auto r = status ? client_->PatchStatus(ref, "default", name, Json::parse(patch))
                    : client_->Patch(ref, "default", name, Json::parse(patch));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  Json Lease() {
    auto r = client_->Get(kube::resources::Leases(), "default", "zkop-operator");
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? r.value() : Json();
  }
};

}  // namespace zkop::op::testing
