// Shared pieces of the agent's integration tests: one real 3-server ensemble per test
// binary, fake provider processes, the real zkop-agent binary as a subprocess, a ZooKeeper
// client to look at what it wrote, and tiny HTTP GETs for /metrics.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"
#include "zkop/testing/zk_ensemble.h"
#include "zkop/zk/client.h"

namespace zkop::agent::testing {

// A test suite whose tests share one real 3-server ensemble: started before the suite's first
// test, stopped after its last (also when a test fails). Each test works under its own root
// path, from UniqueSuffix().
class SharedEnsembleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ensemble_ = new zkop::testing::ZkEnsemble(); }
  static void TearDownTestSuite() {
    delete ensemble_;
    ensemble_ = nullptr;
  }
  // "<pid>-<n>": different for every call in this process and across processes.
  static std::string UniqueSuffix();

  static inline zkop::testing::ZkEnsemble* ensemble_ = nullptr;
};

// Polls every 10 ms until `pred` holds or `timeout` passes.
bool Eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(15));

// A provider stand-in listening on host:port; `port` 0 picks one.
class FakeProvider {
 public:
  FakeProvider(const zkop::testing::TempDir& dir, const std::string& app, const std::string& host,
               int port);
  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  bool bound() const { return port_ > 0; }
  const std::string& output() const { return output_; }
  void Stop() { process_->Terminate(std::chrono::seconds(2)); }

 private:
  std::unique_ptr<zkop::testing::Subprocess> process_;
  std::string output_;
  int port_ = 0;
};

// zkop-agent run --config FILE, with its log in the temp dir.
class AgentProcess {
 public:
  AgentProcess(const zkop::testing::TempDir& dir, const std::string& config_path,
               std::vector<std::string> env = {});
  zkop::testing::Subprocess& process() { return *process_; }
  std::string Log() const;

 private:
  std::unique_ptr<zkop::testing::Subprocess> process_;
  std::string log_path_;
};

// Runs a binary to completion: exit status and stdout+stderr.
struct RunResult {
  int status = -1;
  std::string output;
};
RunResult RunToEnd(const zkop::testing::TempDir& dir, std::vector<std::string> argv,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20));

std::string AgentBinary();
std::string DemoProviderBinary();

// GET http://address/path; "" on failure.
std::string HttpGet(const std::string& host, int port, const std::string& path);
// The value of an unlabelled (or exactly labelled) sample in Prometheus text, or -1.
double Metric(const std::string& text, const std::string& series);

// A connected client for looking at the tree.
std::unique_ptr<zk::Client> Connect(const std::string& connect);
// Children of `path` (empty when absent).
std::vector<std::string> Children(zk::Client& c, const std::string& path);

}  // namespace zkop::agent::testing
