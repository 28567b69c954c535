// The sync engine: makes the registry hold exactly the desired ephemeral nodes, each owned
// by one of the agent's sessions, and keeps it so.
//
//  - Nodes are NodeKeys (node.h): the engine keeps no paths, it renders them when it needs
//    them, so its memory per node is ~60 bytes whatever the path length.
//  - Sessions ("shards"): nodes are spread over sessions so that the path bytes owned by any
//    one session stay under `path_budget` (ZOOKEEPER-4306: a session whose ephemeral paths
//    exceed ~2 MB cannot be closed or expired without stalling the ensemble). A node stays
//    in its shard; a new node goes to the first shard with room; empty extra shards close.
//  - Fast: creates go as batched multis (`batch_size` ops each), `max_in_flight` batches at
//    a time over all sessions. Missing persistent parents are created in the same multi as
//    the first node under them (a parent before its children), so a cold start is one
//    stream of multis per session. Which parents exist is learned by listing the few
//    directories near the root (`discovery_fanout`); deeper ones that likely exist are
//    assumed to, and a batch whose assumption was wrong is repaired (parents ensured, then
//    node by node). A failed batch is retried node by node to find and resolve the culprit.
//  - Anti-entropy (Verify): every owned node is checked (pipelined exists); a missing node
//    is re-created, a node owned by another (earlier) session is deleted and re-created —
//    unless the renderer says it Yields to it (NodeRenderer::Yields: a provider's own
//    registration), then the node is left alone while its key stays desired, and never
//    deleted (it is not the engine's).
//  - Earlier incarnations: when a node is created, its directory is listed (in parallel with
//    the creates) and nodes the renderer calls incarnations of the same registration
//    (NodeRenderer::IsIncarnation: a Dubbo provider with another pid or timestamp, left by
//    a killed agent) that are ephemerals of a session not the agent's own are deleted in
//    batched multis at once, instead of lingering until that session expires.
//  - Sessions: a lost connection keeps the session (nothing to do); a new session id means
//    the old one expired: every node of that shard is created again. A wait for answers
//    ends as soon as a session changes (its answers are moot), so the new session is
//    restored in the next Sync, which the session's wake starts at once.
//
// Threading: one thread calls Sync/Verify/RemoveAll; stats() may be read from any thread.
// Never throws; failures are counted by reason and retried on the next Sync.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "zkop/agent/node.h"
#include "zkop/agent/registry.h"

namespace zkop::agent {

struct SyncOptions {
  int64_t path_budget = 512 * 1024;
  size_t batch_size = 1000;  // ops per multi
  // Path bytes per multi. ZooKeeper refuses requests over jute.maxbuffer (1 MB), and its
  // leader keeps the last 500 committed proposals in memory (zookeeper.commitLogCount):
  // 400 KB multis put ~200 MB on its heap (a 256 MB server ran out of memory here), 128 KB
  // multis at most ~64 MB, about as fast (64 KB ones were 15-25% slower; benchmarks.md).
  size_t batch_bytes = 128 * 1024;
  size_t max_in_flight = 16;  // batches in flight over all sessions over all sessions
  std::chrono::milliseconds op_timeout{10000};  // how long one Sync waits for answers
  size_t discovery_fanout = 16;  // directories listed per level to learn which parents exist
};

struct ShardStats {
  int64_t session_id = 0;
  bool connected = false;
  int64_t path_bytes = 0;  // bytes of the paths assigned to this session
  size_t nodes = 0;        // nodes assigned
  size_t owned = 0;        // nodes known to exist and be owned by the session
};

struct SyncStats {
  std::vector<ShardStats> shards;
  uint64_t expirations = 0;                // sessions replaced after expiry
  uint64_t reconnects = 0;                 // connection regained within a session
  std::map<std::string, uint64_t> errors;  // by reason (RegErrorName or "timeout")
  uint64_t restored = 0;                   // nodes re-created by Verify (deleted or stale)
  uint64_t replaced_incarnations = 0;      // earlier incarnations deleted (also in restored)
  size_t yielded = 0;                      // desired nodes left to another session (Yields)
  bool last_sync_ok = false;
};

class Pending;  // async answers, applied on the calling thread (pending.h)

class Syncer {
 public:
  // `store` and `renderer` are not owned and must outlive the Syncer.
  Syncer(RegistryStore* store, const NodeRenderer* renderer, SyncOptions options,
         std::function<void()> wake);
  ~Syncer();

  // Makes the registry match `desired` (parents are made persistent).
  // Returns true when every desired node is owned and every undesired one is gone.
  bool Sync(const std::vector<NodeKey>& desired);
  // Checks every owned node; drops the missing and stale ones from "owned" (the next Sync
  // re-creates them). Returns the number of nodes found wrong.
  size_t Verify();
  // Deletes every node this agent created, then closes all sessions; bounded by `deadline`.
  // Returns true when every delete was confirmed.
  bool RemoveAll(std::chrono::steady_clock::time_point deadline);

  SyncStats stats() const;
  // The desired nodes left to another session's registration (NodeRenderer::Yields).
  std::vector<NodeKey> Yielded() const;
  // The first session (opened when there is none; it is kept for the agent's lifetime), for
  // writes that are not ephemeral registrations. Null only before the store opened one.
  RegistrySession* PrimarySession();
  // True when at least one session exists and all sessions are connected.
  bool SessionsUp() const;

 private:
  struct Shard {
    std::unique_ptr<RegistrySession> session;
    int64_t session_id = 0;
    uint64_t reconnects_seen = 0;
    int64_t bytes = 0;  // path bytes of the nodes assigned here
    size_t nodes = 0;   // nodes assigned here
    size_t owned = 0;   // of which known to exist, owned by the session
  };
  struct Entry {
    uint32_t shard = 0;
    uint32_t cost = 0;     // path bytes
    uint64_t round = 0;    // the last Sync that desired it
    bool owned = false;    // known to exist and be owned by the shard's current session
    bool yielded = false;  // another session's registration is there: left alone
    bool swept = false;    // its directory was searched for earlier incarnations
  };
  using Entries = std::unordered_map<NodeKey, Entry, NodeKeyHash>;
  struct Item;  // a node to create, with its rendered path
  struct Plan;  // which parents exist, are absent, or are assumed to exist

  void CheckSessions();
  // True when a session's id is no longer the one CheckSessions saw (expired or replaced):
  // waits for answers end at once, so a new session is restored without delay.
  bool SessionChanged() const;
  size_t ShardFor(int64_t cost);
  bool WaitConnected(Shard& shard);
  bool CreateMissing();
  Plan Discover(const std::vector<std::string>& unknown, Pending& pending,
                std::chrono::steady_clock::time_point deadline);
  // `nodes`: the new parents then the items' nodes, in order.
  void CreateBatch(size_t shard, std::vector<NodeSpec> nodes, std::vector<Item> items,
                   Pending& pending, bool& ok);
  void Repair(size_t shard, std::vector<NodeKey> keys, Pending& pending, bool& ok);
  void CreateOne(size_t shard, const NodeKey& key, std::string path, int attempts, Pending& pending,
                 bool& ok);
  // Earlier incarnations (syncer_sweep.cc): while `todo` is created, the directories of its
  // nodes are listed (on `sweep`); FinishSweep then deletes, in batched multis, the
  // incarnations (NodeRenderer::IsIncarnation) that are ephemerals of sessions not ours.
  void StartSweep(const std::vector<std::vector<Item>>& todo, const std::vector<size_t>& usable,
                  const Plan& plan, Pending& sweep,
                  std::vector<std::pair<size_t, std::string>>& found);
  void FinishSweep(Pending& sweep, std::vector<std::pair<size_t, std::string>>& found,
                   std::chrono::steady_clock::time_point deadline);
  void SetOwned(Entry& e, bool owned);
  void MarkOwned(const NodeKey& key, size_t shard);
  void MarkYielded(const NodeKey& key);
  void Forget(const NodeKey& key);
  // Deletes the nodes of `keys` (by shard), forgetting each one confirmed gone.
  bool DeleteNodes(std::map<size_t, std::vector<NodeKey>> keys,
                   std::chrono::steady_clock::time_point deadline);
  void CountError(std::string_view reason);
  void PublishStats();

  RegistryStore* store_;
  const NodeRenderer* renderer_;
  SyncOptions options_;
  std::function<void()> wake_;
  std::vector<std::unique_ptr<Shard>> shards_;
  Entries entries_;
  size_t yielded_ = 0;  // entries yielded
  uint64_t round_ = 0;
  // Parents known to exist, by hash of the path, sorted: 20,000 parents are 160 KB in one
  // block, where a node-based set would scatter ~1 MB over the heap (and pin its pages). A
  // hash collision only skips a create whose NoNode failure then forgets it: self-healing.
  std::vector<size_t> known_parents_;
  std::vector<size_t> learned_parents_;  // found since the last merge
  bool KnownParent(std::string_view path) const;
  void LearnParent(size_t key) { learned_parents_.push_back(key); }
  void ForgetParent(std::string_view path);
  void MergeLearnedParents();
  static size_t ParentKey(std::string_view path);
  mutable std::mutex stats_mu_;
  SyncStats stats_;
};

}  // namespace zkop::agent
