// Pending: the answers of asynchronous registry operations, applied on the thread that
// waits for them (used by the Syncer and the MetadataPublisher). Not an API.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace zkop::agent {

using Clock = std::chrono::steady_clock;

// Async completions are queued here by whatever thread answers and applied on the thread
// that waits (the agent loop), so engine state is touched by one thread only. Late answers (after a
// deadline) are dropped with the queue; the next Sync re-derives the truth.
class Pending {
 public:
  Pending() : s_(std::make_shared<State>()) {}
  // `abort`: polled (every 20 ms) while waiting; when it says so, the wait ends at once as
  // if the deadline had passed (a session expired: answers on it are moot, its nodes gone).
  explicit Pending(std::function<bool()> abort)
      : s_(std::make_shared<State>()), abort_(std::move(abort)) {}

  // Call once per submitted operation; the returned function must be called exactly once,
  // from any thread, with the work to apply on the syncer thread.
  std::function<void(std::function<void()>)> Begin() {
    {
      std::lock_guard<std::mutex> l(s_->mu);
      ++s_->outstanding;
    }
    auto s = s_;
    return [s](std::function<void()> apply) {
      std::lock_guard<std::mutex> l(s->mu);
      s->ready.push_back(std::move(apply));
      --s->outstanding;
      s->cv.notify_all();
    };
  }

  // Applies answers until at most `limit` operations are outstanding. False on deadline.
  bool RunUntil(size_t limit, Clock::time_point deadline) {
    while (true) {
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock<std::mutex> l(s_->mu);
        auto ready = [&] { return !s_->ready.empty() || s_->outstanding <= limit; };
        if (!abort_) {
          s_->cv.wait_until(l, deadline, ready);
        } else {
          while (!ready() && Clock::now() < deadline) {
            s_->cv.wait_until(l, std::min(deadline, Clock::now() + std::chrono::milliseconds(20)),
                              ready);
            if (!ready() && abort_()) {
              aborted_ = true;
              return false;
            }
          }
        }
        batch.swap(s_->ready);
        if (batch.empty()) return s_->outstanding <= limit;
      }
      for (auto& f : batch) f();
    }
  }
  bool aborted() const { return aborted_; }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t outstanding = 0;
    std::deque<std::function<void()>> ready;
  };
  std::shared_ptr<State> s_;
  std::function<bool()> abort_;
  bool aborted_ = false;
};

}  // namespace zkop::agent
