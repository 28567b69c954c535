// Issue 11 #2 and #3 against a real ensemble with 1,000 services:
//  - SIGKILL the agent and start it again at once: the restarted agent replaces the old
//    agent's nodes (other pid/timestamp, another session) at once — no provider is listed
//    twice while the old session lives on;
//  - SIGSTOP the whole ensemble past the session timeout, SIGCONT: every node is back
//    within 1 s of the new session, in every trial (ZKOP_EXPIRY_TRIALS, default 3; the
//    figures in docs/benchmarks.md are from 10).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "harness.h"
#include "zkop/testing/loopback.h"
#include "zkop/zk/four_letter.h"

namespace zkop::agent::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::TempDir;

constexpr int kServices = 1000;

class AgentRestart : public SharedEnsembleTest {
 protected:
  void SetUp() override {
    root_ = "/dubbo-restart-" + UniqueSuffix();
    addr_ = zkop::testing::PickLoopbackAddress({});
    client_ = Connect(ensemble_->ConnectString());
  }
  std::string Config(int port, const std::string& session_timeout) {
    std::ostringstream y;
    y << "zookeeper:\n  connect: " << ensemble_->ConnectString()
      << "\n  sessionTimeout: " << session_timeout << "\n  root: " << root_
      << "\napplication: restart-provider\nhost: " << addr_
      << "\nprobeInterval: 1s\nverifyInterval: 10s\nmetricsAddress: \"\"\nservices:\n";
    for (int i = 0; i < kServices; ++i) {
      y << "  - {interface: org.apache.dubbo.restart.Service" << i
        << ", version: 1.0.0, methods: [get], port: " << port << "}\n";
    }
    return dir_.Write("agent.yaml", y.str());
  }
  // Provider nodes per interface directory, and how many directories have more than one.
  struct Count {
    size_t nodes = 0;
    size_t duplicated = 0;
  };
  Count CountNodes() {
    Count c;
    for (const std::string& iface : Children(*client_, root_)) {
      size_t n = Children(*client_, root_ + "/" + iface + "/providers").size();
      c.nodes += n;
      if (n > 1) ++c.duplicated;
    }
    return c;
  }
  // zk_ephemerals_count of the leader (a follower that is re-syncing after the pause may
  // still show the old tree), -1 while there is none.
  int64_t Ephemerals() {
    int leader = ensemble_->Leader();
    if (leader == 0) return -1;
    auto r = zk::FourLetterWord(ensemble_->ClientAddress(leader), "mntr", 1s);
    if (!r.status.ok()) return -1;
    auto m = zk::ParseMntr(r.text);
    return m.count("zk_ephemerals_count") ? std::stoll(m["zk_ephemerals_count"]) : -1;
  }

  TempDir dir_{"agent-restart"};
  std::string root_, addr_;
  std::unique_ptr<zk::Client> client_;
};

TEST_F(AgentRestart, SigkillAndImmediateRestartLeavesNoDuplicates) {
  FakeProvider provider(dir_, "restart-provider", addr_, 0);
  ASSERT_TRUE(provider.bound());
  // A long session timeout: the killed agent's session (and nodes) outlive the test window.
  std::string config = Config(provider.port(), "20s");
  auto first = std::make_unique<AgentProcess>(dir_, config);
  ASSERT_TRUE(Eventually([&] { return CountNodes().nodes == kServices; }, 60s)) << first->Log();
  std::this_thread::sleep_for(1100ms);  // the restart's timestamps differ from the first's
  first->process().Signal(SIGKILL);
  first->process().Wait(5s);
  auto killed = std::chrono::steady_clock::now();
  AgentProcess second(dir_, config);
  // The old session lives for 20 s: whatever goes within the next 10 s is the new agent's doing.
  Count c;
  bool clean = Eventually(
      [&] {
        c = CountNodes();
        return c.nodes == kServices && c.duplicated == 0 && Ephemerals() == kServices;
      },
      10s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  std::cout << "[ restart  ] duplicates after restart: "
            << c.nodes - std::min<size_t>(c.nodes, kServices) << " nodes in " << c.duplicated
            << " directories; clean " << took.count()
            << " ms after the SIGKILL (old session alive for 20 s)\n";
  ASSERT_TRUE(clean) << "nodes " << c.nodes << ", directories with duplicates " << c.duplicated
                     << "\n"
                     << second.Log();
  EXPECT_LT(took, 10s);
  // It stays so: nothing is re-created behind it.
  std::this_thread::sleep_for(1500ms);
  c = CountNodes();
  EXPECT_EQ(c.nodes, static_cast<size_t>(kServices));
  EXPECT_EQ(c.duplicated, 0u);
  EXPECT_NE(second.Log().find("agent: registering"), std::string::npos);
}

// The time of the last "ZooKeeper session established" line of a text log, or nullopt.
std::optional<std::chrono::system_clock::time_point> LastNewSession(const std::string& log) {
  size_t at = log.rfind("ZooKeeper session established");
  if (at == std::string::npos) return std::nullopt;
  size_t line = log.rfind('\n', at);
  line = line == std::string::npos ? 0 : line + 1;
  std::tm tm{};
  int millis = 0;
  std::istringstream in(log.substr(line, 24));
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  char dot = 0;
  in >> dot >> millis;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

TEST_F(AgentRestart, AfterExpiryEveryNodeIsBackWithinOneSecondOfTheNewSession) {
  int trials = 3;
  if (const char* t = std::getenv("ZKOP_EXPIRY_TRIALS")) trials = std::max(1, std::atoi(t));
  FakeProvider provider(dir_, "restart-provider", addr_, 0);
  ASSERT_TRUE(provider.bound());
  AgentProcess agent(dir_, Config(provider.port(), "4s"));
  ASSERT_TRUE(Eventually([&] { return Ephemerals() == kServices; }, 60s)) << agent.Log();
  std::vector<double> restore_ms;
  int survived = 0;
  for (int trial = 0; trial < trials; ++trial) {
    auto before = LastNewSession(agent.Log());
    for (int id : ensemble_->Ids()) ensemble_->Pause(id);
    std::this_thread::sleep_for(6s);  // past the 4 s session timeout
    for (int id : ensemble_->Ids()) ensemble_->Resume(id);
    ASSERT_TRUE(ensemble_->WaitForQuorum(60s));
    std::optional<std::chrono::system_clock::time_point> session;
    bool back = Eventually(
        [&] {
          session = LastNewSession(agent.Log());
          return session && session != before && Ephemerals() == kServices;
        },
        20s);
    auto full = std::chrono::system_clock::now();
    if (!back && Ephemerals() == kServices) {  // the session survived (an election reset it)
      ++survived;
      continue;
    }
    ASSERT_TRUE(back) << "trial " << trial << ": ephemerals " << Ephemerals() << "\n"
                      << agent.Log().substr(agent.Log().size() > 6000 ? agent.Log().size() - 6000
                                                                      : 0);
    double ms = std::chrono::duration<double, std::milli>(full - *session).count();
    restore_ms.push_back(ms);
    std::cout << "[ expiry   ] trial " << trial << ": every node back " << ms
              << " ms after the new session\n";
  }
  ASSERT_FALSE(restore_ms.empty()) << "no trial expired the session (" << survived << " survived)";
  double worst = *std::max_element(restore_ms.begin(), restore_ms.end());
  std::cout << "[ expiry   ] worst of " << restore_ms.size() << " trials: " << worst << " ms ("
            << survived << " trials kept their session)\n";
  // The 1 s target is a speed figure: measured by hand on a quiet machine and written up in
  // docs/benchmarks.md (ZKOP_EXPIRY_TRIALS=10 ZKOP_EXPIRY_TARGET_MS=1000), not asserted in
  // `make test`, where other suites' JVMs share the two cores. Here: every node comes back.
  if (const char* target = std::getenv("ZKOP_EXPIRY_TARGET_MS")) {
    std::string log = agent.Log();
    EXPECT_LT(worst, std::stod(target)) << log.substr(log.size() > 20000 ? log.size() - 20000 : 0);
  }
}

}  // namespace
}  // namespace zkop::agent::testing
