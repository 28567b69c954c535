#include "zkop/operator/controller/heap_trimmer.h"

#include <malloc.h>

namespace zkop::op::controller {

std::optional<TrimSchedule::Clock::time_point> TrimSchedule::Due() const {
  if (!owed_) return std::nullopt;
  return last_trim_ ? *last_trim_ + min_interval_ : Clock::time_point{};
}

void TrimSchedule::Trimming(Clock::time_point now) {
  owed_ = false;
  last_trim_ = now;
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds min_interval, std::function<void()> trim)
    : trim_(trim ? std::move(trim) : [] { malloc_trim(0); }),
      schedule_(min_interval),
      thread_([this](std::stop_token stop) { Run(stop); }) {}

HeapTrimmer::~HeapTrimmer() {
  thread_.request_stop();  // wakes the wait below (condition_variable_any + stop_token)
  thread_.join();
}

void HeapTrimmer::Settled() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    schedule_.Settled();
  }
  cv_.notify_one();
}

void HeapTrimmer::Run(std::stop_token stop) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop.stop_requested()) {
    std::optional<TrimSchedule::Clock::time_point> due = schedule_.Due();
    if (!due) {
      cv_.wait(lock, stop, [this] { return schedule_.Due().has_value(); });
      continue;
    }
    if (TrimSchedule::Clock::now() < *due) {
      // Settled() calls meanwhile change nothing: the owed trim stays at the interval's end.
      cv_.wait_until(lock, stop, *due, [] { return false; });
      continue;
    }
    schedule_.Trimming(TrimSchedule::Clock::now());
    lock.unlock();
    trim_();  // a Settled() during the trim is owed again, for the interval's end
    lock.lock();
  }
}

}  // namespace zkop::op::controller
