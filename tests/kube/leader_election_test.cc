// Leader election with two contenders on one Lease in the devkube emulator:
// takeover when the holder stops renewing (its network blocked), the blocked
// holder stepping down before anyone else leads, and release on shutdown.
#include "zkop/kube/leader_election.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube_test_env.h"

namespace zkop::kube {
namespace {

using Clock = std::chrono::steady_clock;
using testing::KubeEnv;

struct Candidate {
  std::string id;
  std::shared_ptr<testing::FaultTransport> transport;
  std::unique_ptr<LeaderElector> elector;
  std::jthread thread;
  std::mutex mu;
  std::vector<std::string> leaders_seen;
  std::optional<Clock::time_point> started, stopped, work_stopped;
  std::atomic<bool> returned{false};

  void Run() {
    thread = std::jthread([this](std::stop_token stop) {
      elector->Run(stop);
      returned = true;
    });
  }
};

class LeaderElectionTest : public KubeEnv {
 protected:
  std::unique_ptr<Candidate> NewCandidate(const std::string& id) {
    auto c = std::make_unique<Candidate>();
    c->id = id;
    auto [transport, client] = NewClient();
    c->transport = transport;
    LeaderElectionConfig cfg;
    cfg.lease_namespace = "default";
    cfg.lease_name = "zkop-operator";
    cfg.identity = id;
    // renew_deadline .. lease_duration is the safety margin between the old
    // leader stepping down and a new one taking over: generous, for loaded CI.
    cfg.lease_duration = std::chrono::seconds(3);
    cfg.renew_deadline = std::chrono::milliseconds(1500);
    cfg.retry_period = std::chrono::milliseconds(250);
    Candidate* raw = c.get();
    cfg.on_started_leading = [raw](std::stop_token token) {
      {
        std::lock_guard<std::mutex> lock(raw->mu);
        raw->started = Clock::now();
      }
      while (!token.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::lock_guard<std::mutex> lock(raw->mu);
      raw->work_stopped = Clock::now();
    };
    cfg.on_stopped_leading = [raw] {
      std::lock_guard<std::mutex> lock(raw->mu);
      raw->stopped = Clock::now();
    };
    cfg.on_new_leader = [raw](const std::string& leader) {
      std::lock_guard<std::mutex> lock(raw->mu);
      raw->leaders_seen.push_back(leader);
    };
    c->elector = std::make_unique<LeaderElector>(client, cfg);
    return c;
  }

  Json Lease() {
    Result<Json> r = client_->Get(resources::Leases(), "default", "zkop-operator");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value().at("spec") : Json();
  }

  static bool WaitUntil(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
  }
};

TEST_F(LeaderElectionTest, TakeoverWhenTheHolderCannotRenew) {
  auto a = NewCandidate("a");
  auto b = NewCandidate("b");
  a->Run();
  ASSERT_TRUE(WaitUntil([&] { return a->elector->IsLeader(); }, std::chrono::seconds(5)));
  Json spec = Lease();
  EXPECT_EQ(spec.at("holderIdentity").as_string(), "a");
  EXPECT_EQ(spec.at("leaseDurationSeconds").as_integer(), 3);
  EXPECT_EQ(spec.at("leaseTransitions").as_integer(), 0);

  b->Run();
  std::this_thread::sleep_for(std::chrono::milliseconds(3300));  // longer than the lease
  EXPECT_FALSE(b->elector->IsLeader()) << "a renews, so b must keep waiting";
  EXPECT_EQ(b->elector->Leader(), "a");
  {
    std::lock_guard<std::mutex> lock(b->mu);
    EXPECT_EQ(b->leaders_seen, std::vector<std::string>{"a"});
  }
  std::string renew_before = Lease().at("renewTime").as_string();
  EXPECT_NE(renew_before, spec.at("renewTime").as_string()) << "a renewed its lease";

  // a's network goes away: it must step down within the renew deadline, and b
  // may only take over once the lease has expired on b's clock.
  auto blocked_at = Clock::now();
  a->transport->SetBlocked(true);
  ASSERT_TRUE(WaitUntil([&] { return a->returned.load(); }, std::chrono::seconds(5)));
  EXPECT_FALSE(a->elector->IsLeader());
  ASSERT_TRUE(WaitUntil([&] { return b->elector->IsLeader(); }, std::chrono::seconds(8)));
  std::lock_guard<std::mutex> la(a->mu);
  std::lock_guard<std::mutex> lb(b->mu);
  ASSERT_TRUE(a->stopped && a->work_stopped && b->started);
  // Renew deadline + one retry period (+ scheduling slack).
  EXPECT_LE(*a->stopped - blocked_at, std::chrono::milliseconds(1500 + 250 + 1000));
  EXPECT_LT(*a->stopped, *b->started) << "never two leaders at once";
  EXPECT_LE(*a->work_stopped, *a->stopped);
  EXPECT_EQ(b->leaders_seen, (std::vector<std::string>{"a", "b"}));

  Json after = Lease();
  EXPECT_EQ(after.at("holderIdentity").as_string(), "b");
  EXPECT_EQ(after.at("leaseTransitions").as_integer(), 1);
  EXPECT_NE(after.at("acquireTime").as_string(), spec.at("acquireTime").as_string());
}

TEST_F(LeaderElectionTest, ReleaseOnStopLetsTheNextCandidateInAtOnce) {
  auto a = NewCandidate("a");
  a->Run();
  ASSERT_TRUE(WaitUntil([&] { return a->elector->IsLeader(); }, std::chrono::seconds(5)));
  auto b = NewCandidate("b");
  b->Run();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(b->elector->IsLeader());

  a->thread.request_stop();
  a->thread.join();
  EXPECT_TRUE(a->stopped.has_value());
  EXPECT_EQ(Lease().at("holderIdentity").as_string(), "");
  auto released = Clock::now();
  // The released lease is free: b takes it on its next try, not after 3 s.
  ASSERT_TRUE(WaitUntil([&] { return b->elector->IsLeader(); }, std::chrono::seconds(3)));
  EXPECT_LT(Clock::now() - released, std::chrono::milliseconds(1200));
  EXPECT_EQ(Lease().at("leaseTransitions").as_integer(), 1);
}

TEST(LeaderElectionConfigTest, InconsistentTimingsAreRejected) {
  auto client = std::make_shared<Client>(nullptr, "default");
  LeaderElectionConfig cfg;
  cfg.lease_namespace = "ns";
  cfg.lease_name = "lease";
  cfg.identity = "me";
  cfg.renew_deadline = cfg.lease_duration;
  EXPECT_THROW(LeaderElector(client, cfg), std::invalid_argument);
  cfg.renew_deadline = std::chrono::seconds(10);
  cfg.retry_period = std::chrono::seconds(10);
  EXPECT_THROW(LeaderElector(client, cfg), std::invalid_argument);
  cfg.retry_period = std::chrono::seconds(2);
  cfg.identity.clear();
  EXPECT_THROW(LeaderElector(client, cfg), std::invalid_argument);
}

}  // namespace
}  // namespace zkop::kube
