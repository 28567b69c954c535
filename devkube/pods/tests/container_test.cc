#include "zkop/devkube/pods/container.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace zkop::devkube::pods {
namespace {

using web::json::value;

class ContainerTest : public ::testing::Test {
 protected:
  ContainerTest() {
    table_ = ImageTable::Defaults("/src", "/build");
    ctx_.image = table_.Find("zkop/zookeeper:3.8.0");
    ctx_.hostname = "demo-1";
    ctx_.hosts_file = "/state/pods/x/hosts";
    ctx_.work_dir = "/state/pods/x";
    ctx_.log_path = "/state/pods/x/logs/zk/0.log";
    ctx_.path_env = "/usr/bin:/bin";
    ctx_.mounts = {{"/etc/zkop/config", "/state/pods/x/volumes/config"},
                   {"/data", "/state/claims/ns/data-demo-1_u"},
                   {"/etc/zkop/admin", "/state/pods/x/volumes/admin"}};
    ctx_.pod_env = {{"ZK_SUPER_DIGEST_FILE", "/etc/zkop/admin/digest"},
                    {"JAVA_OPTS", "-Dx=1"},
                    {"OTHER", "/database"}};
  }
  static std::string Env(const LaunchSpec& s, const std::string& name) {
    for (const auto& e : s.env) {
      if (e.rfind(name + "=", 0) == 0) return e.substr(name.size() + 1);
    }
    return "<unset>";
  }
  ImageTable table_;
  ContainerContext ctx_;
};

TEST_F(ContainerTest, ZooKeeperImageRunsTheEntrypointWithMountsAndNames) {
  auto r =
      BuildLaunch(value::parse(R"({"name":"zookeeper","image":"zkop/zookeeper:3.8.0"})"), ctx_);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.spec.argv, (std::vector<std::string>{"/src/images/zookeeper/entrypoint.sh"}));
  EXPECT_EQ(Env(r.spec, "ZK_CONFIG_SOURCE"), "/state/pods/x/volumes/config");
  EXPECT_EQ(Env(r.spec, "ZK_DATA_DIR"), "/state/claims/ns/data-demo-1_u");
  EXPECT_EQ(Env(r.spec, "ZK_SUPER_DIGEST_FILE"), "/state/pods/x/volumes/admin/digest");
  EXPECT_EQ(Env(r.spec, "OTHER"), "/database");  // "/data" is a path prefix only at a '/'
  EXPECT_EQ(Env(r.spec, "JAVA"), "/usr/bin/java");
  EXPECT_EQ(Env(r.spec, "HOSTNAME"), "demo-1");
  EXPECT_EQ(Env(r.spec, "JAVA_OPTS"),
            "-Dx=1 -Djdk.net.hosts.file=/state/pods/x/hosts -Dsun.net.inetaddr.ttl=1 "
            "-Dsun.net.inetaddr.negative.ttl=0");
  // The lookup serializer first, then nss_wrapper (nss_serialize.c says why).
  EXPECT_THAT(Env(r.spec, "LD_PRELOAD"),
              ::testing::MatchesRegex(".*/libzkop_nss_serialize\\.so libnss_wrapper\\.so"));
  EXPECT_EQ(Env(r.spec, "NSS_WRAPPER_HOSTS"), "/state/pods/x/hosts");
  EXPECT_EQ(Env(r.spec, "NSS_WRAPPER_HOSTNAME"), "demo-1");
  EXPECT_EQ(r.spec.cwd, "/state/pods/x");
  EXPECT_EQ(r.spec.log_path, "/state/pods/x/logs/zk/0.log");
}

TEST_F(ContainerTest, CommandMustBeTheImagesEntrypoint) {
  auto ok = BuildLaunch(value::parse(R"({"command":["/usr/local/bin/zkop-zookeeper-entrypoint"],
      "args":["--x=/data/y"]})"),
                        ctx_);
  ASSERT_EQ(ok.error, "");
  EXPECT_EQ(ok.spec.argv, (std::vector<std::string>{"/src/images/zookeeper/entrypoint.sh",
                                                    "--x=/state/claims/ns/data-demo-1_u/y"}));
  auto bad = BuildLaunch(value::parse(R"({"command":["/bin/sh","-c","true"]})"), ctx_);
  EXPECT_NE(bad.error.find("command /bin/sh is not this image's entrypoint"), std::string::npos)
      << bad.error;
}

TEST_F(ContainerTest, LocalExecRunsCommandAndArgsWithExpansion) {
  ctx_.image = table_.Find("zkop.io/local-exec");
  ctx_.pod_env.push_back({"PORT", "8080"});
  auto r = BuildLaunch(
      value::parse(
          R"j({"command":["/data/bin/server"],"args":["--port","$(PORT)","/etc/zkop/config/a"]})j"),
      ctx_);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.spec.argv,
            (std::vector<std::string>{"/state/claims/ns/data-demo-1_u/bin/server", "--port", "8080",
                                      "/state/pods/x/volumes/config/a"}));
  EXPECT_EQ(BuildLaunch(value::parse(R"({"args":["x"]})"), ctx_).error,
            "the local-exec image runs the container's command: set command");
}

TEST(RewritePathTest, LongestMountWins) {
  std::vector<Mount> m = {{"/etc", "/h/etc"}, {"/etc/zkop", "/h/zkop"}, {"/", "/never"}};
  EXPECT_EQ(RewritePath("/etc/zkop/x", m), "/h/zkop/x");
  EXPECT_EQ(RewritePath("/etc/hosts", m), "/h/etc/hosts");
  EXPECT_EQ(RewritePath("/etc", m), "/h/etc");
  EXPECT_EQ(RewritePath("/var/x", m), "/var/x");
  EXPECT_EQ(RewritePath("relative", m), "relative");
  EXPECT_EQ(RewritePath("/etcetera", m), "/etcetera");
}

TEST(RewritePathTest, PathsInsideScriptsAndOptions) {
  std::vector<Mount> m = {{"/data", "/h/d"}, {"/etc/app", "/h/app"}};
  EXPECT_EQ(RewritePath("cat /etc/app/mode; echo x >> /data/runs", m),
            "cat /h/app/mode; echo x >> /h/d/runs");
  EXPECT_EQ(RewritePath("-Dlog=/data/log.txt -Dx=a/data", m), "-Dlog=/h/d/log.txt -Dx=a/data");
  EXPECT_EQ(RewritePath("'/data' \"/data/x\" /data.d /database", m),
            "'/h/d' \"/h/d/x\" /data.d /database");
}

}  // namespace
}  // namespace zkop::devkube::pods
