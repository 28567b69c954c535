// Processes and measurements for operator_bench (docs/benchmarks.md): zkop-devkube and
// zkop-operator as programs, the emulator's request log, the operator's /metrics, RSS.
//
// Every process is a zkop::testing::Subprocess (own process group, killed and reaped when its
// owner goes, even on a failed run). Everything listens on 127.0.0.0/8 only. Not thread-safe:
// use from the benchmark's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zkop/kube/client.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using kube::Json;

double Ms(Clock::duration d);
// Polls `done` every `every` until it is true or `timeout` passes; its last answer.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every = 50ms);
// A /proc/<pid>/status field in KiB ("VmRSS:", "VmHWM:"), -1 when unreadable.
long StatusKb(pid_t pid, const std::string& field);
// The 1-minute load average (/proc/loadavg).
double LoadAverage();

// ZookeeperCluster manifest with the tests' settings (tests/operator/operator_env.cc's
// ClusterYaml): small quick-start JVMs, a 500 ms tick.
inline constexpr const char* kJvmFlags =
    "-Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k";
Json ClusterObject(const std::string& name, int replicas);

// Writes (POST, PUT, PATCH, DELETE) and reads in the emulator's request log
// (`request method=... path=...` at --log-level debug).
struct RequestLog {
  int reads = 0;
  int writes = 0;
  std::map<std::string, int> writes_by_kind;  // "POST secrets", "PATCH zookeeperclusters/status"
  std::vector<std::string> write_lines;       // the log lines of the writes
  int WritesExcept(const std::string& kind_substring) const;
};

// zkop-devkube as a program on 127.0.0.1 (a random free port), with or without its pod
// runtime; the CRD applied through zkop's client.
class Devkube {
 public:
  Devkube(const testing::TempDir& dir, const std::string& name, bool pods);
  ~Devkube();
  Devkube(const Devkube&) = delete;
  Devkube& operator=(const Devkube&) = delete;

  const std::string& kubeconfig() const { return kubeconfig_; }
  kube::Client& client() { return *client_; }
  pid_t pid() const { return process_->pid(); }
  size_t LogSize() const;
  // Requests logged from byte `offset` of the log on.
  RequestLog RequestsSince(size_t offset) const;
  std::string LogTail(int lines = 40) const;
  void Stop();

 private:
  std::string log_path_;
  std::string kubeconfig_;
  std::unique_ptr<testing::Subprocess> process_;
  std::shared_ptr<kube::Client> client_;
};

// `zkop-operator run` against a Devkube, with /metrics on a free 127.0.0.1 port.
class Operator {
 public:
  Operator(const testing::TempDir& dir, const std::string& name, const Devkube& kube,
           std::vector<std::string> extra_flags = {});
  ~Operator();
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;

  pid_t pid() const { return process_->pid(); }
  bool Running() { return process_->Running(); }
  // /readyz answers 200 (informers synced).
  bool WaitReady(std::chrono::milliseconds timeout);
  // zkop_operator_api_requests_total by verb (codes summed); empty when /metrics is down.
  std::map<std::string, double> ApiRequests();
  std::string LogTail(int lines = 40) const;
  void Stop();

 private:
  int port_ = 0;
  std::string log_path_;
  std::unique_ptr<testing::Subprocess> process_;
};

// Condition `type`'s status of a cluster object ("True"/"False"/"" when absent).
std::string ConditionStatus(const Json& cluster, const std::string& type);

}  // namespace zkop::bench
