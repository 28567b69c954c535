#include "zkop/zk/four_letter.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "zkop/config/unique_fd.h"

namespace zkop::zk {
namespace {

using Clock = std::chrono::steady_clock;

bool SplitHostPort(std::string_view hp, std::string* host, std::string* port) {
  size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= hp.size()) return false;
  std::string_view h = hp.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return false;
  *host = std::string(h);
  *port = std::string(hp.substr(colon + 1));
  return true;
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timeout, -1 error (errno set).
int WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, RemainingMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ToInt(std::string_view s, int base, int64_t* out) {
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

FourLetterResult FourLetterWord(std::string_view host_port, std::string_view word,
                                std::chrono::milliseconds timeout) {
  FourLetterResult result;
  const std::string where(host_port);
  auto fail = [&](Error e, const std::string& what) {
    result.status = Status(e, where + ": " + what);
    return result;
  };
  std::string host, port;
  if (!SplitHostPort(host_port, &host, &port)) {
    return fail(Error::kBadArguments, "expected host:port");
  }
  Clock::time_point deadline = Clock::now() + timeout;

  // An IP literal (what the operator asks: Pod IPs) is used as it is; only a name goes through
  // the resolver, which cannot be bounded by `timeout` and, under a preloaded NSS shim such as
  // the local pod runtime's nss_wrapper, is not safe to call from many threads at once.
  int64_t port_number = 0;
  if (!ToInt(port, 10, &port_number) || port_number < 1 || port_number > 65535) {
    return fail(Error::kBadArguments, "expected a port number, found \"" + port + "\"");
  }
  sockaddr_storage address{};
  socklen_t address_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port_number));
    address_len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port_number));
    address_len = sizeof(sockaddr_in6);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addrs = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &addrs); rc != 0) {
      return fail(Error::kIoError, std::string("cannot resolve: ") + ::gai_strerror(rc));
    }
    address_len = std::min<socklen_t>(addrs->ai_addrlen, sizeof address);
    std::memcpy(&address, addrs->ai_addr, address_len);
    ::freeaddrinfo(addrs);
  }
  config::UniqueFd fd(::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int connect_rc =
      fd.get() < 0 ? -1 : ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), address_len);
  int connect_errno = errno;
  if (fd.get() < 0) return fail(Error::kIoError, std::string("socket: ") + std::strerror(errno));
  if (connect_rc != 0) {
    if (connect_errno != EINPROGRESS) {
      return fail(Error::kIoError, std::string("connect: ") + std::strerror(connect_errno));
    }
    int ready = WaitFor(fd.get(), POLLOUT, deadline);
    if (ready == 0) return fail(Error::kOperationTimeout, "connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (ready < 0 || err != 0) {
      return fail(Error::kIoError, std::string("connect: ") + std::strerror(err ? err : errno));
    }
  }
  std::string_view pending = word;
  while (!pending.empty()) {
    ssize_t n = ::send(fd.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      pending.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd.get(), POLLOUT, deadline) <= 0) {
        return fail(Error::kOperationTimeout, "send timed out");
      }
      continue;
    }
    return fail(Error::kIoError, std::string("send: ") + std::strerror(errno));
  }
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      result.text.append(buf, static_cast<size_t>(n));
      if (result.text.size() > (1u << 20)) return fail(Error::kParseError, "answer over 1 MiB");
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int ready = WaitFor(fd.get(), POLLIN, deadline);
      if (ready == 0) return fail(Error::kOperationTimeout, "no complete answer in time");
      if (ready < 0) return fail(Error::kIoError, std::string("poll: ") + std::strerror(errno));
      continue;
    }
    // A reset after a complete answer is normal for some words.
    if (errno == ECONNRESET && !result.text.empty()) break;
    return fail(Error::kIoError, std::string("recv: ") + std::strerror(errno));
  }
  if (result.text.find("is not executed because it is not in the whitelist") != std::string::npos) {
    return fail(Error::kNoAuth, std::string(Trim(result.text)));
  }
  return result;
}

bool IsServing(std::string_view host_port, std::chrono::milliseconds timeout) {
  FourLetterResult r = FourLetterWord(host_port, "ruok", timeout);
  return r.status.ok() && r.text == "imok";
}

std::string_view ServerModeName(ServerMode m) {
  switch (m) {
    case ServerMode::kLeader:
      return "leader";
    case ServerMode::kFollower:
      return "follower";
    case ServerMode::kObserver:
      return "observer";
    case ServerMode::kStandalone:
      return "standalone";
    case ServerMode::kReadOnly:
      return "read-only";
    case ServerMode::kUnknown:
      return "unknown";
  }
  return "unknown";
}

ServerMode ParseServerMode(std::string_view s) {
  s = Trim(s);
  if (s == "leader") return ServerMode::kLeader;
  if (s == "follower") return ServerMode::kFollower;
  if (s == "observer") return ServerMode::kObserver;
  if (s == "standalone") return ServerMode::kStandalone;
  if (s == "read-only") return ServerMode::kReadOnly;
  return ServerMode::kUnknown;
}

Status ParseSrvr(std::string_view text, ServerInfo* out) {
  ServerInfo info;
  bool have_mode = false;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (key == "Mode") {
      info.mode = ParseServerMode(value);
      have_mode = true;
    } else if (key == "Zookeeper version") {
      info.version = std::string(value);
    } else if (key == "Zxid") {
      if (!ToInt(value, 16, &info.zxid)) {
        return Status(Error::kParseError, "srvr: Zxid is not hex: \"" + std::string(value) + "\"");
      }
    } else if (key == "Connections") {
      ToInt(value, 10, &info.connections);
    } else if (key == "Outstanding") {
      ToInt(value, 10, &info.outstanding);
    } else if (key == "Node count") {
      ToInt(value, 10, &info.node_count);
    }
  }
  if (!have_mode) {
    std::string_view first = Trim(text.substr(0, text.find('\n')));
    return Status(Error::kParseError,
                  "srvr: no \"Mode:\" line (server said \"" + std::string(first) + "\")");
  }
  *out = std::move(info);
  return Status();
}

std::map<std::string, std::string> ParseMntr(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    out[std::string(Trim(line.substr(0, tab)))] = std::string(Trim(line.substr(tab + 1)));
  }
  return out;
}

Status QueryServer(std::string_view host_port, std::chrono::milliseconds timeout, ServerInfo* out) {
  FourLetterResult r = FourLetterWord(host_port, "srvr", timeout);
  if (!r.status.ok()) return r.status;
  Status s = ParseSrvr(r.text, out);
  if (!s.ok()) return Status(s.code(), std::string(host_port) + ": " + s.detail());
  return s;
}

}  // namespace zkop::zk
