#include "zkop/zk/acl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace zkop::zk {
namespace {

TEST(AclTest, DigestOfKnownCredential) {
  // Printed by ZooKeeper's own DigestAuthenticationProvider for "super:secret".
  EXPECT_EQ(Digest("super", "secret"), "lK75jTNcA+U9vtVEw5vB51mj/w4=");
  EXPECT_EQ(DigestId("super", "secret"), "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
}

// The digest must match what the JDK server computes for any credential.
TEST(AclTest, DigestMatchesZooKeepersJavaImplementation) {
  if (access("/usr/bin/java", X_OK) != 0 || access("/usr/share/java/zookeeper.jar", R_OK) != 0) {
    GTEST_SKIP() << "java or Debian's zookeeper.jar is not installed";
  }
  const std::string user = "agent-" + std::to_string(getpid());
  const std::string password = "p@ss:w0rd/with+odd=chars";
  std::string cmd =
      "java -cp /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar "
      "org.apache.zookeeper.server.auth.DigestAuthenticationProvider '" +
      user + ":" + password + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 256> buf{};
  while (fgets(buf.data(), buf.size(), pipe.get()) != nullptr) out += buf.data();
  // "<user>:<password>-><user>:<digest>"
  size_t arrow = out.find("->");
  ASSERT_NE(arrow, std::string::npos) << out;
  std::string java_id = out.substr(arrow + 2);
  while (!java_id.empty() && (java_id.back() == '\n' || java_id.back() == '\r')) {
    java_id.pop_back();
  }
  EXPECT_EQ(DigestId(user, password), java_id);
}

TEST(AclTest, StandardAcls) {
  EXPECT_EQ(OpenAcl(), (Acl{{perm::kAll, "world", "anyone"}}));
  Acl acl = CreatorAllWorldReadAcl();
  ASSERT_EQ(acl.size(), 2u);
  EXPECT_EQ(acl[0].scheme, "auth");
  EXPECT_EQ(acl[0].perms, perm::kAll);
  EXPECT_EQ(acl[1], (AclEntry{perm::kRead, "world", "anyone"}));
  AclEntry e = DigestAclEntry("bob", "pw", perm::kRead | perm::kWrite);
  EXPECT_EQ(e.scheme, "digest");
  EXPECT_EQ(e.id, DigestId("bob", "pw"));
  EXPECT_EQ(e.id.find("pw"), std::string::npos);
}

}  // namespace
}  // namespace zkop::zk
