#include "zkop/zk/status.h"

#include <gtest/gtest.h>
#include <zookeeper/zookeeper.h>

namespace zkop::zk {
namespace {

TEST(StatusTest, MapsEveryCommonCode) {
  EXPECT_EQ(FromZooCode(ZOK), Error::kOk);
  EXPECT_EQ(FromZooCode(ZNONODE), Error::kNoNode);
  EXPECT_EQ(FromZooCode(ZNODEEXISTS), Error::kNodeExists);
  EXPECT_EQ(FromZooCode(ZBADVERSION), Error::kBadVersion);
  EXPECT_EQ(FromZooCode(ZNOTEMPTY), Error::kNotEmpty);
  EXPECT_EQ(FromZooCode(ZNOAUTH), Error::kNoAuth);
  EXPECT_EQ(FromZooCode(ZCONNECTIONLOSS), Error::kConnectionLoss);
  EXPECT_EQ(FromZooCode(ZSESSIONEXPIRED), Error::kSessionExpired);
  EXPECT_EQ(FromZooCode(ZOPERATIONTIMEOUT), Error::kOperationTimeout);
  EXPECT_EQ(FromZooCode(ZRECONFIGINPROGRESS), Error::kReconfigInProgress);
  EXPECT_EQ(FromZooCode(ZNEWCONFIGNOQUORUM), Error::kNewConfigNoQuorum);
  EXPECT_EQ(FromZooCode(ZCLOSING), Error::kClosing);
  EXPECT_EQ(FromZooCode(ZINVALIDSTATE), Error::kInvalidState);
  EXPECT_EQ(FromZooCode(ZRUNTIMEINCONSISTENCY), Error::kSystemError);
  EXPECT_EQ(FromZooCode(-9999), Error::kUnknown);
}

TEST(StatusTest, MessagesAreReadable) {
  Status s = Status::FromZoo(ZNONODE, "/a/b");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "NONODE: node does not exist (/a/b)");
  EXPECT_EQ(Status().ToString(), "OK");
  EXPECT_NE(Status(Error::kConnectionLoss).ToString().find("may or may not have been applied"),
            std::string::npos);
}

TEST(StatusTest, UnknownCodesKeepTheNumber) {
  Status s = Status::FromZoo(-9999, "/x");
  EXPECT_EQ(s.code(), Error::kUnknown);
  EXPECT_NE(s.detail().find("-9999"), std::string::npos) << s.detail();
  EXPECT_NE(s.detail().find("/x"), std::string::npos);
}

TEST(StatusTest, OutcomeUnknownOnlyForTransportLoss) {
  EXPECT_TRUE(IsOutcomeUnknown(Error::kConnectionLoss));
  EXPECT_TRUE(IsOutcomeUnknown(Error::kOperationTimeout));
  EXPECT_FALSE(IsOutcomeUnknown(Error::kSessionExpired));
  EXPECT_FALSE(IsOutcomeUnknown(Error::kNodeExists));
}

TEST(StatusTest, EveryErrorHasANameAndMeaning) {
  for (int i = 0; i <= static_cast<int>(Error::kUnknown); ++i) {
    auto e = static_cast<Error>(i);
    EXPECT_FALSE(ErrorName(e).empty()) << i;
    EXPECT_FALSE(ErrorMeaning(e).empty()) << i;
  }
}

}  // namespace
}  // namespace zkop::zk
