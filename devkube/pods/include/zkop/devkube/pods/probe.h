// Container probes (exec, tcpSocket, httpGet) and the kubelet's threshold logic.
//
// Contract: ParseProbe and ProbeTracker are pure values (not thread-safe, never throw). A
// Prober performs one probe and is the external effect tests replace; the real one
// (MakeSystemProber) runs exec probes through a ProcessLauncher and dials TCP/HTTP itself,
// each bounded by timeoutSeconds.
#pragma once

#include <cpprest/json.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "zkop/devkube/pods/process.h"

namespace zkop::devkube::pods {

struct ProbeSpec {
  enum class Kind { kExec, kTcp, kHttp };
  Kind kind = Kind::kExec;
  std::vector<std::string> command;  // exec
  std::string host;                  // tcp/http; empty: the Pod's address
  int port = 0;                      // tcp/http (named ports resolved)
  std::string path = "/";            // http
  std::string scheme = "HTTP";       // http (HTTPS is not supported: an error at parse)
  std::vector<std::pair<std::string, std::string>> headers;  // http
  int initial_delay_seconds = 0;
  int period_seconds = 10;
  int timeout_seconds = 1;
  int success_threshold = 1;
  int failure_threshold = 3;
};

// Parses a core/v1 Probe; named ports are looked up in the container's ports. nullopt and
// *error ("readinessProbe.httpGet.port: ...") when it cannot be run here.
std::optional<ProbeSpec> ParseProbe(const web::json::value& probe,
                                    const web::json::value& container, const std::string& field,
                                    std::string* error);

// Where and how a probe runs.
struct ProbeTarget {
  std::string pod_ip;
  LaunchSpec exec_base;  // env, cwd and log file for exec probes (argv replaced)
};

struct ProbeOutcome {
  bool success = false;
  std::string message;  // why it failed
};

class Prober {
 public:
  virtual ~Prober() = default;
  virtual ProbeOutcome Run(const ProbeSpec& spec, const ProbeTarget& target) = 0;
};

std::unique_ptr<Prober> MakeSystemProber(ProcessLauncher& launcher);

// One probe's state: when it is due and what its thresholds make of the results so far.
// The initial result is the kubelet's: readiness and startup start failed, liveness succeeded.
class ProbeTracker {
 public:
  using Clock = std::chrono::steady_clock;
  ProbeTracker(ProbeSpec spec, bool initially_ok, Clock::time_point container_started)
      : spec_(std::move(spec)),
        ok_(initially_ok),
        next_(container_started + std::chrono::seconds(spec_.initial_delay_seconds)) {}

  bool Due(Clock::time_point now) const { return now >= next_; }
  Clock::time_point next() const { return next_; }
  // Feeds one result; the next run is due period_seconds later. Returns true when ok() changed.
  bool Record(bool success, Clock::time_point now);
  bool ok() const { return ok_; }
  const ProbeSpec& spec() const { return spec_; }

 private:
  ProbeSpec spec_;
  bool ok_;
  int successes_ = 0;
  int failures_ = 0;
  Clock::time_point next_;
};

}  // namespace zkop::devkube::pods
