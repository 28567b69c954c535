// Host processes for containers, hooks and exec probes: the runtime's one external effect on
// the process table, behind an interface so tests can inject failures.
//
// The system launcher starts each process as the leader of its own process group (signals go
// to the whole group), with PR_SET_PDEATHSIG = SIGKILL (it dies with the thread that started it
// if the runtime's process dies without cleaning up) and stdin from /dev/null, stdout+stderr
// appended to a log file. Every group it started and has not reaped yet is SIGKILLed by an
// atexit handler (exit() without destructors) and by a reaper process forked on first use
// that outlives this process by a moment: when this process dies in any way (a crashed or
// SIGKILLed test), the reaper kills the groups left, grandchildren included.
//
// Contract: thread-safe. Start fails (nullopt + *error, e.g. "exec /x: No such file or
// directory") when the program cannot be executed; nothing throws.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkop::devkube::pods {

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is searched in the env's PATH
  std::vector<std::string> env;   // "NAME=value", the whole environment
  std::string cwd;                // empty: inherit
  std::string log_path;           // stdout+stderr, appended; empty: /dev/null
};

struct ExitStatus {
  int exit_code = 0;  // the exit status, or 128 + signal when killed by one
  int signal = 0;     // the signal that ended it, 0 when it exited
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts the process; answers its pid (also its process group id).
  virtual std::optional<int> Start(const LaunchSpec& spec, std::string* error) = 0;
  // Non-blocking: the exit status once it has exited (the process is then reaped; call once).
  virtual std::optional<ExitStatus> Poll(int pid) = 0;
  // Sends `sig` to the process group of `pid`.
  virtual void Signal(int pid, int sig) = 0;
};

// The real launcher (fork/exec). One per runtime is enough; it shares the atexit registry.
std::unique_ptr<ProcessLauncher> MakeSystemLauncher();

// Runs `spec` to completion or until `timeout` (then SIGKILLs the group); answers the exit
// status, or nullopt + *error when it could not start or timed out.
std::optional<ExitStatus> RunWithTimeout(ProcessLauncher& launcher, const LaunchSpec& spec,
                                         std::chrono::milliseconds timeout, std::string* error);

}  // namespace zkop::devkube::pods
