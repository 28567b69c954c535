// `zkop-agent check`: resolves the config, probes the ports once and reports, per service,
// the registration path and URL and the state (would register / not listening / conflict /
// config error), then every port conflict. Never touches ZooKeeper.
#pragma once

#include <ostream>
#include <string_view>

#include "zkop/agent/config.h"
#include "zkop/agent/probe.h"
#include "zkop/agent/resolve.h"

namespace zkop::agent {

// Writes the report (text, or one JSON document when `json`). Returns the exit status:
// 1 when any service has a conflict or a config error, else 0.
// JSON: {"services":[{service, interface, application, source, state, port, registryPort,
// pid, holder, paths, url, reason}], "conflicts":[...], "warnings":[...], "probeError"?,
// "ok"}; every string is valid UTF-8 (invalid bytes become U+FFFD).
int RunCheck(const AgentConfig& config, const std::vector<Declared>& declared, PortProbe& probe,
             bool json, std::ostream& out);

// The report when the config cannot be loaded at all (exit status 1): with `json`, still one
// valid JSON document ({"services":[], ..., "error": "...", "ok": false}).
void PrintCheckError(std::string_view error, bool json, std::ostream& out);

}  // namespace zkop::agent
