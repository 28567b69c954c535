// A fixture that runs zkop-devkube as a program (HTTPS, the admin kubeconfig, its pod runtime
// unless told otherwise) for tests that drive it with real, unmodified clients, plus kubectl
// to look at the result.
//
// Contract: SetUp() starts the program on 127.0.0.1:<ephemeral> with its kubeconfig at
// Kubeconfig() and waits (≤ 5 s) for its "serving" line; TearDown() sends SIGTERM and expects
// a clean exit within 20 s. Every process is a zkop::testing::Subprocess (own process group,
// killed and reaped at the latest when the test ends). Kubectl() runs /usr/bin/kubectl with
// the kubeconfig and a private cache dir and returns its exit status (-1 on timeout), its
// combined output in Out(). WaitFor() polls a predicate every 200 ms until it holds or the
// deadline passes.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {

class DevkubeProgramFixture : public ::testing::Test {
 protected:
  explicit DevkubeProgramFixture(std::string prefix, std::vector<std::string> extra_flags = {})
      : dir_(prefix), extra_flags_(std::move(extra_flags)) {}

  void SetUp() override {
    using namespace std::chrono_literals;
    std::vector<std::string> argv = {ZKOP_DEVKUBE_BIN,   "--listen",      "127.0.0.1:0",
                                     "--kubeconfig-out", Kubeconfig(),    "--pod-state-dir",
                                     dir_.Path("pods"),  "--pod-backoff", "200ms"};
    argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
    devkube_ = std::make_unique<zkop::testing::Subprocess>(argv, dir_.Path("devkube.log"));
    for (int i = 0; i < 250 && DevkubeLog().find("zkop-devkube: serving") == std::string::npos; ++i)
      std::this_thread::sleep_for(20ms);
    ASSERT_NE(DevkubeLog().find("zkop-devkube: serving https://127.0.0.1:"), std::string::npos)
        << DevkubeLog();
  }

  void TearDown() override {
    if (!devkube_) return;
    devkube_->Signal(SIGTERM);
    auto status = devkube_->Wait(std::chrono::seconds(20));
    EXPECT_TRUE(status && *status == 0) << DevkubeLog();
  }

  std::string Kubeconfig() const { return dir_.Path("kubeconfig"); }
  std::string DevkubeLog() const { return zkop::testing::ReadFile(dir_.Path("devkube.log")); }

  int Kubectl(std::vector<std::string> args,
              std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::remove(dir_.Path("kubectl.log").c_str());
    std::vector<std::string> argv = {"/usr/bin/kubectl", "--kubeconfig", Kubeconfig(),
                                     "--cache-dir", dir_.Path("kube-cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    zkop::testing::Subprocess k(argv, dir_.Path("kubectl.log"));
    auto status = k.Wait(timeout);
    return status ? *status : -1;
  }
  std::string Out() const { return zkop::testing::ReadFile(dir_.Path("kubectl.log")); }

  // kubectl's output for `args` ("<kubectl failed: ...>" when it fails).
  std::string KubectlOut(std::vector<std::string> args) {
    const int rc = Kubectl(std::move(args));
    return rc == 0 ? Out() : "<kubectl failed: " + std::to_string(rc) + "> " + Out();
  }

  static bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return true;
  }

  zkop::testing::TempDir dir_;
  std::vector<std::string> extra_flags_;
  std::unique_ptr<zkop::testing::Subprocess> devkube_;
};

}  // namespace zkop::devkube::testing
