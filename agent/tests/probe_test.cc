#include "zkop/agent/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace zkop::agent {
namespace {

constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:5150 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1111 1 0\n"
    "   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "2222 1 0\n"
    "   2: 0100007F:5150 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 "
    "3333 1 0\n";
constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st tx_queue "
    "rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:5151 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 4444 1 0\n";

TEST(ProcProbe, ParsesListenSocketsOnly) {
  std::vector<Listener> out;
  ASSERT_TRUE(ProcProbe::ParseNetTcp(kTcp, false, &out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].address, "127.0.0.1");
  EXPECT_EQ(out[0].port, 20816);
  EXPECT_EQ(out[0].inode, 1111u);
  EXPECT_EQ(out[1].address, "0.0.0.0");
  EXPECT_EQ(out[1].port, 8080);
  ASSERT_TRUE(ProcProbe::ParseNetTcp(kTcp6, true, &out));
  EXPECT_EQ(out[2].address, "::");
  EXPECT_EQ(out[2].port, 20817);
  EXPECT_FALSE(ProcProbe::ParseNetTcp("header\n 0: zz\n", false, &out));
}

TEST(ProcProbe, MapsInodesToPidsInAFakeProcTree) {
  char tmpl[] = "/tmp/zkop-proc-XXXXXX";
  std::string root = mkdtemp(tmpl);
  mkdir((root + "/net").c_str(), 0755);
  std::ofstream(root + "/net/tcp") << kTcp;
  std::ofstream(root + "/net/tcp6") << kTcp6;
  mkdir((root + "/42").c_str(), 0755);
  mkdir((root + "/42/fd").c_str(), 0755);
  ASSERT_EQ(symlink("socket:[1111]", (root + "/42/fd/7").c_str()), 0);
  ASSERT_EQ(symlink("/dev/null", (root + "/42/fd/0").c_str()), 0);
  std::ofstream(root + "/42/cmdline") << std::string("java\0-jar\0orders.jar\0", 22);
  ASSERT_EQ(symlink("/srv/orders", (root + "/42/cwd").c_str()), 0);

  ProcProbe probe(root);
  ListenTable t = probe.Probe();
  EXPECT_EQ(t.error, "");
  ASSERT_TRUE(t.Listening(20816));
  EXPECT_EQ(t.by_port.at(20816)[0].pid, 42);
  EXPECT_EQ(t.by_port.at(8080)[0].pid, 0);  // not visible
  EXPECT_TRUE(t.Listening(20817));
  auto info = probe.Describe(42);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->cmdline, "java -jar orders.jar");
  EXPECT_EQ(info->cwd, "/srv/orders");
  EXPECT_FALSE(probe.Describe(43));
  std::system(("rm -rf " + root).c_str());
}

TEST(ProcProbe, SeesARealListenerAndItsPid) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ProcProbe probe;
  ListenTable t = probe.Probe();
  ASSERT_TRUE(t.Listening(port));
  EXPECT_EQ(t.by_port.at(port)[0].pid, getpid());
  close(fd);
  EXPECT_FALSE(probe.Probe().Listening(port));
}

}  // namespace
}  // namespace zkop::agent
