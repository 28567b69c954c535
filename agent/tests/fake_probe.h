// A PortProbe whose listeners and processes the test sets.
#pragma once

#include <map>

#include "zkop/agent/probe.h"

namespace zkop::agent::testing {

class FakeProbe : public PortProbe {
 public:
  void Listen(int port, int pid = 0, std::string address = "0.0.0.0") {
    table.by_port[port].push_back(Listener{std::move(address), port, 0, pid});
  }
  void Close(int port) { table.by_port.erase(port); }
  void Process(int pid, std::string cmdline, std::string cwd = "") {
    processes[pid] = ProcessInfo{pid, std::move(cmdline), std::move(cwd)};
  }
  ListenTable Probe() override { return table; }
  std::optional<ProcessInfo> Describe(int pid) override {
    auto it = processes.find(pid);
    if (it == processes.end()) return std::nullopt;
    return it->second;
  }

  ListenTable table;
  std::map<int, ProcessInfo> processes;
};

}  // namespace zkop::agent::testing
