#include "zkop/testing/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

namespace zkop::testing {
namespace {

std::mutex g_mu;
std::set<std::string> g_handed_out;

// Binds ip:port (SO_REUSEADDR); returns the bound fd or -1.
int BindFd(const std::string& ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool CanBind(const std::string& ip, int port) {
  int fd = BindFd(ip, port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::string PickLoopbackAddress(const std::vector<int>& ports, int attempts) {
  std::random_device rd;
  std::mt19937 rng(rd() ^ static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> a(1, 254), bc(0, 255), d(1, 254);
  for (int i = 0; i < attempts; ++i) {
    std::string ip = "127." + std::to_string(a(rng)) + "." + std::to_string(bc(rng)) + "." +
                     std::to_string(d(rng));
    {
      std::lock_guard<std::mutex> lock(g_mu);
      if (g_handed_out.count(ip)) continue;
    }
    bool free = true;
    for (int port : ports) free = free && CanBind(ip, port);
    if (!free) continue;
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_handed_out.insert(ip).second) return ip;
  }
  throw std::runtime_error("no free loopback address found after " + std::to_string(attempts) +
                           " tries (is 127.0.0.0/8 routed to lo?)");
}

int PickFreePort(const std::string& ip) {
  int fd = BindFd(ip, 0);
  if (fd < 0) throw std::runtime_error("cannot bind a free port on " + ip);
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace zkop::testing
