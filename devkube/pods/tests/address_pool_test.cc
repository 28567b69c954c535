#include "zkop/devkube/pods/address_pool.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <stdexcept>

#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods {
namespace {

auto NothingBound = [](const std::string&) { return false; };

TEST(AddressPoolTest, LeasesAreExclusiveAcrossPoolsAndStickyPerName) {
  zkop::testing::TempDir locks("pod-address-test");
  // A /29 has six usable addresses.
  AddressPool a("127.99.7.0/29", locks.path(), NothingBound);
  AddressPool b("127.99.7.0/29", locks.path(), NothingBound);
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto x = a.Acquire("ns/a" + std::to_string(i));
    auto y = b.Acquire("ns/b" + std::to_string(i));
    ASSERT_TRUE(x && y);
    EXPECT_TRUE(seen.insert(*x).second) << *x;
    EXPECT_TRUE(seen.insert(*y).second) << *y;
  }
  for (const auto& ip : seen) {
    EXPECT_EQ(ip.rfind("127.99.7.", 0), 0u);
    EXPECT_NE(ip, "127.99.7.0");
    EXPECT_NE(ip, "127.99.7.7");
  }
  EXPECT_FALSE(a.Acquire("ns/full"));  // exhausted: every address is leased by a or b
  EXPECT_FALSE(b.Acquire("ns/full"));
}

TEST(AddressPoolTest, ANameGetsItsAddressBack) {
  zkop::testing::TempDir locks("pod-address-test");
  AddressPool pool("127.99.8.0/24", locks.path(), NothingBound);
  const std::string ip = *pool.Acquire("zk/demo-1");
  auto other = pool.Acquire("zk/demo-2");
  pool.Release(ip);
  EXPECT_EQ(*pool.Acquire("zk/demo-1"), ip);
  EXPECT_NE(*other, ip);
}

TEST(AddressPoolTest, SkipsAddressesInUse) {
  zkop::testing::TempDir locks("pod-address-test");
  AddressPool pool("127.99.9.0/30", locks.path(),
                   [](const std::string& ip) { return ip == "127.99.9.1"; });
  EXPECT_EQ(*pool.Acquire("x"), "127.99.9.2");
  EXPECT_FALSE(pool.Acquire("y"));
}

TEST(AddressPoolTest, RejectsRangesOutsideLoopback) {
  zkop::testing::TempDir locks("pod-address-test");
  for (const char* bad : {"10.0.0.0/8", "127.0.0.0", "127.0.0.0/31", "127.0.0.0/x", "nonsense"}) {
    try {
      AddressPool pool(bad, locks.path(), NothingBound);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("expected a CIDR inside 127.0.0.0/8"), std::string::npos)
          << e.what();
    }
  }
}

TEST(AddressPoolTest, TcpBoundSeesListeners) {
  EXPECT_FALSE(AddressPool::TcpBound("127.99.10.77"));
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(*ParseIPv4("127.99.10.77"));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  EXPECT_TRUE(AddressPool::TcpBound("127.99.10.77"));
  ::close(fd);
  EXPECT_FALSE(AddressPool::TcpBound("127.99.10.77"));
}

}  // namespace
}  // namespace zkop::devkube::pods
