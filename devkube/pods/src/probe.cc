#include "zkop/devkube/pods/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zkop::devkube::pods {
namespace {

using web::json::value;
using Clock = std::chrono::steady_clock;

std::string Str(const value& v, const std::string& key) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_string()) return "";
  return v.at(key).as_string();
}

int Int(const value& v, const std::string& key, int def) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_integer()) return def;
  return v.at(key).as_integer();
}

// A probe port: a number, or the name of one of the container's ports.
bool ResolvePort(const value& port, const value& container, int* out) {
  if (port.is_integer()) {
    *out = port.as_integer();
    return *out > 0 && *out < 65536;
  }
  if (!port.is_string()) return false;
  const std::string name = port.as_string();
  if (container.has_field("ports") && container.at("ports").is_array()) {
    for (const auto& p : container.at("ports").as_array()) {
      if (Str(p, "name") == name) {
        *out = Int(p, "containerPort", 0);
        return *out > 0;
      }
    }
  }
  return false;
}

// A connected TCP socket to host:port within `deadline`, or -1 and *error.
int Dial(const std::string& host, int port, Clock::time_point deadline, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    *error = "resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  const std::string where = host + ":" + std::to_string(port);
  if (rc != 0 && errno == EINPROGRESS) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, std::max<int>(0, static_cast<int>(left.count())));
    if (rc == 0) {
      *error = "dial tcp " + where + ": i/o timeout";
      ::close(fd);
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    errno = err;
    rc = err == 0 ? 0 : -1;
  }
  if (rc != 0) {
    *error = "dial tcp " + where + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

ProbeOutcome HttpGet(const ProbeSpec& spec, const std::string& host, Clock::time_point deadline) {
  ProbeOutcome outcome;
  int fd = Dial(host, spec.port, deadline, &outcome.message);
  if (fd < 0) return outcome;
  std::string request =
      "GET " + spec.path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(spec.port) +
      "\r\nUser-Agent: kube-probe/devkube\r\nAccept: */*\r\nConnection: close\r\n";
  for (const auto& [k, v] : spec.headers) request += k + ": " + v + "\r\n";
  request += "\r\n";
  std::string response;
  size_t sent = 0;
  while (Clock::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, static_cast<short>(sent < request.size() ? POLLOUT : POLLIN), 0};
    if (::poll(&p, 1, std::max<int>(1, static_cast<int>(left.count()))) <= 0) continue;
    if (sent < request.size()) {
      ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) break;
      if (n > 0) sent += static_cast<size_t>(n);
      continue;
    }
    char buf[1024];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) continue;
    if (n > 0) response.append(buf, static_cast<size_t>(n));
    if (n <= 0 || response.find("\r\n") != std::string::npos) break;
  }
  ::close(fd);
  // "HTTP/1.1 200 OK": 200..399 is success, as for the kubelet.
  const size_t sp = response.find(' ');
  if (response.rfind("HTTP/", 0) != 0 || sp == std::string::npos) {
    outcome.message = response.empty() ? "Get " + spec.path + ": no response before the timeout"
                                       : "Get " + spec.path + ": malformed HTTP response";
    return outcome;
  }
  const int code = std::atoi(response.c_str() + sp + 1);
  outcome.success = code >= 200 && code < 400;
  if (!outcome.success)
    outcome.message = "HTTP probe failed with statuscode: " + std::to_string(code);
  return outcome;
}

class SystemProber : public Prober {
 public:
  explicit SystemProber(ProcessLauncher& launcher) : launcher_(launcher) {}

  ProbeOutcome Run(const ProbeSpec& spec, const ProbeTarget& target) override {
    const auto timeout = std::chrono::seconds(spec.timeout_seconds);
    const auto deadline = Clock::now() + timeout;
    const std::string host = spec.host.empty() ? target.pod_ip : spec.host;
    ProbeOutcome outcome;
    switch (spec.kind) {
      case ProbeSpec::Kind::kExec: {
        LaunchSpec launch = target.exec_base;
        launch.argv = spec.command;
        std::string error;
        auto exit = RunWithTimeout(launcher_, launch, timeout, &error);
        if (!exit) {
          outcome.message = "exec probe: " + error;
        } else {
          outcome.success = exit->exit_code == 0;
          if (!outcome.success) {
            outcome.message = "command exited with " + std::to_string(exit->exit_code);
          }
        }
        return outcome;
      }
      case ProbeSpec::Kind::kTcp: {
        int fd = Dial(host, spec.port, deadline, &outcome.message);
        if (fd >= 0) {
          ::close(fd);
          outcome.success = true;
        }
        return outcome;
      }
      case ProbeSpec::Kind::kHttp:
        return HttpGet(spec, host, deadline);
    }
    return outcome;
  }

 private:
  ProcessLauncher& launcher_;
};

}  // namespace

std::unique_ptr<Prober> MakeSystemProber(ProcessLauncher& launcher) {
  return std::make_unique<SystemProber>(launcher);
}

std::optional<ProbeSpec> ParseProbe(const value& probe, const value& container,
                                    const std::string& field, std::string* error) {
  ProbeSpec spec;
  spec.initial_delay_seconds = std::max(0, Int(probe, "initialDelaySeconds", 0));
  spec.period_seconds = std::max(1, Int(probe, "periodSeconds", 10));
  spec.timeout_seconds = std::max(1, Int(probe, "timeoutSeconds", 1));
  spec.success_threshold = std::max(1, Int(probe, "successThreshold", 1));
  spec.failure_threshold = std::max(1, Int(probe, "failureThreshold", 3));
  if (probe.has_field("exec")) {
    spec.kind = ProbeSpec::Kind::kExec;
    const value& exec = probe.at("exec");
    if (exec.has_field("command") && exec.at("command").is_array()) {
      for (const auto& c : exec.at("command").as_array()) {
        if (c.is_string()) spec.command.push_back(c.as_string());
      }
    }
    if (spec.command.empty()) {
      *error = field + ".exec.command: expected a non-empty list of strings";
      return std::nullopt;
    }
    return spec;
  }
  const bool http = probe.has_field("httpGet");
  if (!http && !probe.has_field("tcpSocket")) {
    *error = field +
             ": expected one of exec, tcpSocket, httpGet (grpc is not supported by the "
             "devkube pod runtime)";
    return std::nullopt;
  }
  const value& action = probe.at(http ? "httpGet" : "tcpSocket");
  const std::string sub = field + (http ? ".httpGet" : ".tcpSocket");
  spec.kind = http ? ProbeSpec::Kind::kHttp : ProbeSpec::Kind::kTcp;
  spec.host = Str(action, "host");
  if (!action.has_field("port") || !ResolvePort(action.at("port"), container, &spec.port)) {
    *error = sub + ".port: expected a port number or the name of one of the container's ports";
    return std::nullopt;
  }
  if (http) {
    if (!Str(action, "path").empty()) spec.path = Str(action, "path");
    if (!Str(action, "scheme").empty()) spec.scheme = Str(action, "scheme");
    if (spec.scheme != "HTTP") {
      *error = sub + ".scheme: only HTTP is supported by the devkube pod runtime";
      return std::nullopt;
    }
    if (action.has_field("httpHeaders") && action.at("httpHeaders").is_array()) {
      for (const auto& h : action.at("httpHeaders").as_array()) {
        spec.headers.emplace_back(Str(h, "name"), Str(h, "value"));
      }
    }
  }
  return spec;
}

bool ProbeTracker::Record(bool success, Clock::time_point now) {
  next_ = now + std::chrono::seconds(spec_.period_seconds);
  const bool before = ok_;
  if (success) {
    failures_ = 0;
    if (++successes_ >= spec_.success_threshold) ok_ = true;
  } else {
    successes_ = 0;
    if (++failures_ >= spec_.failure_threshold) ok_ = false;
  }
  return ok_ != before;
}

}  // namespace zkop::devkube::pods
