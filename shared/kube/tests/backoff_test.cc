#include "zkop/kube/backoff.h"

#include <gtest/gtest.h>

#include <thread>

namespace zkop::kube {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, ExponentialWithoutJitter) {
  Backoff b({milliseconds(100), milliseconds(1000), 2.0, 0.0});
  EXPECT_EQ(b.Delay(0), milliseconds(100));
  EXPECT_EQ(b.Delay(1), milliseconds(200));
  EXPECT_EQ(b.Delay(3), milliseconds(800));
  EXPECT_EQ(b.Delay(4), milliseconds(1000));
  EXPECT_EQ(b.Delay(1000), milliseconds(1000));
}

TEST(BackoffTest, JitterStaysInBandAndVaries) {
  Backoff b({milliseconds(100), milliseconds(10000), 2.0, 0.5}, 7);
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    auto d = b.Delay(2).count();
    EXPECT_GE(d, 200);
    EXPECT_LE(d, 600);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(RateLimiterTest, BurstThenQps) {
  RateLimiter rl(10, 3);
  auto t0 = RateLimiter::Clock::now();
  EXPECT_EQ(rl.Reserve(t0), RateLimiter::Clock::duration::zero());
  EXPECT_EQ(rl.Reserve(t0), RateLimiter::Clock::duration::zero());
  EXPECT_EQ(rl.Reserve(t0), RateLimiter::Clock::duration::zero());
  // The bucket is empty: the 4th waits 1/qps, the 5th 2/qps.
  EXPECT_NEAR(std::chrono::duration<double>(rl.Reserve(t0)).count(), 0.1, 1e-6);
  EXPECT_NEAR(std::chrono::duration<double>(rl.Reserve(t0)).count(), 0.2, 1e-6);
  // A second later the debt is paid and the bucket refilled (capped at burst).
  auto t1 = t0 + std::chrono::seconds(1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rl.Reserve(t1), RateLimiter::Clock::duration::zero());
  EXPECT_GT(rl.Reserve(t1), RateLimiter::Clock::duration::zero());
}

TEST(RateLimiterTest, AcquireReallyPaces) {
  RateLimiter rl(50, 1);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 11; ++i) rl.Acquire();
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(190));
}

TEST(RateLimiterTest, DisabledNeverWaits) {
  RateLimiter rl(0, 1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(rl.Reserve(RateLimiter::Clock::now()), RateLimiter::Clock::duration::zero());
  }
}

TEST(SleepForTest, StopsEarly) {
  std::stop_source stop;
  std::thread t([&] {
    std::this_thread::sleep_for(milliseconds(50));
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(SleepFor(milliseconds(5000), stop.get_token()));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  t.join();
  EXPECT_TRUE(SleepFor(milliseconds(1), std::stop_token()));
}

}  // namespace
}  // namespace zkop::kube
