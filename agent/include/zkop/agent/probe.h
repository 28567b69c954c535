// Which TCP ports listen in this network namespace, and which process holds them.
//
// ProcProbe reads <proc>/net/tcp and <proc>/net/tcp6 (state 0A = LISTEN) once per call and
// maps socket inodes to pids through <proc>/<pid>/fd/* where /proc lets it (same pid
// namespace and enough privilege); otherwise pid is 0 ("not visible"). The inode -> pid
// map is cached and refreshed only when a listening inode is not in it, so a steady state
// costs two file reads per probe.
//
// Threading: a probe is used by one thread at a time. Never throws: unreadable files give
// an empty table and an error string.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zkop::agent {

struct Listener {
  std::string address;  // "0.0.0.0", "127.0.0.1", "::"
  int port = 0;
  uint64_t inode = 0;
  int pid = 0;  // 0 when not visible
};

struct ListenTable {
  std::map<int, std::vector<Listener>> by_port;
  std::string error;  // why the table may be incomplete ("" when fine)
  bool Listening(int port) const { return by_port.count(port) > 0; }
};

struct ProcessInfo {
  int pid = 0;
  std::string cmdline;  // arguments joined by spaces
  std::string cwd;      // "" when not visible
};

class PortProbe {
 public:
  virtual ~PortProbe() = default;
  virtual ListenTable Probe() = 0;
  // Details of a pid seen in a Listener; nullopt when it is gone or not visible.
  virtual std::optional<ProcessInfo> Describe(int pid) = 0;
};

// The real probe. `proc_root` is "/proc" except in tests (a fake tree of the same shape).
class ProcProbe : public PortProbe {
 public:
  explicit ProcProbe(std::string proc_root = "/proc");
  ListenTable Probe() override;
  std::optional<ProcessInfo> Describe(int pid) override;

  // Parses the text of /proc/net/tcp or tcp6; appends LISTEN sockets. Returns false on a
  // malformed file.
  static bool ParseNetTcp(const std::string& text, bool v6, std::vector<Listener>* out);

 private:
  void RefreshInodes();

  std::string root_;
  std::unordered_map<uint64_t, int> inode_pid_;
  std::unordered_set<uint64_t> unknown_;  // listening inodes no visible process holds
};

}  // namespace zkop::agent
