// Client behaviour that needs no ZooKeeper server: argument checks, lifecycle, deadlines.
#include <gtest/gtest.h>

#include <chrono>

#include "zkop/zk/client.h"

namespace zkop::zk {
namespace {

using std::chrono::milliseconds;

TEST(ClientUnitTest, EmptyConnectStringIsASetupError) {
  try {
    Client c(ClientOptions{});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("connect string is empty"), std::string::npos);
  }
}

TEST(ClientUnitTest, OperationsBeforeStartAndAfterCloseFailWithoutCallingBack) {
  ClientOptions o;
  o.connect = "127.0.0.1:1";
  Client c(o);
  bool called = false;
  Status st = c.GetAsync("/x", [&](const DataResult&) { called = true; });
  EXPECT_EQ(st.code(), Error::kInvalidState);
  EXPECT_NE(st.detail().find("not started"), std::string::npos) << st.detail();
  EXPECT_EQ(c.Create("/x", "").status.code(), Error::kInvalidState);
  EXPECT_EQ(c.SyncAsync("/x", [&](const StatResult&) { called = true; }).code(),
            Error::kInvalidState);
  EXPECT_EQ(c.state(), State::kConnecting);
  c.Close();
  EXPECT_EQ(c.state(), State::kClosed);
  EXPECT_EQ(c.Get("/x").status.code(), Error::kClosed);
  EXPECT_EQ(c.Sync("/x").code(), Error::kClosed);
  EXPECT_EQ(c.Start().code(), Error::kClosed);
  EXPECT_EQ(c.WaitConnected(milliseconds(10)).code(), Error::kClosed);
  EXPECT_FALSE(called);
  c.Close();  // idempotent
}

TEST(ClientUnitTest, ArgumentErrorsAreReportedBeforeSubmission) {
  ClientOptions o;
  o.connect = "127.0.0.1:1";
  Client c(o);
  EXPECT_EQ(c.MultiAsync({}, nullptr).code(), Error::kBadArguments);
  EXPECT_EQ(c.ReconfigAsync({}, {}, {}, -1, nullptr).code(), Error::kBadArguments);
  CreateOptions persistent;
  EXPECT_EQ(c.CreateOwnedEphemeralAsync("/x", "", persistent, nullptr).code(),
            Error::kBadArguments);
}

TEST(ClientUnitTest, ConnectToNothingTimesOutOnTimeAndNamesTheServers) {
  ClientOptions o;
  o.connect = "127.0.0.1:1,127.0.0.1:2";  // nothing listens on ports 1 and 2
  o.session_timeout = milliseconds(3000);
  Client c(o);
  auto start = std::chrono::steady_clock::now();
  Status st = c.Connect(milliseconds(800));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code(), Error::kConnectTimeout);
  EXPECT_NE(st.ToString().find("127.0.0.1:1,127.0.0.1:2"), std::string::npos) << st.ToString();
  EXPECT_GE(took, milliseconds(790));
  EXPECT_LT(took, milliseconds(2000));
}

}  // namespace
}  // namespace zkop::zk
