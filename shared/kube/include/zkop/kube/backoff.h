// Retry pacing: exponential backoff with jitter, and a token-bucket rate limiter.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <stop_token>

namespace zkop::kube {

// Delay before retry number `attempt` (0-based): initial * factor^attempt, capped
// at max, then multiplied by a uniform factor in [1 - jitter, 1 + jitter]
// (still capped at max). A value type; not thread-safe (give each loop its own).
class Backoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{100};
    std::chrono::milliseconds max{5000};
    double factor = 2.0;
    double jitter = 0.2;  // 0 disables jitter
  };
  explicit Backoff(Options options, uint64_t seed = std::random_device{}())
      : options_(options), rng_(seed) {}

  std::chrono::milliseconds Delay(int attempt);
  const Options& options() const { return options_; }

 private:
  Options options_;
  std::mt19937_64 rng_;
};

// Client-side request limit: `qps` tokens per second refill a bucket of
// `burst` tokens; each request takes one. Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // qps <= 0 disables limiting.
  RateLimiter(double qps, int burst);

  // Takes a token now or, if none is left, reserves the next one: returns how
  // long the caller must wait before proceeding (zero when a token was free).
  Clock::duration Reserve(Clock::time_point now);
  // Reserve + sleep.
  void Acquire();

 private:
  std::mutex mu_;
  double qps_;
  double burst_;
  double tokens_;  // may go negative: reservations not yet due
  Clock::time_point last_;
};

// Sleeps for `d` unless `stop` is requested first. Returns false when stopped.
bool SleepFor(std::chrono::milliseconds d, const std::stop_token& stop);

}  // namespace zkop::kube
