// Gives the heap's free pages back to the system once the controller's work has settled.
//
// glibc's malloc returns only the top of a heap to the system; memory freed inside it stays
// resident. A burst of reconciles (100 clusters created at once) leaves ~1 MB of such pages
// behind for the process's lifetime (docs/benchmarks.md). HeapTrimmer runs malloc_trim(0)
// when the work queue has drained, as long-running daemons do:
//
//   HeapTrimmer trimmer(std::chrono::seconds(2));   // starts its thread
//   ... the work queue's on_idle hook: trimmer.Settled();
//
// Contract:
//  - Settled() may be called from any thread: it records the call and wakes the trimmer's
//    thread; it never trims on the caller's thread nor waits for a trim.
//  - Trims run on the trimmer's own thread, at most one per `min_interval` (TrimSchedule):
//    the first Settled() after a quiet interval trims at once; those that follow within the
//    interval are coalesced into one trim at its end, so the last drain of a burst is always
//    trimmed. Without Settled() nothing runs (no polling).
//  - The destructor wakes and joins the thread; a trim still owed is dropped.
//  - `trim` replaces malloc_trim(0) (tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace zkop::op::controller {

// When trims are due (pure; the caller serialises calls). Times are on the steady clock.
class TrimSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TrimSchedule(Clock::duration min_interval) : min_interval_(min_interval) {}

  // The work queue drained: a trim is owed.
  void Settled() { owed_ = true; }
  // When the owed trim may run (at once: a time not after now); nullopt when none is owed.
  std::optional<Clock::time_point> Due() const;
  // A trim starts at `now`: what was owed is paid; the next waits for `min_interval`.
  void Trimming(Clock::time_point now);

 private:
  Clock::duration min_interval_;
  std::optional<Clock::time_point> last_trim_;
  bool owed_ = false;
};

class HeapTrimmer {
 public:
  explicit HeapTrimmer(std::chrono::milliseconds min_interval,
                       std::function<void()> trim = nullptr);
  ~HeapTrimmer();
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

  void Settled();

 private:
  void Run(std::stop_token stop);

  std::function<void()> trim_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  TrimSchedule schedule_;  // guarded by mu_
  std::jthread thread_;    // last: started once the members above exist
};

}  // namespace zkop::op::controller
