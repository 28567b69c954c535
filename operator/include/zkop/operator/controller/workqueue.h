// The controller's work queue, with client-go's workqueue semantics
// (k8s.io/client-go/util/workqueue: Type + DelayingQueue + RateLimitingQueue).
//
//   WorkQueue q;
//   q.Add("default/demo");
//   while (std::optional<std::string> key = q.Get()) {   // blocks; nullopt after ShutDown
//     if (Reconcile(*key) ok) q.Forget(*key); else q.AddRateLimited(*key);
//     q.Done(*key);                                      // always, exactly once per Get
//   }
//
// Contract:
//  - A key is queued at most once: adding a key that is already waiting to be processed is a
//    no-op (dedupe).
//  - A key is never handed to two workers at once: a key added while it is being processed
//    (between Get and Done) is marked dirty and queued again by Done.
//  - AddAfter(key, d) queues the key once `d` has passed on the queue's clock; several pending
//    AddAfter of one key keep the earliest time. d <= 0 is Add.
//  - AddRateLimited(key) = AddAfter(key, max(per-key exponential backoff, overall token
//    bucket)): the per-key delay is base * 2^failures (5 ms doubling up to 5 min by default,
//    as client-go's ItemExponentialFailureRateLimiter), the bucket is 10 qps / burst 100 (as
//    client-go's DefaultControllerRateLimiter). Forget(key) resets the key's failure count;
//    call it when the key was processed successfully.
//  - ShutDown() wakes every blocked Get, which then returns nullopt; keys still queued or
//    waiting are dropped (the process is stopping). In-flight keys finish normally: Done after
//    ShutDown is allowed. Adds after ShutDown are ignored.
//  - Thread-safe: every method may be called from any thread. Hooks run under no lock of the
//    queue's and must not call back into it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "zkop/kube/backoff.h"

namespace zkop::op::controller {

using Clock = std::chrono::steady_clock;

// client-go's ItemExponentialFailureRateLimiter: base * 2^failures, capped. Not thread-safe
// (the queue guards it).
class ExponentialFailureRateLimiter {
 public:
  ExponentialFailureRateLimiter(std::chrono::milliseconds base, std::chrono::milliseconds max)
      : base_(base), max_(max) {}
  // The delay for the key's next retry; counts one more failure.
  std::chrono::milliseconds When(const std::string& key);
  void Forget(const std::string& key) { failures_.erase(key); }
  int NumRequeues(const std::string& key) const;

 private:
  std::chrono::milliseconds base_, max_;
  std::unordered_map<std::string, int> failures_;
};

struct WorkQueueOptions {
  std::chrono::milliseconds backoff_base{5};
  std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};
  double qps = 10;  // overall token bucket; <= 0 disables it
  int burst = 100;
  // The clock of delays and the token bucket; tests inject a fake one. A blocked Get waits in
  // real time for at most the delay it computed on this clock (and at most 1 s at a time).
  std::function<Clock::time_point()> now = [] { return Clock::now(); };

  // Metrics hooks (optional): a key entered the queue; AddRateLimited was called; the number
  // of keys ready to be processed changed.
  std::function<void()> on_add;
  std::function<void()> on_retry;
  std::function<void(size_t depth)> on_depth;
  // The queue drained (optional): a Done left no key ready and none in flight (keys waiting
  // for their AddAfter time do not count: a settled controller always has its resyncs
  // waiting). Not called after ShutDown.
  std::function<void()> on_idle;
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready (and not in flight) or the queue is shut down (nullopt).
  std::optional<std::string> Get();
  // Non-blocking Get: nullopt when nothing is ready now (on the queue's clock) or shut down.
  std::optional<std::string> TryGet();
  // Marks the key processed; re-queues it if it was added meanwhile.
  void Done(const std::string& key);

  void ShutDown();
  bool ShuttingDown() const;

  size_t Len() const;         // keys ready to be processed (the depth metric)
  size_t WaitingLen() const;  // keys waiting for their AddAfter time

 private:
  // Each returns the depth to report (or nullopt when it did not change); called with mu_ held.
  std::optional<size_t> AddLocked(const std::string& key, bool* added);
  std::optional<size_t> PromoteDueLocked(Clock::time_point now, int* added);
  std::optional<std::string> PopLocked();
  void Report(std::optional<size_t> depth, int added);

  WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;               // ready keys, FIFO
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued on Done
  std::unordered_set<std::string> processing_;  // between Get and Done
  std::set<std::pair<Clock::time_point, std::string>> waiting_;  // AddAfter, by ready time
  std::unordered_map<std::string, Clock::time_point> waiting_at_;
  ExponentialFailureRateLimiter failures_;
  kube::RateLimiter bucket_;
  bool shutting_down_ = false;
};

}  // namespace zkop::op::controller
