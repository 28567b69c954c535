#include "zkop/kube/backoff.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <thread>

namespace zkop::kube {

std::chrono::milliseconds Backoff::Delay(int attempt) {
  double base = static_cast<double>(options_.initial.count()) *
                std::pow(options_.factor, std::max(0, std::min(attempt, 62)));
  double cap = static_cast<double>(options_.max.count());
  base = std::min(base, cap);
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> dist(1.0 - options_.jitter, 1.0 + options_.jitter);
    base = std::min(base * dist(rng_), cap);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(base));
}

RateLimiter::RateLimiter(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)), last_(Clock::now()) {}

RateLimiter::Clock::duration RateLimiter::Reserve(Clock::time_point now) {
  if (qps_ <= 0) return Clock::duration::zero();
  std::lock_guard<std::mutex> lock(mu_);
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

void RateLimiter::Acquire() {
  auto wait = Reserve(Clock::now());
  if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
}

bool SleepFor(std::chrono::milliseconds d, const std::stop_token& stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace zkop::kube
