#include "zkop/agent/syncer.h"

#include <gtest/gtest.h>

#include "fake_registry.h"

namespace zkop::agent {
namespace {

using testing::FakeRegistry;

std::map<std::string, std::string> Desired(int n, size_t pad = 0,
                                           const std::string& iface = "a.B") {
  std::map<std::string, std::string> d;
  for (int i = 0; i < n; ++i) {
    d["/dubbo/" + iface + "/providers/dubbo%3A%2F%2F10.0.0.1%3A" + std::to_string(20000 + i) +
      std::string(pad, 'x')] = "10.0.0.1";
  }
  return d;
}

std::set<std::string> Ephemerals(FakeRegistry& reg) {
  std::set<std::string> out;
  for (const auto& [id, paths] : reg.EphemeralsBySession()) out.insert(paths.begin(), paths.end());
  return out;
}

std::set<std::string> Keys(const std::map<std::string, std::string>& m) {
  std::set<std::string> out;
  for (const auto& [k, v] : m) out.insert(k);
  return out;
}

TEST(Syncer, CreatesInBatchesWithPersistentParents) {
  FakeRegistry reg;
  SyncOptions o;
  o.batch_size = 100;
  Syncer s(&reg, o, [] {});
  auto desired = Desired(1000);
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  auto nodes = reg.Nodes();
  EXPECT_EQ(nodes.at("/dubbo").owner, 0);
  EXPECT_EQ(nodes.at("/dubbo/a.B/providers").owner, 0);
  EXPECT_EQ(reg.multis(), 10u);  // 1000 nodes / 100 per multi
  EXPECT_TRUE(s.stats().last_sync_ok);
  EXPECT_EQ(s.stats().shards.size(), 1u);
  EXPECT_EQ(s.stats().shards[0].owned, 1000u);
  // Steady state: nothing to do, no more multis.
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(reg.multis(), 10u);
}

TEST(Syncer, RemovesWhatIsNoLongerDesired) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  auto desired = Desired(10);
  ASSERT_TRUE(s.Sync(desired));
  desired.erase(desired.begin());
  desired.erase(desired.begin());
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  ASSERT_TRUE(s.Sync({}));
  EXPECT_TRUE(Ephemerals(reg).empty());
  EXPECT_TRUE(reg.Nodes().count("/dubbo/a.B/providers"));  // parents are persistent
}

TEST(Syncer, KeepsEverySessionUnderThePathBudget) {
  FakeRegistry reg;
  SyncOptions o;
  o.path_budget = 512 * 1024;
  Syncer s(&reg, o, [] {});
  auto desired = Desired(10000, 230);  // ~290-byte paths, ~2.9 MB in all
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  auto by_session = reg.EphemeralsBySession();
  EXPECT_GE(by_session.size(), 6u);
  for (const auto& [id, paths] : by_session) {
    size_t bytes = 0;
    for (const auto& p : paths) bytes += p.size();
    EXPECT_LE(bytes, 512u * 1024) << "session " << id;
  }
  auto stats = s.stats();
  EXPECT_EQ(stats.shards.size(), by_session.size());
  for (const auto& sh : stats.shards) EXPECT_LE(sh.path_bytes, 512 * 1024);
  // Shrinking closes the extra sessions.
  ASSERT_TRUE(s.Sync(Desired(10, 230)));
  EXPECT_EQ(s.stats().shards.size(), 1u);
  EXPECT_EQ(reg.EphemeralsBySession().size(), 1u);
}

TEST(Syncer, RestoresEverythingAfterSessionExpiry) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  auto desired = Desired(50);
  ASSERT_TRUE(s.Sync(desired));
  int64_t old_id = s.stats().shards.at(0).session_id;
  reg.Expire(old_id);
  EXPECT_TRUE(Ephemerals(reg).empty());
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_NE(s.stats().shards.at(0).session_id, old_id);
  EXPECT_EQ(reg.EphemeralsBySession().begin()->first, s.stats().shards.at(0).session_id);
  EXPECT_EQ(s.stats().expirations, 1u);
}

TEST(Syncer, VerifyRestoresDeletedAndReplacesStaleNodes) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  auto desired = Desired(5);
  auto it = desired.begin();
  std::string deleted = it->first;
  std::string stale = (++it)->first;
  reg.CreateStale(stale, "old");  // left by an earlier agent session
  ASSERT_TRUE(s.Sync(desired));
  int64_t me = s.stats().shards.at(0).session_id;
  EXPECT_EQ(reg.Nodes().at(stale).owner, me);

  reg.ExternalDelete(deleted);
  EXPECT_EQ(s.Verify(), 1u);
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(reg.Nodes().at(deleted).owner, me);
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
}

TEST(Syncer, LostAnswerIsResolvedByOwnership) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  auto desired = Desired(20);
  ASSERT_TRUE(s.Sync({}));
  reg.FailNext(1, RegError::kConnectionLoss, /*apply=*/true);  // the multi is applied
  s.Sync(desired);
  ASSERT_TRUE(s.Sync(desired));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_EQ(s.stats().shards.at(0).owned, 20u);
}

TEST(Syncer, DisconnectedKeepsSessionAndCountsReconnect) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  auto desired = Desired(3);
  ASSERT_TRUE(s.Sync(desired));
  reg.SetConnected(false);
  SyncOptions o;
  auto more = Desired(4);
  EXPECT_FALSE(s.Sync(more));
  EXPECT_FALSE(s.SessionsUp());
  reg.SetConnected(true);
  ASSERT_TRUE(s.Sync(more));
  EXPECT_EQ(Ephemerals(reg), Keys(more));
  EXPECT_EQ(s.stats().reconnects, 1u);
  EXPECT_EQ(s.stats().expirations, 0u);
}

TEST(Syncer, ErrorsAreCountedByReasonAndRetried) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  ASSERT_TRUE(s.Sync({}));
  reg.FailNext(1, RegError::kOther);
  EXPECT_FALSE(s.Sync(Desired(2)));
  EXPECT_GE(s.stats().errors.at("other"), 1u);
  EXPECT_FALSE(s.stats().last_sync_ok);
  ASSERT_TRUE(s.Sync(Desired(2)));
  EXPECT_EQ(Ephemerals(reg), Keys(Desired(2)));
}

TEST(Syncer, ChangedDataIsRewritten) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  std::map<std::string, std::string> d = {{"/services/app/10.0.0.1:20880", "{\"v\":1}"}};
  ASSERT_TRUE(s.Sync(d));
  d.begin()->second = "{\"v\":2}";
  ASSERT_TRUE(s.Sync(d));
  EXPECT_EQ(reg.Nodes().at("/services/app/10.0.0.1:20880").data, "{\"v\":2}");
}

TEST(Syncer, RemoveAllDeletesThenCloses) {
  FakeRegistry reg;
  Syncer s(&reg, {}, [] {});
  ASSERT_TRUE(s.Sync(Desired(30)));
  EXPECT_TRUE(s.RemoveAll(std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  EXPECT_TRUE(Ephemerals(reg).empty());
  EXPECT_EQ(reg.closes(), 1u);
}

}  // namespace
}  // namespace zkop::agent
