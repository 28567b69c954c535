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
  LiteralNodes lit;
  Syncer s(&reg, &lit, o, [] {});
  auto desired = Desired(1000);
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  auto nodes = reg.Nodes();
  EXPECT_EQ(nodes.at("/dubbo").owner, 0);
  EXPECT_EQ(nodes.at("/dubbo/a.B/providers").owner, 0);
  // 1000 nodes and their 3 new parents (in the first multi, before the nodes) / 100 per multi.
  EXPECT_EQ(reg.multis(), 11u);
  EXPECT_TRUE(s.stats().last_sync_ok);
  EXPECT_EQ(s.stats().shards.size(), 1u);
  EXPECT_EQ(s.stats().shards[0].owned, 1000u);
  // Steady state: nothing to do, no more multis.
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(reg.multis(), 11u);
}

// Many interfaces, like a real registry root.
std::map<std::string, std::string> ManyInterfaces(int interfaces, int per_interface,
                                                  size_t pad = 0) {
  std::map<std::string, std::string> d;
  for (int k = 0; k < interfaces; ++k) {
    auto part = Desired(per_interface, pad, "i.S" + std::to_string(k));
    d.insert(part.begin(), part.end());
  }
  return d;
}

TEST(Syncer, ParentsPresentMeansOnlyTheNodesAreCreated) {
  FakeRegistry reg;
  auto desired = ManyInterfaces(40, 5);
  for (int k = 0; k < 40; ++k) reg.ExternalCreate("/dubbo/i.S" + std::to_string(k) + "/providers");
  size_t nodes_before = reg.Nodes().size();
  SyncOptions o;
  o.batch_size = 50;
  LiteralNodes lit;
  Syncer s(&reg, &lit, o, [] {});
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_EQ(reg.Nodes().size(), nodes_before + desired.size());  // no parent re-created
  EXPECT_EQ(reg.multis(), 4u);  // 200 nodes / 50: not one op spent on parents
  // "/" and "/dubbo" were listed; the 40 interface directories were not (assumed).
  EXPECT_EQ(reg.reads(), 2u);
}

TEST(Syncer, AnAssumedParentThatIsMissingIsRepaired) {
  FakeRegistry reg;
  auto desired = ManyInterfaces(40, 5);
  // Every interface directory exists, but one has no providers directory yet.
  for (int k = 0; k < 40; ++k) {
    reg.ExternalCreate("/dubbo/i.S" + std::to_string(k) + (k == 7 ? "" : "/providers"));
  }
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_EQ(reg.Nodes().at("/dubbo/i.S7/providers").owner, 0);
  EXPECT_TRUE(s.stats().errors.empty());
}

TEST(Syncer, APartlyPresentTreeGetsOnlyWhatIsMissing) {
  FakeRegistry reg;
  auto desired = ManyInterfaces(3, 4);
  reg.ExternalCreate("/dubbo/i.S1/providers");  // another replica registered i.S1 before
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  // /dubbo, i.S1 and its providers were there; i.S0 and i.S2 got theirs in the same multi.
  EXPECT_EQ(reg.Nodes().size(), 3 + 4 + desired.size());
  EXPECT_EQ(reg.multis(), 1u);
}

TEST(Syncer, ANewParentNeededBySeveralSessionsIsCreatedOnce) {
  FakeRegistry reg;
  SyncOptions o;
  o.path_budget = 8 * 1024;  // ~100-byte paths: about 80 per session
  LiteralNodes lit;
  Syncer s(&reg, &lit, o, [] {});
  auto desired = Desired(400, 40, "one.Interface");  // all under one new directory
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_GE(reg.EphemeralsBySession().size(), 4u);
  EXPECT_TRUE(s.stats().errors.empty());
  EXPECT_TRUE(s.stats().last_sync_ok);
}

TEST(Syncer, RemovesWhatIsNoLongerDesired) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  auto desired = Desired(10);
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  desired.erase(desired.begin());
  desired.erase(desired.begin());
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  ASSERT_TRUE(s.Sync(lit.Keys({})));
  EXPECT_TRUE(Ephemerals(reg).empty());
  EXPECT_TRUE(reg.Nodes().count("/dubbo/a.B/providers"));  // parents are persistent
}

TEST(Syncer, ADeleteBatchWithANodeAlreadyGoneIsRedoneOneByOne) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  auto desired = Desired(10);
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  reg.ExternalDelete(desired.begin()->first);  // the batch's multi now fails with NoNode
  size_t multis = reg.multis();
  ASSERT_TRUE(s.Sync({}));
  EXPECT_TRUE(Ephemerals(reg).empty());
  EXPECT_EQ(reg.multis(), multis + 1 + desired.size());  // the batch, then one per node
  EXPECT_EQ(s.stats().shards.at(0).nodes, 0u);
}

TEST(Syncer, KeepsEverySessionUnderThePathBudget) {
  FakeRegistry reg;
  SyncOptions o;
  o.path_budget = 512 * 1024;
  LiteralNodes lit;
  Syncer s(&reg, &lit, o, [] {});
  auto desired = Desired(10000, 230);  // ~290-byte paths, ~2.9 MB in all
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
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
  ASSERT_TRUE(s.Sync(lit.Keys(Desired(10, 230))));
  EXPECT_EQ(s.stats().shards.size(), 1u);
  EXPECT_EQ(reg.EphemeralsBySession().size(), 1u);
}

TEST(Syncer, RestoresEverythingAfterSessionExpiry) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  auto desired = Desired(50);
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  int64_t old_id = s.stats().shards.at(0).session_id;
  reg.Expire(old_id);
  EXPECT_TRUE(Ephemerals(reg).empty());
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_NE(s.stats().shards.at(0).session_id, old_id);
  EXPECT_EQ(reg.EphemeralsBySession().begin()->first, s.stats().shards.at(0).session_id);
  EXPECT_EQ(s.stats().expirations, 1u);
}

TEST(Syncer, VerifyRestoresDeletedAndReplacesStaleNodes) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  auto desired = Desired(5);
  auto it = desired.begin();
  std::string deleted = it->first;
  std::string stale = (++it)->first;
  reg.CreateStale(stale, "old");  // left by an earlier agent session
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  int64_t me = s.stats().shards.at(0).session_id;
  EXPECT_EQ(reg.Nodes().at(stale).owner, me);

  reg.ExternalDelete(deleted);
  EXPECT_EQ(s.Verify(), 1u);
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(reg.Nodes().at(deleted).owner, me);
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
}

TEST(Syncer, LostAnswerIsResolvedByOwnership) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  auto desired = Desired(20);
  ASSERT_TRUE(s.Sync(lit.Keys({})));
  reg.FailNext(1, RegError::kConnectionLoss, /*apply=*/true);  // the multi is applied
  s.Sync(lit.Keys(desired));
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  EXPECT_EQ(Ephemerals(reg), Keys(desired));
  EXPECT_EQ(s.stats().shards.at(0).owned, 20u);
}

TEST(Syncer, DisconnectedKeepsSessionAndCountsReconnect) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  auto desired = Desired(3);
  ASSERT_TRUE(s.Sync(lit.Keys(desired)));
  reg.SetConnected(false);
  SyncOptions o;
  auto more = Desired(4);
  EXPECT_FALSE(s.Sync(lit.Keys(more)));
  EXPECT_FALSE(s.SessionsUp());
  reg.SetConnected(true);
  ASSERT_TRUE(s.Sync(lit.Keys(more)));
  EXPECT_EQ(Ephemerals(reg), Keys(more));
  EXPECT_EQ(s.stats().reconnects, 1u);
  EXPECT_EQ(s.stats().expirations, 0u);
}

TEST(Syncer, ErrorsAreCountedByReasonAndRetried) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  ASSERT_TRUE(s.Sync(lit.Keys({})));
  reg.FailNext(3, RegError::kOther);  // the parents' lookup, the multi, its repair
  EXPECT_FALSE(s.Sync(lit.Keys(Desired(2))));
  EXPECT_GE(s.stats().errors.at("other"), 1u);
  EXPECT_FALSE(s.stats().last_sync_ok);
  ASSERT_TRUE(s.Sync(lit.Keys(Desired(2))));
  EXPECT_EQ(Ephemerals(reg), Keys(Desired(2)));
}

TEST(Syncer, ChangedDataIsRewritten) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  std::map<std::string, std::string> d = {{"/services/app/10.0.0.1:20880", "{\"v\":1}"}};
  ASSERT_TRUE(s.Sync(lit.Keys(d)));
  d.begin()->second = "{\"v\":2}";
  ASSERT_TRUE(s.Sync(lit.Keys(d)));
  EXPECT_EQ(reg.Nodes().at("/services/app/10.0.0.1:20880").data, "{\"v\":2}");
}

TEST(Syncer, RemoveAllDeletesThenCloses) {
  FakeRegistry reg;
  LiteralNodes lit;
  Syncer s(&reg, &lit, {}, [] {});
  ASSERT_TRUE(s.Sync(lit.Keys(Desired(30))));
  EXPECT_TRUE(s.RemoveAll(std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  EXPECT_TRUE(Ephemerals(reg).empty());
  EXPECT_EQ(reg.closes(), 1u);
}

// Nodes named "<registration>@<incarnation>": the same registration under another name.
class IncarnatedNodes : public LiteralNodes {
 public:
  bool HasIncarnations(const NodeKey&) const override { return true; }
  bool IsIncarnation(const NodeKey& key, std::string_view name) const override {
    std::string own = Path(key).substr(Path(key).rfind('/') + 1);
    return name.substr(0, name.find('@')) == own.substr(0, own.find('@'));
  }
};

TEST(Syncer, EarlierIncarnationsOfAnotherSessionAreReplacedAtOnce) {
  FakeRegistry reg;
  IncarnatedNodes nodes;
  std::map<std::string, std::string> desired;
  for (int i = 0; i < 300; ++i) {
    std::string reg_name = "/dubbo/i" + std::to_string(i) + "/providers/p" + std::to_string(i);
    desired[reg_name + "@new"] = "";
    reg.CreateStale(reg_name + "@old", "");  // left by a SIGKILLed agent
  }
  reg.CreateStale("/dubbo/i0/providers/other@old", "");  // another host: never touched
  reg.ExternalCreate("/dubbo/i1/providers/p1@static");   // persistent: someone's, stays
  Syncer s(&reg, &nodes, {}, [] {});
  ASSERT_TRUE(s.Sync(nodes.Keys(desired)));
  auto all = reg.Nodes();
  for (int i = 0; i < 300; ++i) {
    std::string reg_name = "/dubbo/i" + std::to_string(i) + "/providers/p" + std::to_string(i);
    EXPECT_EQ(all.count(reg_name + "@old"), 0u) << i;
    EXPECT_EQ(all.count(reg_name + "@new"), 1u) << i;
  }
  EXPECT_EQ(all.count("/dubbo/i0/providers/other@old"), 1u);
  EXPECT_EQ(all.count("/dubbo/i1/providers/p1@static"), 1u);
  EXPECT_EQ(s.stats().replaced_incarnations, 300u);
  // Batched: 300 deletes in one multi, not 300 requests.
  size_t multis = reg.multis();
  ASSERT_TRUE(s.Sync(nodes.Keys(desired)));  // nothing to do now: no more listings or deletes
  EXPECT_EQ(reg.multis(), multis);
}

}  // namespace
}  // namespace zkop::agent

namespace zkop::agent {
namespace {

// Yields to a node whose data is not the one it would write (a provider's own registration).
class YieldingNodes : public LiteralNodes {
 public:
  bool Yields(const NodeKey& key, std::string_view data) const override {
    return data != Data(key);
  }
};

TEST(Syncer, LeavesAProvidersOwnNodeAloneAndNeverDeletesIt) {
  FakeRegistry reg;
  YieldingNodes lit;
  Syncer s(&reg, &lit, SyncOptions{}, [] {});
  const std::string path = "/services/app/10.0.0.1:20880";
  reg.CreateStale(path, "the provider's", 0x5151);
  auto keys = lit.Keys({{path, "ours"}});
  s.Sync(keys);
  EXPECT_EQ(reg.Nodes().at(path).owner, 0x5151);
  EXPECT_EQ(reg.Nodes().at(path).data, "the provider's");
  EXPECT_EQ(s.stats().yielded, 1u);
  EXPECT_EQ(s.Yielded(), keys);
  // Anti-entropy and later rounds leave it alone too...
  EXPECT_EQ(s.Verify(), 0u);
  EXPECT_TRUE(s.Sync(keys));
  EXPECT_EQ(reg.Nodes().at(path).owner, 0x5151);
  // ...even after the provider's session removed it (no fight while the key stays).
  reg.ExternalDelete(path);
  s.Sync(keys);
  s.Verify();
  s.Sync(keys);
  EXPECT_FALSE(reg.Nodes().count(path));
  // Not desired any more, or shutdown: it is not the agent's to delete.
  reg.CreateStale(path, "the provider's", 0x5151);
  EXPECT_TRUE(s.Sync({}));
  EXPECT_EQ(s.stats().yielded, 0u);
  EXPECT_EQ(reg.Nodes().at(path).owner, 0x5151);
  s.Sync(keys);
  EXPECT_EQ(s.stats().yielded, 1u);
  s.RemoveAll(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(reg.Nodes().at(path).owner, 0x5151);
}

TEST(Syncer, ReplacesAStaleNodeWithItsOwnData) {
  FakeRegistry reg;
  YieldingNodes lit;
  Syncer s(&reg, &lit, SyncOptions{}, [] {});
  const std::string path = "/services/app/10.0.0.1:20880";
  reg.CreateStale(path, "ours", 0x5151);  // an earlier incarnation of the agent's node
  ASSERT_TRUE(s.Sync(lit.Keys({{path, "ours"}})));
  EXPECT_NE(reg.Nodes().at(path).owner, 0x5151);
  EXPECT_EQ(s.stats().yielded, 0u);
}

}  // namespace
}  // namespace zkop::agent
