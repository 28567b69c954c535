#include "zkop/agent/atom.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

namespace zkop::agent {
namespace {

TEST(Atom, EqualValuesShareOneCopy) {
  std::string a_value = "org.apache.dubbo.demo.DemoService-application";
  Atom a(a_value);
  Atom b(std::string_view("org.apache.dubbo.demo.DemoService-application"));
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_EQ(a, b);
  EXPECT_NE(&a.str(), &Atom("other").str());
  EXPECT_EQ(sizeof(Atom), sizeof(void*));
}

TEST(Atom, ReadsLikeAString) {
  Atom empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty, "");
  Atom app = "orders";
  EXPECT_EQ(app, "orders");
  EXPECT_EQ(app.size(), 6u);
  EXPECT_EQ(app + "\n" + Atom("/app/orders/dubbo.properties"),
            "orders\n/app/orders/dubbo.properties");
  EXPECT_EQ("application " + app, "application orders");
  const std::string& ref = app;
  EXPECT_EQ(ref, "orders");
  std::ostringstream out;
  out << app;
  EXPECT_EQ(out.str(), "orders");
  EXPECT_TRUE(Atom("a") < Atom("b"));
}

TEST(Atom, InterningIsThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<const std::string*> seen(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &seen] {
      for (int i = 0; i < 1000; ++i) Atom(std::to_string(i));
      seen[t] = &Atom("shared-value").str();
    });
  }
  for (auto& th : threads) th.join();
  for (const auto* p : seen) EXPECT_EQ(p, seen[0]);
}

}  // namespace
}  // namespace zkop::agent
