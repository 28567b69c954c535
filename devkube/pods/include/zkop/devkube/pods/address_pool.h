// Pod addresses from a range of 127.0.0.0/8. An address is free when no other holder on this
// machine has leased it (an flock(2)ed file per address in a lock directory shared by every
// runtime, released by the kernel when its process dies) and nothing listens on it (no TCP
// socket bound to it in /proc/net/tcp). A Pod name gets the address it held last when that is
// still free, so a recreated member keeps its address (stale DNS caches stay right).
//
// Contract: thread-safe. Acquire never throws; the constructor throws std::invalid_argument
// for a range that is not a CIDR inside 127.0.0.0/8, or a lock directory it cannot create.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace zkop::devkube::pods {

class AddressPool {
 public:
  // Reports whether something already uses `address`; the default reads /proc/net/tcp.
  using InUse = std::function<bool(const std::string& address)>;

  AddressPool(const std::string& cidr, std::string lock_dir, InUse in_use = nullptr);
  ~AddressPool();  // releases every lease
  AddressPool(const AddressPool&) = delete;
  AddressPool& operator=(const AddressPool&) = delete;

  // Leases an address for `key` (e.g. "ns/name"); nullopt when the range is exhausted.
  std::optional<std::string> Acquire(const std::string& key);
  void Release(const std::string& address);

  // True when some TCP socket on this machine is bound to `address` (any port).
  static bool TcpBound(const std::string& address);

 private:
  bool TryLease(uint32_t address);

  const std::string lock_dir_;
  InUse in_use_;
  uint32_t first_ = 0;  // host order, network and broadcast addresses excluded
  uint32_t count_ = 0;
  std::mutex mu_;
  uint32_t next_ = 0;                     // round-robin cursor (offset from first_)
  std::map<uint32_t, int> leases_;        // address -> locked fd
  std::map<std::string, uint32_t> last_;  // key -> address it held last
};

std::string FormatIPv4(uint32_t host_order);
std::optional<uint32_t> ParseIPv4(const std::string& text);

}  // namespace zkop::devkube::pods
