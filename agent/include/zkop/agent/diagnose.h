// Decides, for every declared service, whether it may be registered now — and when not,
// says why in words a user can act on (port conflicts are named, never silent).
//
// Owners: services with the same application and source file are one provider (one
// process; many interfaces on one port is normal Dubbo). A process is that provider when
//  - the service (or its source) sets `process:` and the command line contains it; else
//  - the application name appears in the command line as a whole word (bounded by
//    characters other than letters, digits, '_' and '-'), or
//  - the source file lies under the process's working directory (other than "/"), or the
//    source's directory appears in the command line.
//
// Rules, per bind port:
//  - port -1: the lowest listening port >= the protocol default held by this provider's
//    process; when pids are not visible, the only listening port in that range that no other
//    provider claims — several candidates make it a conflict ("ambiguous");
//  - two providers on one port: conflict; the one whose process holds the port (when
//    visible) is registered, the other is not; when no holder can be told, neither is;
//  - one provider: registered while the port listens, unless there is positive evidence
//    that the visible holder is someone else: it matches another declared provider (and
//    not this one), or the provider sets process: and the holder's command line does not
//    contain it — then conflict ("held by pid N (cmdline), which is not ..."). A holder
//    that merely does not look like the provider (`java -jar app.jar`, `node server.js`)
//    is taken as the provider, and Decision::holder says who it is.
// Pure apart from PortProbe::Describe; never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "zkop/agent/probe.h"
#include "zkop/agent/resolve.h"

namespace zkop::agent {

enum class ServiceState { kRegister, kNotListening, kConflict, kConfigError };
// "would register", "not listening", "conflict", "config error"
std::string_view StateText(ServiceState s);
// Metric label: "registered", "not_listening", "conflict", "config_error".
std::string_view StateLabel(ServiceState s);

struct Decision {
  ServiceState state = ServiceState::kNotListening;
  int bind_port = 0;      // resolved (never -1 when state is kRegister)
  int registry_port = 0;  // the port written into the registry
  int pid = 0;            // the listening process, 0 when not visible
  std::string reason;     // empty for kRegister
  std::string holder;     // "pid N (cmdline)" of the visible listener, "" when not visible
};

struct Diagnosis {
  std::vector<Decision> decisions;     // parallel to the declared services
  std::vector<std::string> conflicts;  // one message per conflicting port, both sides named
};

// True when `process` is the provider `d` belongs to (see the header comment).
bool ProcessMatches(const Declared& d, const ProcessInfo& process);

Diagnosis Diagnose(const std::vector<Declared>& declared, const ListenTable& table,
                   PortProbe& probe);

}  // namespace zkop::agent
