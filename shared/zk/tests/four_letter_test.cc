#include "zkop/zk/four_letter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace zkop::zk {
namespace {

using std::chrono::milliseconds;

constexpr char kSrvrLeader[] =
    "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
    "Latency min/avg/max: 0/0.0/0\nReceived: 2\nSent: 1\nConnections: 1\nOutstanding: 0\n"
    "Zxid: 0x100000004\nMode: leader\nNode count: 5\n"
    "Proposal sizes last/min/max: -1/-1/-1\n";

TEST(FourLetterTest, ParsesSrvr) {
  ServerInfo info;
  Status s = ParseSrvr(kSrvrLeader, &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.mode, ServerMode::kLeader);
  EXPECT_EQ(info.zxid, 0x100000004);
  EXPECT_EQ(info.connections, 1);
  EXPECT_EQ(info.node_count, 5);
  EXPECT_NE(info.version.find("3.8.0"), std::string::npos);
}

TEST(FourLetterTest, SrvrOfANonServingServerIsAParseErrorQuotingIt) {
  ServerInfo info;
  Status s = ParseSrvr("This ZooKeeper instance is not currently serving requests\n", &info);
  EXPECT_EQ(s.code(), Error::kParseError);
  EXPECT_NE(s.detail().find("not currently serving"), std::string::npos) << s.detail();
}

TEST(FourLetterTest, ParsesMntr) {
  auto m =
      ParseMntr("zk_version\t3.8.0\nzk_server_state\tfollower\nzk_znode_count\t5\nnot a pair\n");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m["zk_server_state"], "follower");
  EXPECT_EQ(ParseServerMode(m["zk_server_state"]), ServerMode::kFollower);
  EXPECT_EQ(ParseServerMode("standalone"), ServerMode::kStandalone);
  EXPECT_EQ(ParseServerMode("whatever"), ServerMode::kUnknown);
}

// A one-shot TCP server on 127.0.0.1: answers with `reply` (or stays silent).
class FakeServer {
 public:
  explicit FakeServer(std::string reply, bool silent = false)
      : reply_(std::move(reply)), silent_(silent) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[16];
      ssize_t n = recv(c, buf, sizeof buf, 0);
      received_.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
      if (!silent_) {
        (void)!send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      } else {
        while (!stop_.load()) std::this_thread::sleep_for(milliseconds(10));
      }
      close(c);
    });
  }
  ~FakeServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& received() const { return received_; }

 private:
  std::string reply_;
  bool silent_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::string received_;
  std::thread thread_;
};

TEST(FourLetterTest, SendsTheWordAndReadsTheAnswer) {
  FakeServer server("imok");
  FourLetterResult r = FourLetterWord(server.address(), "ruok", milliseconds(2000));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.text, "imok");
}

TEST(FourLetterTest, ANameGoesThroughTheResolverAndABadPortIsRefused) {
  FakeServer server("imok");
  const std::string port = server.address().substr(server.address().rfind(':') + 1);
  FourLetterResult r = FourLetterWord("localhost:" + port, "ruok", milliseconds(2000));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.text, "imok");
  for (const char* bad : {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http", "[::1]:-1"}) {
    EXPECT_EQ(FourLetterWord(bad, "ruok", milliseconds(500)).status.code(), Error::kBadArguments)
        << bad;
  }
}

TEST(FourLetterTest, IsServingAndQueryServer) {
  {
    FakeServer server("imok");
    EXPECT_TRUE(IsServing(server.address(), milliseconds(2000)));
  }
  FakeServer server(kSrvrLeader);
  ServerInfo info;
  Status s = QueryServer(server.address(), milliseconds(2000), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.mode, ServerMode::kLeader);
}

TEST(FourLetterTest, WordNotWhitelistedIsNoAuth) {
  FakeServer server("mntr is not executed because it is not in the whitelist.\n");
  FourLetterResult r = FourLetterWord(server.address(), "mntr", milliseconds(2000));
  EXPECT_EQ(r.status.code(), Error::kNoAuth);
  EXPECT_NE(r.status.detail().find("whitelist"), std::string::npos);
}

TEST(FourLetterTest, SilentServerTimesOutWithinTheDeadline) {
  FakeServer server("", /*silent=*/true);
  auto start = std::chrono::steady_clock::now();
  FourLetterResult r = FourLetterWord(server.address(), "srvr", milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status.code(), Error::kOperationTimeout);
  EXPECT_NE(r.status.detail().find(server.address()), std::string::npos) << r.status.detail();
  EXPECT_LT(took, milliseconds(1500));
}

TEST(FourLetterTest, RefusedConnectionNamesTheAddress) {
  // Bind a port, then close it: nothing listens there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  std::string where = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  FourLetterResult r = FourLetterWord(where, "ruok", milliseconds(1000));
  EXPECT_EQ(r.status.code(), Error::kIoError);
  EXPECT_NE(r.status.detail().find(where), std::string::npos);
  EXPECT_NE(r.status.detail().find("refused"), std::string::npos) << r.status.detail();
  EXPECT_EQ(FourLetterWord("no-port", "ruok", milliseconds(100)).status.code(),
            Error::kBadArguments);
}

}  // namespace
}  // namespace zkop::zk
