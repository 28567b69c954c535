// Polling helpers for integration tests.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace zkop::zk::testing {

// Polls `pred` every 20 ms until it holds or `timeout` passes; returns its last value.
inline bool Eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace zkop::zk::testing
