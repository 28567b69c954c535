// RegistryStore on the shared ZooKeeper client: each session is one zkop::zk::Client
// (which keeps its session across lost connections and creates a new one after expiry).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "zkop/agent/registry.h"

namespace zkop::agent {

struct ZkRegistryOptions {
  std::string connect;
  std::chrono::milliseconds session_timeout{30000};
  // How often a connected session may resolve the connect string again (issue 11 #5: the C
  // client's default is on every request; 0 keeps it).
  std::chrono::milliseconds resolve_interval{10000};
};

class ZkRegistryStore : public RegistryStore {
 public:
  explicit ZkRegistryStore(ZkRegistryOptions options);
  std::unique_ptr<RegistrySession> Open(std::function<void()> wake) override;

 private:
  ZkRegistryOptions options_;
  std::atomic<int> opened_{0};
};

}  // namespace zkop::agent
