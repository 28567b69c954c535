// TrimSchedule on explicit times; HeapTrimmer with an injected trim, waiting on conditions.
#include "zkop/operator/controller/heap_trimmer.h"

#include <gtest/gtest.h>

#include <vector>

namespace zkop::op::controller {
namespace {

using namespace std::chrono_literals;
using Clock = TrimSchedule::Clock;

TEST(TrimScheduleTest, NothingIsDueUntilTheQueueSettles) {
  TrimSchedule s(2s);
  EXPECT_EQ(s.Due(), std::nullopt);
  s.Settled();
  ASSERT_TRUE(s.Due().has_value());
  EXPECT_LE(*s.Due(), Clock::now()) << "the first trim runs at once";
}

TEST(TrimScheduleTest, SettlingWithinTheIntervalIsCoalescedIntoOneTrimAtItsEnd) {
  TrimSchedule s(2s);
  const Clock::time_point t0 = Clock::now();
  s.Settled();
  s.Trimming(t0);
  EXPECT_EQ(s.Due(), std::nullopt) << "paid";
  s.Settled();
  s.Settled();
  EXPECT_EQ(s.Due(), t0 + 2s);
  s.Trimming(t0 + 2s);
  EXPECT_EQ(s.Due(), std::nullopt);
  s.Settled();  // after the interval (at t0 + 4 s or later): due when the last one allows
  EXPECT_EQ(s.Due(), t0 + 4s);
}

class Trims {
 public:
  void Record() {
    std::lock_guard<std::mutex> lock(mu_);
    at_.push_back(Clock::now());
    cv_.notify_all();
  }
  // The times of the first `n` trims, or fewer if they did not happen within 10 s.
  std::vector<Clock::time_point> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return at_.size() >= n; });
    return at_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Clock::time_point> at_;
};

TEST(HeapTrimmerTest, TrimsOnceSettledAndCoalescesTheRestToTheIntervalsEnd) {
  Trims trims;
  const auto interval = 300ms;
  HeapTrimmer trimmer(interval, [&] { trims.Record(); });
  const Clock::time_point settled = Clock::now();
  trimmer.Settled();
  std::vector<Clock::time_point> at = trims.WaitFor(1);
  ASSERT_EQ(at.size(), 1u) << "no trim after Settled()";
  EXPECT_GE(at[0], settled);
  for (int i = 0; i < 5; ++i) trimmer.Settled();
  at = trims.WaitFor(2);
  ASSERT_EQ(at.size(), 2u) << "the drains after the first trim were dropped";
  EXPECT_GE(at[1] - at[0], interval) << "a second trim inside the interval";
}

TEST(HeapTrimmerTest, StopsPromptlyWithATrimOwed) {
  Trims trims;
  const Clock::time_point start = Clock::now();
  {
    HeapTrimmer trimmer(1h, [&] { trims.Record(); });
    trimmer.Settled();
    ASSERT_EQ(trims.WaitFor(1).size(), 1u);
    trimmer.Settled();  // owed for an hour from now
  }
  EXPECT_LT(Clock::now() - start, 10s);
  EXPECT_EQ(trims.WaitFor(1).size(), 1u);
}

}  // namespace
}  // namespace zkop::op::controller
