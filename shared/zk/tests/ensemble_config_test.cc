#include "zkop/zk/ensemble_config.h"

#include <gtest/gtest.h>

namespace zkop::zk {
namespace {

TEST(EnsembleConfigTest, ParsesGetConfigOutput) {
  EnsembleConfig cfg;
  Status s = ParseEnsembleConfig(
      "server.2=127.0.0.2:2888:3888:participant;127.0.0.2:2181\n"
      "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
      "server.3=demo-3.demo-headless:2888:3888:observer;2181\n"
      "version=100000003",
      &cfg);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(cfg.members.size(), 3u);
  EXPECT_EQ(cfg.members[0].id, 1);
  EXPECT_EQ(cfg.members[1].id, 2);
  EXPECT_EQ(cfg.members[2].role, "observer");
  EXPECT_EQ(cfg.members[2].client_host, "0.0.0.0");
  EXPECT_EQ(cfg.members[2].client_port, 2181);
  EXPECT_EQ(cfg.version, 0x100000003);
  EXPECT_EQ(cfg.members[0].ServerLine(), "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181");
  EXPECT_EQ(cfg.ConnectString(), "127.0.0.1:2181,127.0.0.2:2181,0.0.0.0:2181");
  ASSERT_NE(cfg.Find(2), nullptr);
  EXPECT_EQ(cfg.Find(2)->ClientAddress(), "127.0.0.2:2181");
  EXPECT_EQ(cfg.Find(9), nullptr);
}

TEST(EnsembleConfigTest, ParsesConfMembershipSection) {
  EnsembleConfig cfg;
  Status s = ParseEnsembleConfig(
      "clientPort=2181\nmembership: \nserver.1=10.0.0.1:2888:3888;10.0.0.1:2181\n"
      "version=0",
      &cfg);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(cfg.members.size(), 1u);
  EXPECT_EQ(cfg.members[0].role, "participant");
  EXPECT_EQ(cfg.version, 0);
}

TEST(EnsembleConfigTest, NamesTheBadLine) {
  EnsembleConfig cfg;
  Status s = ParseEnsembleConfig("server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:notaport\n", &cfg);
  EXPECT_EQ(s.code(), Error::kParseError);
  EXPECT_NE(s.detail().find("line 2"), std::string::npos) << s.detail();
  EXPECT_NE(s.detail().find("10.0.0.2:notaport"), std::string::npos) << s.detail();

  s = ParseEnsembleConfig("server.1=a:1:2\nserver.1=b:1:2\n", &cfg);
  EXPECT_EQ(s.code(), Error::kParseError);
  EXPECT_NE(s.detail().find("each server id once"), std::string::npos) << s.detail();
}

}  // namespace
}  // namespace zkop::zk
