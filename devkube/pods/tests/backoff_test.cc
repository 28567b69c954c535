#include "zkop/devkube/pods/backoff.h"

#include <gtest/gtest.h>

namespace zkop::devkube::pods {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(CrashBackoffTest, DoublesFromBaseUpToMaxLikeTheKubelet) {
  CrashBackoff b(seconds(10), minutes(5), minutes(10));
  EXPECT_EQ(b.current(), milliseconds(0));
  std::vector<long> got;
  for (int i = 0; i < 8; ++i) got.push_back(b.RecordExit(seconds(1)).count() / 1000);
  EXPECT_EQ(got, (std::vector<long>{10, 20, 40, 80, 160, 300, 300, 300}));
}

TEST(CrashBackoffTest, ALongRunResetsToBase) {
  CrashBackoff b(milliseconds(100), seconds(5), seconds(2));
  b.RecordExit(milliseconds(10));
  b.RecordExit(milliseconds(10));
  EXPECT_EQ(b.RecordExit(milliseconds(10)), milliseconds(400));
  EXPECT_EQ(b.RecordExit(seconds(2)), milliseconds(100));
  EXPECT_EQ(b.RecordExit(milliseconds(10)), milliseconds(200));
}

}  // namespace
}  // namespace zkop::devkube::pods
