// ListenerLog: what a Client's state and session listeners reported, for assertions.
// Declare it before the Client: the listeners write to it until the Client is destroyed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

#include "zkop/zk/client.h"

namespace zkop::zk {

struct ListenerLog {
  std::mutex mu;
  std::vector<State> states;  // every state change, in order
  int sessions = 0;           // session listener calls

  void Attach(Client& c) {
    c.AddStateListener([this](State s) {
      std::lock_guard<std::mutex> lock(mu);
      states.push_back(s);
    });
    c.AddSessionListener([this](int64_t) {
      std::lock_guard<std::mutex> lock(mu);
      ++sessions;
    });
  }
  bool Saw(State s) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(states.begin(), states.end(), s) != states.end();
  }
  int Sessions() {
    std::lock_guard<std::mutex> lock(mu);
    return sessions;
  }
  void ClearStates() {
    std::lock_guard<std::mutex> lock(mu);
    states.clear();
  }
};

}  // namespace zkop::zk
