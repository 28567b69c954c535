// `zkop-agent check`: resolves the config, probes the ports once and reports, per service,
// the registration path and URL and the state (would register / not listening / conflict /
// config error), then every port conflict. Never touches ZooKeeper.
#pragma once

#include <ostream>

#include "zkop/agent/config.h"
#include "zkop/agent/probe.h"
#include "zkop/agent/resolve.h"

namespace zkop::agent {

// Writes the report (text, or one JSON document when `json`). Returns the exit status:
// 1 when any service has a conflict or a config error, else 0.
int RunCheck(const AgentConfig& config, const std::vector<Declared>& declared, PortProbe& probe,
             bool json, std::ostream& out);

}  // namespace zkop::agent
