#include "zkop/config/duration.h"

#include <gtest/gtest.h>

namespace zkop::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsGoStyleTerms) {
  struct Case {
    const char* text;
    long long ms;
  } cases[] = {{"500ms", 500}, {"30s", 30000},  {"1m", 60000},  {"1h30m", 5400000},
               {"1.5s", 1500}, {"0", 0},        {"0s", 0},      {"2500us", 3},
               {"1m1s1ms", 61001}, {"100ns", 0}};
  for (const Case& c : cases) {
    std::string err;
    auto d = ParseDuration(c.text, &err);
    ASSERT_TRUE(d.has_value()) << c.text << ": " << err;
    EXPECT_EQ(d->count(), c.ms) << c.text;
  }
}

TEST(ParseDuration, RejectsWithReason) {
  struct Case {
    const char* text;
    const char* why;
  } cases[] = {{"", "empty duration"},
               {"30", "missing unit after 30"},
               {"30 seconds", "unknown unit \" seconds\""},
               {"ms", "expected a number at position 1"},
               {"1.2.3s", "malformed number"},
               {"10d", "unknown unit \"d\""}};
  for (const Case& c : cases) {
    std::string err;
    EXPECT_FALSE(ParseDuration(c.text, &err).has_value()) << c.text;
    EXPECT_NE(err.find(c.why), std::string::npos) << c.text << " -> " << err;
  }
}

TEST(FormatDuration, RoundTrips) {
  for (long long ms : {0LL, 1LL, 500LL, 1000LL, 61001LL, 5400000LL, 3600000LL}) {
    std::string text = FormatDuration(milliseconds(ms));
    auto back = ParseDuration(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->count(), ms) << text;
  }
  EXPECT_EQ(FormatDuration(milliseconds(90000)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
}

}  // namespace
}  // namespace zkop::config
