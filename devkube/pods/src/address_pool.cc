#include "zkop/devkube/pods/address_pool.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace zkop::devkube::pods {

std::string FormatIPv4(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

std::optional<uint32_t> ParseIPv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

AddressPool::AddressPool(const std::string& cidr, std::string lock_dir, InUse in_use)
    : lock_dir_(std::move(lock_dir)), in_use_(in_use ? std::move(in_use) : InUse(&TcpBound)) {
  const size_t slash = cidr.find('/');
  const auto base = ParseIPv4(cidr.substr(0, slash));
  int bits = -1;
  if (slash != std::string::npos) {
    try {
      bits = std::stoi(cidr.substr(slash + 1));
    } catch (const std::exception&) {
      bits = -1;
    }
  }
  if (!base || bits < 8 || bits > 30 || (*base >> 24) != 127) {
    throw std::invalid_argument("address range \"" + cidr +
                                "\": expected a CIDR inside 127.0.0.0/8 with a prefix of 8..30 "
                                "bits, e.g. 127.42.0.0/16");
  }
  const uint32_t mask = bits == 32 ? ~0u : ~((1u << (32 - bits)) - 1);
  first_ = (*base & mask) + 1;
  count_ = (1u << (32 - bits)) - 2;
  if (::mkdir(lock_dir_.c_str(), 01777) != 0 && errno != EEXIST) {
    throw std::invalid_argument("address lock directory " + lock_dir_ + ": " +
                                std::strerror(errno));
  }
  // Runtimes started at the same time begin at different places of the range.
  next_ = std::random_device{}() % count_;
}

AddressPool::~AddressPool() {
  for (auto& [address, fd] : leases_) ::close(fd);
}

bool AddressPool::TryLease(uint32_t address) {
  if (leases_.count(address)) return false;
  const std::string ip = FormatIPv4(address);
  const std::string path = lock_dir_ + "/" + ip + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  if (in_use_(ip)) {
    ::close(fd);
    return false;
  }
  leases_[address] = fd;
  return true;
}

std::optional<std::string> AddressPool::Acquire(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = last_.find(key); it != last_.end() && TryLease(it->second)) {
    return FormatIPv4(it->second);
  }
  for (uint32_t i = 0; i < count_; ++i) {
    const uint32_t address = first_ + (next_ + i) % count_;
    if (TryLease(address)) {
      next_ = (next_ + i + 1) % count_;
      last_[key] = address;
      return FormatIPv4(address);
    }
  }
  return std::nullopt;
}

void AddressPool::Release(const std::string& address) {
  const auto parsed = ParseIPv4(address);
  if (!parsed) return;
  std::lock_guard lock(mu_);
  auto it = leases_.find(*parsed);
  if (it == leases_.end()) return;
  ::close(it->second);
  leases_.erase(it);
}

bool AddressPool::TcpBound(const std::string& address) {
  const auto parsed = ParseIPv4(address);
  if (!parsed) return false;
  // /proc/net/tcp prints the address as the raw 32-bit value in host byte order.
  char want[16];
  std::snprintf(want, sizeof want, "%08X", htonl(*parsed));
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local;
    fields >> slot >> local;
    if (local.compare(0, 8, want) == 0) return true;
  }
  return false;
}

}  // namespace zkop::devkube::pods
