// WorkQueue: dedupe, per-key exclusivity, delays and rate limiting on an injected clock,
// shutdown. No assertion depends on how fast this machine runs.
#include "zkop/operator/controller/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace zkop::op::controller {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  Clock::time_point t = Clock::now();
  std::mutex mu;
  Clock::time_point Now() {
    std::lock_guard<std::mutex> lock(mu);
    return t;
  }
  void Advance(Clock::duration d) {
    std::lock_guard<std::mutex> lock(mu);
    t += d;
  }
};

class WorkQueueTest : public ::testing::Test {
 protected:
  WorkQueueOptions Options() {
    WorkQueueOptions o;
    o.now = [this] { return clock_.Now(); };
    o.on_add = [this] { ++adds_; };
    o.on_retry = [this] { ++retries_; };
    o.on_depth = [this](size_t d) { depth_ = d; };
    return o;
  }
  FakeClock clock_;
  std::atomic<int> adds_{0}, retries_{0};
  std::atomic<size_t> depth_{0};
};

TEST_F(WorkQueueTest, AKeyIsQueuedOnceAndHandedOutInOrder) {
  WorkQueue q(Options());
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(adds_, 2);
  EXPECT_EQ(depth_, 2u);
  EXPECT_EQ(q.TryGet(), "ns/a");
  EXPECT_EQ(q.TryGet(), "ns/b");
  EXPECT_EQ(q.TryGet(), std::nullopt);
  EXPECT_EQ(depth_, 0u);
}

TEST_F(WorkQueueTest, AKeyAddedWhileProcessingWaitsForDone) {
  WorkQueue q(Options());
  q.Add("ns/a");
  ASSERT_EQ(q.TryGet(), "ns/a");
  q.Add("ns/a");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 0u) << "not handed to a second worker while in flight";
  EXPECT_EQ(q.TryGet(), std::nullopt);
  q.Done("ns/a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.TryGet(), "ns/a");
  q.Done("ns/a");
  EXPECT_EQ(q.TryGet(), std::nullopt) << "processed once more, not twice more";
  EXPECT_EQ(adds_, 2);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClockAndKeepsTheEarliestTime) {
  WorkQueue q(Options());
  q.AddAfter("ns/a", 100ms);
  q.AddAfter("ns/a", 50ms);
  q.AddAfter("ns/a", 500ms);
  q.AddAfter("ns/b", 0ms);  // = Add
  EXPECT_EQ(q.WaitingLen(), 1u);
  EXPECT_EQ(q.TryGet(), "ns/b");
  clock_.Advance(49ms);
  EXPECT_EQ(q.TryGet(), std::nullopt);
  clock_.Advance(1ms);
  EXPECT_EQ(q.TryGet(), "ns/a");
  EXPECT_EQ(q.WaitingLen(), 0u);
  q.Done("ns/a");
  clock_.Advance(1s);
  EXPECT_EQ(q.TryGet(), std::nullopt) << "the later AddAfters were merged into the first";
}

TEST_F(WorkQueueTest, AddAfterOfAQueuedKeyDoesNotDuplicateIt) {
  WorkQueue q(Options());
  q.Add("ns/a");
  q.AddAfter("ns/a", 10ms);
  clock_.Advance(10ms);
  EXPECT_EQ(q.TryGet(), "ns/a");
  EXPECT_EQ(q.TryGet(), std::nullopt);
}

TEST(ExponentialFailureRateLimiterTest, DoublesFromBaseToMaxPerKey) {
  ExponentialFailureRateLimiter r(5ms, std::chrono::minutes(5));
  EXPECT_EQ(r.When("a"), 5ms);
  EXPECT_EQ(r.When("a"), 10ms);
  EXPECT_EQ(r.When("a"), 20ms);
  EXPECT_EQ(r.When("b"), 5ms) << "per key";
  EXPECT_EQ(r.NumRequeues("a"), 3);
  for (int i = 0; i < 100; ++i) r.When("a");
  EXPECT_EQ(r.When("a"), std::chrono::minutes(5));
  r.Forget("a");
  EXPECT_EQ(r.NumRequeues("a"), 0);
  EXPECT_EQ(r.When("a"), 5ms);
}

TEST_F(WorkQueueTest, AddRateLimitedBacksOffPerKeyUntilForget) {
  WorkQueue q(Options());
  q.AddRateLimited("ns/a");  // 5 ms
  EXPECT_EQ(q.TryGet(), std::nullopt);
  clock_.Advance(5ms);
  ASSERT_EQ(q.TryGet(), "ns/a");
  q.Done("ns/a");
  q.AddRateLimited("ns/a");  // 10 ms
  clock_.Advance(9ms);
  EXPECT_EQ(q.TryGet(), std::nullopt);
  clock_.Advance(1ms);
  ASSERT_EQ(q.TryGet(), "ns/a");
  q.Done("ns/a");
  EXPECT_EQ(q.NumRequeues("ns/a"), 2);
  EXPECT_EQ(retries_, 2);
  q.Forget("ns/a");
  EXPECT_EQ(q.NumRequeues("ns/a"), 0);
  q.AddRateLimited("ns/a");  // back to 5 ms
  clock_.Advance(5ms);
  EXPECT_EQ(q.TryGet(), "ns/a");
}

TEST_F(WorkQueueTest, TheOverallBucketLimitsRetriesAfterTheBurst) {
  WorkQueueOptions o = Options();
  o.backoff_base = 1ms;
  o.backoff_max = 1ms;
  WorkQueue q(o);
  for (int i = 0; i < 100; ++i) q.AddRateLimited("ns/k" + std::to_string(i));  // the burst
  clock_.Advance(1ms);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.TryGet().has_value());
  // The bucket is empty now: at 10 qps the next retry waits 100 ms, not 1 ms.
  q.AddRateLimited("ns/late");
  clock_.Advance(50ms);
  EXPECT_EQ(q.TryGet(), std::nullopt);
  clock_.Advance(60ms);
  EXPECT_EQ(q.TryGet(), "ns/late");
}

TEST_F(WorkQueueTest, ShutDownWakesBlockedWorkersAndLetsInFlightItemsFinish) {
  WorkQueue q;  // real clock: Get blocks
  q.Add("ns/a");
  ASSERT_EQ(q.Get(), "ns/a");  // in flight
  std::atomic<int> returned{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      EXPECT_EQ(q.Get(), std::nullopt);
      ++returned;
    });
  }
  q.AddAfter("ns/b", std::chrono::hours(1));
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_EQ(returned, 3);
  q.Add("ns/a");  // ignored
  q.Done("ns/a");
  EXPECT_TRUE(q.ShuttingDown());
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST_F(WorkQueueTest, ABlockedGetWakesForAnAddAndForADueDelay) {
  WorkQueue q;  // real clock
  std::thread t([&] { q.Add("ns/a"); });
  EXPECT_EQ(q.Get(), "ns/a");
  t.join();
  q.AddAfter("ns/b", 20ms);
  EXPECT_EQ(q.Get(), "ns/b");  // returns once 20 ms have passed, however long that takes
}

TEST_F(WorkQueueTest, NoKeyIsProcessedByTwoWorkersAtOnce) {
  WorkQueue q;
  std::mutex mu;
  std::map<std::string, int> in_flight;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (++in_flight[*key] > 1) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> lock(mu);
          --in_flight[*key];
        }
        ++processed;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.Add("ns/k" + std::to_string(i % 3));
  while (q.Len() > 0) std::this_thread::sleep_for(1ms);
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap);
  EXPECT_GE(processed, 3);
}

TEST_F(WorkQueueTest, IdleIsReportedWhenTheLastKeyInFlightIsDoneAndNothingIsReady) {
  WorkQueueOptions o = Options();
  std::atomic<int> idle{0};
  o.on_idle = [&] { ++idle; };
  WorkQueue q(o);
  q.Add("ns/a");
  q.Add("ns/b");
  q.AddAfter("ns/later", 1h);  // waiting keys do not keep the queue busy
  ASSERT_EQ(q.TryGet(), "ns/a");
  ASSERT_EQ(q.TryGet(), "ns/b");
  q.Done("ns/a");
  EXPECT_EQ(idle, 0) << "ns/b is still in flight";
  q.Add("ns/c");
  q.Done("ns/b");
  EXPECT_EQ(idle, 0) << "ns/c is ready";
  ASSERT_EQ(q.TryGet(), "ns/c");
  q.Add("ns/c");  // re-added while in flight: Done queues it again
  q.Done("ns/c");
  EXPECT_EQ(idle, 0);
  ASSERT_EQ(q.TryGet(), "ns/c");
  q.Done("ns/c");
  EXPECT_EQ(idle, 1);
  ASSERT_EQ(q.TryGet(), std::nullopt);
  q.Add("ns/d");
  ASSERT_EQ(q.TryGet(), "ns/d");
  q.ShutDown();
  q.Done("ns/d");
  EXPECT_EQ(idle, 1) << "no idle report after ShutDown";
}

}  // namespace
}  // namespace zkop::op::controller
