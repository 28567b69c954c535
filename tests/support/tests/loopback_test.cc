#include "zkop/testing/loopback.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

namespace zkop::testing {
namespace {

TEST(LoopbackTest, PicksDistinctBindableAddresses) {
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    std::string ip = PickLoopbackAddress({2181, 2888, 3888});
    EXPECT_EQ(ip.rfind("127.", 0), 0u) << ip;
    EXPECT_TRUE(seen.insert(ip).second) << ip;
    EXPECT_TRUE(CanBind(ip, 2181));
  }
}

TEST(LoopbackTest, BusyPortIsDetected) {
  std::string ip = PickLoopbackAddress({});
  int port = PickFreePort(ip);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  EXPECT_FALSE(CanBind(ip, port));
  close(fd);
}

}  // namespace
}  // namespace zkop::testing
