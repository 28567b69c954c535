#include "zkop/dubbo/url_encode.h"

#include <gtest/gtest.h>

#include "java_reference.h"

namespace zkop::dubbo {
namespace {

using testing::Hex;
using testing::JavaAvailable;
using testing::RunJava;

TEST(UrlEncode, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(UrlEncode("aZ09.-*_"), "aZ09.-*_");
  EXPECT_EQ(UrlEncode("a b"), "a+b");
  EXPECT_EQ(UrlEncode("dubbo://1.2.3.4:20880/x?a=b&c=d,e"),
            "dubbo%3A%2F%2F1.2.3.4%3A20880%2Fx%3Fa%3Db%26c%3Dd%2Ce");
  EXPECT_EQ(UrlEncode("~!'()"), "%7E%21%27%28%29");
  EXPECT_EQ(UrlEncode("\xC3\xA9"), "%C3%A9");  // é
}

TEST(UrlEncode, DecodeRoundTrips) {
  std::string out;
  ASSERT_TRUE(UrlDecode(UrlEncode("dubbo://h:1/a.B?x=1 2&m=\xE4\xB8\xAD"), &out));
  EXPECT_EQ(out, "dubbo://h:1/a.B?x=1 2&m=\xE4\xB8\xAD");
  EXPECT_FALSE(UrlDecode("%4", &out));
  EXPECT_FALSE(UrlDecode("%zz", &out));
}

TEST(JavaStringLess, OrdersLikeJavaTreeMap) {
  EXPECT_TRUE(JavaStringLess("anyhost", "application"));
  EXPECT_TRUE(JavaStringLess("Z", "a"));
  // U+FF21 (3 UTF-8 bytes, one UTF-16 unit 0xFF21) sorts after U+1F600 (surrogates 0xD83D..)
  // in Java, although its UTF-8 bytes sort first.
  EXPECT_TRUE(JavaStringLess("\xF0\x9F\x98\x80", "\xEF\xBC\xA1"));
  EXPECT_FALSE(JavaStringLess("\xEF\xBC\xA1", "\xF0\x9F\x98\x80"));
}

TEST(UrlEncode, MatchesJdkUrlEncoder) {
  if (!JavaAvailable()) GTEST_SKIP() << "no java";
  std::vector<std::string> samples = {
      "dubbo://10.0.0.7:20880/org.apache.dubbo.demo.DemoService?anyhost=true&methods=a,b",
      "space and+plus",
      "percent%sign",
      "~tilde*star",
      "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80",
      "[::1]:20880",
      "group=a/b&version=1.0.0-SNAPSHOT"};
  std::string all;
  for (int c = 1; c < 128; ++c) {
    if (c != '\n' && c != '\r') all.push_back(static_cast<char>(c));
  }
  samples.push_back(all);
  std::string input;
  for (const auto& s : samples) input += Hex(s) + "\n";
  auto lines = RunJava({"encode"}, input);
  ASSERT_EQ(lines.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(UrlEncode(samples[i]), lines[i]) << "sample " << i;
  }
}

}  // namespace
}  // namespace zkop::dubbo
