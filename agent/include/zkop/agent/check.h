// `zkop-agent check`: resolves the config, probes the ports once and reports, per service,
// the registration path and URL and the state (would register / not listening / conflict /
// config error), then every port conflict. Never writes to ZooKeeper; in registerMode
// instance | all it reads the instance nodes (through a RegistryReader) to say whether the
// provider registered itself, in which case the agent leaves the node alone.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "zkop/agent/config.h"
#include "zkop/agent/probe.h"
#include "zkop/agent/resolve.h"

namespace zkop::agent {

// One node as `check` reads it: `error` when ZooKeeper could not be asked.
struct RegistryRead {
  bool exists = false;
  std::string data;
  std::string error;
};
using RegistryReader = std::function<RegistryRead(const std::string& path)>;

// Writes the report (text, or one JSON document when `json`). Returns the exit status:
// 1 when any service has a conflict or a config error, else 0 (a provider's own instance
// is reported, not a failure).
// JSON: {"services":[{service, interface, application, source, state, port, registryPort,
// pid, holder, paths, url, reason, instance?}], "conflicts":[...], "warnings":[...],
// "probeError"?, "ok"}; `instance` (instance modes, with a reader): {path, state: "absent" |
// "agent" | "provider" | "unknown", revision, agentRevision, detail}. Every string is valid
// UTF-8 (invalid bytes become U+FFFD).
int RunCheck(const AgentConfig& config, const std::vector<Declared>& declared, PortProbe& probe,
             bool json, std::ostream& out, const RegistryReader& registry = nullptr);

// The report when the config cannot be loaded at all (exit status 1): with `json`, still one
// valid JSON document ({"services":[], ..., "error": "...", "ok": false}).
void PrintCheckError(std::string_view error, bool json, std::ostream& out);

}  // namespace zkop::agent
