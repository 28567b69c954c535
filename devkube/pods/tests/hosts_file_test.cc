#include "zkop/devkube/pods/hosts_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods {
namespace {

PodEndpoint Pod(std::string ns, std::string name, std::string ip, bool ready,
                std::string subdomain = "demo-headless") {
  PodEndpoint p;
  p.ns = ns;
  p.name = name;
  p.hostname = name;
  p.subdomain = subdomain;
  p.ip = ip;
  p.ready = ready;
  p.labels = {{"app", "zk"}};
  return p;
}

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

TEST(HostsFileTest, PodNamesServicesAndSelf) {
  std::vector<PodEndpoint> pods = {
      Pod("ns1", "demo-1", "127.42.0.1", true), Pod("ns1", "demo-2", "127.42.0.2", false),
      Pod("ns2", "other-1", "127.42.0.9", true, "other-headless"), Pod("ns1", "pending", "", true)};
  std::vector<ServiceRecord> services = {{"ns1", "demo-headless", {{"app", "zk"}}, true},
                                         {"ns1", "demo-client", {{"app", "zk"}}, false},
                                         {"ns1", "manual", {}, false}};
  const std::string text = RenderHostsFile(pods, services, pods[0], "cluster.local", "buildbox");

  EXPECT_TRUE(
      HasLine(text, "127.42.0.1 demo-1.demo-headless.ns1.svc.cluster.local demo-1 localhost"));
  EXPECT_TRUE(HasLine(text, "127.0.0.1 buildbox"));
  for (const char* name : {"demo-2.demo-headless.ns1.svc.cluster.local",
                           "demo-2.demo-headless.ns1.svc", "demo-2.demo-headless"}) {
    EXPECT_TRUE(HasLine(text, std::string("127.42.0.2 ") + name)) << name;
  }
  // Another namespace's pod: only qualified names.
  EXPECT_TRUE(HasLine(text, "127.42.0.9 other-1.other-headless.ns2.svc.cluster.local"));
  EXPECT_FALSE(HasLine(text, "127.42.0.9 other-1.other-headless"));
  // publishNotReadyAddresses lists both; a plain service only the ready pod.
  EXPECT_TRUE(HasLine(text, "127.42.0.1 demo-headless.ns1.svc.cluster.local"));
  EXPECT_TRUE(HasLine(text, "127.42.0.2 demo-headless.ns1.svc.cluster.local"));
  EXPECT_TRUE(HasLine(text, "127.42.0.1 demo-client.ns1.svc.cluster.local"));
  EXPECT_TRUE(HasLine(text, "127.42.0.1 demo-client.ns1.svc"));
  EXPECT_TRUE(HasLine(text, "127.42.0.1 demo-client.ns1"));
  EXPECT_TRUE(HasLine(text, "127.42.0.1 demo-client"));
  EXPECT_FALSE(HasLine(text, "127.42.0.2 demo-client.ns1.svc.cluster.local"));
  EXPECT_EQ(text.find("manual"), std::string::npos);
  EXPECT_EQ(text.find("pending"), std::string::npos);

  // Seen from the other namespace, bare service names are not there.
  const std::string other = RenderHostsFile(pods, services, pods[2], "cluster.local", "buildbox");
  EXPECT_FALSE(HasLine(other, "127.42.0.1 demo-client"));
  EXPECT_TRUE(HasLine(other, "127.42.0.1 demo-client.ns1"));
  // Deterministic.
  EXPECT_EQ(text, RenderHostsFile(pods, services, pods[0], "cluster.local", "buildbox"));
}

TEST(HostsFileTest, WritesAtomically) {
  zkop::testing::TempDir dir("hosts-file-test");
  std::string error;
  const std::string path = dir.Path("hosts");
  ASSERT_TRUE(WriteFileAtomically(path, "a\n", 0644, &error)) << error;
  ASSERT_TRUE(WriteFileAtomically(path, "b\n", 0644, &error)) << error;
  EXPECT_EQ(zkop::testing::ReadFile(path), "b\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  EXPECT_FALSE(WriteFileAtomically(dir.Path("missing/hosts"), "x", 0644, &error));
  EXPECT_NE(error.find("missing/hosts"), std::string::npos);
}

}  // namespace
}  // namespace zkop::devkube::pods
