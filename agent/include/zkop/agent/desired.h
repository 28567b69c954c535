// From decisions to registry nodes: the interface-level provider nodes and the Dubbo 3
// application-level instance nodes that should exist right now.
//
// Stability: a provider node's name holds `pid` and `timestamp`; both stay fixed while the
// service stays registrable on the same port and process (Stamps remembers when it became
// registrable), so anti-entropy restores the very same node. pid is the listening process
// when visible, else the agent's own pid.
// Node data: the registry host (Curator's default data is the local address) for provider
// nodes; Curator ServiceInstance JSON for instance nodes. Not thread-safe; pure otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "zkop/agent/config.h"
#include "zkop/agent/diagnose.h"
#include "zkop/agent/resolve.h"

namespace zkop::agent {

// When each (service, port, pid) became registrable, in ms since the epoch.
class Stamps {
 public:
  int64_t Get(const std::string& key, int64_t now_ms);
  // Forgets every key not in `live`.
  void Retain(const std::map<std::string, int64_t>& live);

 private:
  std::map<std::string, int64_t> stamps_;
};

struct DesiredState {
  std::map<std::string, std::string> nodes;  // path -> data
  // Per declared service: the provider URL and the nodes it contributes (for check / logs),
  // filled for every resolvable service, registrable or not.
  std::vector<std::string> urls;
  std::vector<std::vector<std::string>> paths;
};

// `details`: fill urls and paths (for check); the daemon skips them to save memory.
DesiredState BuildDesired(const AgentConfig& config, const std::vector<Declared>& declared,
                          const Diagnosis& diagnosis, Stamps* stamps, int64_t now_ms,
                          int64_t agent_pid, bool details = true);

}  // namespace zkop::agent
