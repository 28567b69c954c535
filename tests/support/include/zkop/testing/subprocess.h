// Subprocess: a child process that cannot outlive its owner.
//
//   zkop::testing::SubprocessOptions o;
//   o.argv = {"/usr/bin/java", "-version"};
//   o.env = {"JAVA_TOOL_OPTIONS=-Xmx64m"};
//   o.output_file = dir.Path("java.log");
//   zkop::testing::Subprocess p(o);
//   p.Wait(std::chrono::seconds(5));
//   zkop::testing::Subprocess sleeper({"/bin/sleep", "60"});   // argv only
//
// Contract:
//  - The child runs in its own process group (setpgid), so Signal/Kill reach everything it
//    starts, and a terminal's Ctrl-C does not reach it directly.
//  - It cannot outlive the owner: the destructor SIGKILLs the group and reaps the child;
//    the child has PR_SET_PDEATHSIG=SIGKILL (it dies when the spawning *thread* exits, so
//    spawn from a long-lived thread, e.g. the test's main thread); and a process-wide
//    last-resort cleanup SIGKILLs every live group at exit() and on SIGINT, SIGTERM, SIGHUP,
//    SIGABRT, SIGSEGV and SIGBUS (handlers are only installed where the disposition is
//    still the default, then the signal is re-raised).
//  - stdout and stderr go to `output_file` (appended; /dev/null when empty); stdin is
//    /dev/null.
//  - The environment is the parent's plus `env` ("KEY=VALUE", overriding).
//  - Construction throws std::runtime_error naming argv[0] when the program cannot be
//    started (fork or exec failure) — a setup error.
//  - Not thread-safe: one owner thread at a time. Movable, not copyable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace zkop::testing {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is the program (absolute path, or found in PATH)
  std::vector<std::string> env;   // "KEY=VALUE" additions/overrides
  std::string output_file;        // stdout+stderr; empty: /dev/null
  std::string cwd;                // empty: inherit
};

class Subprocess {
 public:
  explicit Subprocess(SubprocessOptions options);
  explicit Subprocess(std::vector<std::string> argv, std::string output_file = "");
  ~Subprocess();  // Kill()
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const SubprocessOptions& options() const { return options_; }

  // Reaps the child if it exited (no zombie is ever "running").
  bool Running();
  // Exit code, or -signal when killed by a signal; nullopt while running.
  std::optional<int> ExitStatus();
  // Sends `sig` to the child's process group; false when it already exited.
  bool Signal(int sig);
  // Waits up to `timeout` for the child to exit; its ExitStatus() or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; always reaps. Returns the exit status.
  int Terminate(std::chrono::milliseconds grace);
  // SIGKILL to the group and reap. Idempotent.
  void Kill();

 private:
  void Reaped(int wait_status);

  SubprocessOptions options_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

}  // namespace zkop::testing
