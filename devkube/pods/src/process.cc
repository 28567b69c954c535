#include "zkop/devkube/pods/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

namespace zkop::devkube::pods {
namespace {

// Process groups started and not yet reaped. Two last-resort cleanups use it:
//  - an atexit handler SIGKILLs them when the process exits without stopping its runtime;
//  - a reaper process (forked once, in its own process group, holding only one end of a
//    socket pair) learns every group as it starts and ends, and SIGKILLs the ones left when
//    the socket closes — that is, when this process dies in any way, SIGKILL included. It
//    catches what PR_SET_PDEATHSIG cannot: grandchildren.
std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::set<int>& Registry() {
  static std::set<int>* groups = new std::set<int>();  // outlives static destructors
  return *groups;
}
void KillRegistered() {
  std::lock_guard lock(RegistryMutex());
  for (int pgid : Registry()) ::kill(-pgid, SIGKILL);
}

// The reaper's loop: only async-signal-safe calls (it is a fork of a threaded process).
[[noreturn]] void ReaperMain(int fd) {
  constexpr int kMax = 8192;
  static int groups[kMax];
  int count = 0;
  int32_t msg;
  while (true) {
    ssize_t n = ::read(fd, &msg, sizeof msg);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof msg)) break;  // EOF: the owner is gone
    if (msg > 0 && count < kMax) {
      groups[count++] = msg;
    } else if (msg < 0) {
      for (int i = 0; i < count; ++i) {
        if (groups[i] == -msg) {
          groups[i] = groups[--count];
          break;
        }
      }
    }
  }
  for (int i = 0; i < count; ++i) ::kill(-groups[i], SIGKILL);
  ::_exit(0);
}

// The socket to the reaper (-1 when it could not be started). Called with RegistryMutex held.
int ReaperSocket() {
  static int sock = [] {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);  // a terminal's Ctrl-C to the owner's group does not reach it
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGINT, SIG_IGN);
      ::signal(SIGTERM, SIG_IGN);
      ::signal(SIGHUP, SIG_IGN);
      // Keep nothing of the owner's open files (sockets, listeners) but the socket.
      ::dup2(fds[1], 3);
      ::close_range(4, ~0U, 0);
      ReaperMain(3);
    }
    ::close(fds[1]);
    if (pid < 0) {
      ::close(fds[0]);
      return -1;
    }
    return fds[0];
  }();
  return sock;
}

void Track(int pgid, bool started) {
  const int32_t msg = started ? pgid : -pgid;
  const int sock = ReaperSocket();
  if (sock >= 0) (void)::send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
  if (started) {
    Registry().insert(pgid);
  } else {
    Registry().erase(pgid);
  }
}

void EnsureAtExit() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(&KillRegistered); });
}

std::string FindProgram(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string candidate = path.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

class SystemLauncher : public ProcessLauncher {
 public:
  std::optional<int> Start(const LaunchSpec& spec, std::string* error) override {
    if (spec.argv.empty()) {
      *error = "no command to run";
      return std::nullopt;
    }
    EnsureAtExit();
    // Everything the child needs is prepared before fork: after it only async-signal-safe
    // calls are allowed.
    const std::string program = FindProgram(spec.argv[0], spec.env);
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string log = spec.log_path.empty() ? "/dev/null" : spec.log_path;
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) {
      *error = "cannot open log file " + log + ": " + std::strerror(errno);
      return std::nullopt;
    }
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int status_pipe[2];
    if (in < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
      *error = std::string("cannot prepare the process: ") + std::strerror(errno);
      ::close(out);
      if (in >= 0) ::close(in);
      return std::nullopt;
    }
    const pid_t parent = ::getpid();
    std::unique_lock lock(RegistryMutex());
    ReaperSocket();  // forked before the child, never by it
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      // A fresh signal state: nothing blocked or ignored that the runtime's process had.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
        ::signal(sig, SIG_DFL);
      }
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
        int err = -errno;  // negative: chdir failed
        (void)!::write(status_pipe[1], &err, sizeof err);
        ::_exit(127);
      }
      ::execve(program.c_str(), argv.data(), envp.data());
      int err = errno;
      (void)!::write(status_pipe[1], &err, sizeof err);
      ::_exit(127);
    }
    const int fork_errno = errno;
    if (pid > 0) {
      ::setpgid(pid, pid);  // also in the parent: no window where signals miss the group
      Track(pid, true);
    }
    lock.unlock();
    ::close(in);
    ::close(out);
    ::close(status_pipe[1]);
    if (pid < 0) {
      ::close(status_pipe[0]);
      *error = std::string("fork: ") + std::strerror(fork_errno);
      return std::nullopt;
    }
    int child_errno = 0;
    ssize_t n;
    do {
      n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(status_pipe[0]);
    if (n == sizeof child_errno) {
      int status;
      ::waitpid(pid, &status, 0);
      Forget(pid);
      *error = child_errno < 0 ? "chdir " + spec.cwd + ": " + std::strerror(-child_errno)
                               : "exec " + program + ": " + std::strerror(child_errno);
      return std::nullopt;
    }
    return pid;
  }

  std::optional<ExitStatus> Poll(int pid) override {
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return std::nullopt;
    ExitStatus exit;
    if (r < 0) {
      exit.exit_code = 255;  // not our child any more (reaped elsewhere): report it gone
    } else if (WIFSIGNALED(status)) {
      exit.signal = WTERMSIG(status);
      exit.exit_code = 128 + exit.signal;
    } else {
      exit.exit_code = WEXITSTATUS(status);
    }
    // The leader is gone; anything left in its group goes too.
    ::kill(-pid, SIGKILL);
    Forget(pid);
    return exit;
  }

  void Signal(int pid, int sig) override { ::kill(-pid, sig); }

 private:
  static void Forget(int pid) {
    std::lock_guard lock(RegistryMutex());
    Track(pid, false);
  }
};

}  // namespace

std::unique_ptr<ProcessLauncher> MakeSystemLauncher() { return std::make_unique<SystemLauncher>(); }

std::optional<ExitStatus> RunWithTimeout(ProcessLauncher& launcher, const LaunchSpec& spec,
                                         std::chrono::milliseconds timeout, std::string* error) {
  auto pid = launcher.Start(spec, error);
  if (!pid) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto sleep = std::chrono::milliseconds(2);
  while (true) {
    if (auto exit = launcher.Poll(*pid)) return exit;
    if (std::chrono::steady_clock::now() >= deadline) {
      launcher.Signal(*pid, SIGKILL);
      while (!launcher.Poll(*pid)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      *error = "timed out after " + std::to_string(timeout.count()) + "ms";
      return std::nullopt;
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace zkop::devkube::pods
