#include "zkop/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace zkop::testing {
namespace {

// Last-resort cleanup: process groups still alive, usable from a signal handler.
constexpr size_t kMaxGroups = 512;
std::array<std::atomic<pid_t>, kMaxGroups> g_groups{};

void KillAllGroups() {
  for (auto& g : g_groups) {
    pid_t pgid = g.exchange(0);
    if (pgid > 0) ::kill(-pgid, SIGKILL);
  }
}

void RegisterGroup(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t expected = 0;
    if (g.compare_exchange_strong(expected, pgid)) return;
  }
}

void UnregisterGroup(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t expected = pgid;
    if (g.compare_exchange_strong(expected, 0)) return;
  }
}

void FatalSignal(int sig) {
  KillAllGroups();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void InstallCleanupOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(&KillAllGroups);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS}) {
      struct sigaction current {};
      if (::sigaction(sig, nullptr, &current) != 0) continue;
      if (current.sa_handler != SIG_DFL || (current.sa_flags & SA_SIGINFO)) continue;
      struct sigaction sa {};
      sa.sa_handler = &FatalSignal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESETHAND;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

std::vector<std::string> MergedEnv(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    vars[kv.substr(0, kv.find('='))] = kv;
  }
  for (const std::string& kv : extra) vars[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> out;
  for (auto& [k, kv] : vars) out.push_back(kv);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

Subprocess::Subprocess(SubprocessOptions options) : options_(std::move(options)) {
  if (options_.argv.empty()) throw std::runtime_error("Subprocess: empty argv");
  InstallCleanupOnce();
  std::vector<std::string> argv_copy = options_.argv;
  std::vector<std::string> env = MergedEnv(options_.env);
  std::vector<char*> argv = CStrings(argv_copy);
  std::vector<char*> envp = CStrings(env);
  const std::string out_path = options_.output_file.empty() ? "/dev/null" : options_.output_file;

  // exec failures travel back through a close-on-exec pipe.
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    throw std::runtime_error("Subprocess: pipe: " + std::string(std::strerror(errno)));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    throw std::runtime_error("cannot start " + options_.argv[0] +
                             ": fork: " + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGPIPE}) {
      ::signal(sig, SIG_DFL);
    }
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) {
      int err = errno;
      (void)!::write(pipefd[1], &err, sizeof err);
      ::_exit(127);
    }
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    if (!options_.cwd.empty() && ::chdir(options_.cwd.c_str()) != 0) {
      int err = errno;
      (void)!::write(pipefd[1], &err, sizeof err);
      ::_exit(127);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    int err = errno;
    (void)!::write(pipefd[1], &err, sizeof err);
    ::_exit(127);
  }
  // Parent: the group exists once either side called setpgid.
  ::setpgid(pid, pid);
  RegisterGroup(pid);
  pid_ = pid;
  ::close(pipefd[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(pipefd[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(pipefd[0]);
  if (n == sizeof child_errno) {
    Kill();
    throw std::runtime_error("cannot start " + options_.argv[0] + ": " +
                             std::strerror(child_errno) + " (output: " + out_path + ")");
  }
}

namespace {
SubprocessOptions ArgvOnly(std::vector<std::string> argv, std::string output_file) {
  SubprocessOptions o;
  o.argv = std::move(argv);
  o.output_file = std::move(output_file);
  return o;
}
}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv, std::string output_file)
    : Subprocess(ArgvOnly(std::move(argv), std::move(output_file))) {}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : options_(std::move(other.options_)), pid_(other.pid_), exit_status_(other.exit_status_) {
  other.pid_ = -1;
}

Subprocess::~Subprocess() { Kill(); }

void Subprocess::Reaped(int wait_status) {
  if (WIFEXITED(wait_status)) {
    exit_status_ = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit_status_ = -WTERMSIG(wait_status);
  } else {
    return;  // stopped/continued: still running
  }
  // Kill whatever the child left in its group before forgetting the group.
  ::kill(-pid_, SIGKILL);
  UnregisterGroup(pid_);
}

bool Subprocess::Running() {
  if (pid_ <= 0 || exit_status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) Reaped(status);
  if (r < 0 && errno == ECHILD) {
    exit_status_ = -SIGKILL;
    UnregisterGroup(pid_);
  }
  return !exit_status_;
}

std::optional<int> Subprocess::ExitStatus() {
  Running();
  return exit_status_;
}

bool Subprocess::Signal(int sig) {
  if (!Running()) return false;
  return ::kill(-pid_, sig) == 0;
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int Subprocess::Terminate(std::chrono::milliseconds grace) {
  if (Running()) {
    ::kill(-pid_, SIGCONT);  // a paused process cannot handle SIGTERM
    ::kill(-pid_, SIGTERM);
    if (!Wait(grace)) Kill();
  }
  return exit_status_.value_or(-SIGKILL);
}

void Subprocess::Kill() {
  if (pid_ <= 0 || exit_status_) return;
  ::kill(-pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    Reaped(status);
  } else {
    exit_status_ = -SIGKILL;
    UnregisterGroup(pid_);
  }
}

}  // namespace zkop::testing
