// The sync engine: makes the registry hold exactly the desired ephemeral nodes, each owned
// by one of the agent's sessions, and keeps it so.
//
//  - Sessions ("shards"): nodes are spread over sessions so that the path bytes owned by any
//    one session stay under `path_budget` (ZOOKEEPER-4306: a session whose ephemeral paths
//    exceed ~2 MB cannot be closed or expired without stalling the ensemble). A node stays
//    in its shard; a new node goes to the first shard with room; empty extra shards close.
//  - Fast: creates go as batched multis (`batch_size` nodes each), `max_in_flight` batches
//    at a time; a failed batch is retried node by node to find and resolve the culprit.
//  - Anti-entropy (Verify): every owned node is checked (pipelined exists); a missing node
//    is re-created, a node owned by another (earlier) session is deleted and re-created.
//  - Sessions: a lost connection keeps the session (nothing to do); a new session id means
//    the old one expired: every node of that shard is created again.
//
// Threading: one thread calls Sync/Verify/RemoveAll; stats() may be read from any thread.
// Never throws; failures are counted by reason and retried on the next Sync.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "zkop/agent/registry.h"

namespace zkop::agent {

struct SyncOptions {
  int64_t path_budget = 512 * 1024;
  size_t batch_size = 1000;
  size_t batch_bytes = 400 * 1024;              // per multi; ZooKeeper's jute.maxbuffer is 1 MB
  size_t max_in_flight = 8;                     // batches in flight over all sessions
  std::chrono::milliseconds op_timeout{10000};  // how long one Sync waits for answers
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
  bool last_sync_ok = false;
};

class Syncer {
 public:
  Syncer(RegistryStore* store, SyncOptions options, std::function<void()> wake);
  ~Syncer();

  // Makes the registry match `desired` (path -> data; parents are made persistent).
  // Returns true when every desired node is owned and every undesired one is gone.
  bool Sync(const std::map<std::string, std::string>& desired);
  // Checks every owned node; drops the missing and stale ones from "owned" (the next Sync
  // re-creates them; Verify calls it itself). Returns the number of nodes found wrong.
  size_t Verify();
  // Deletes every node this agent created, then closes all sessions; bounded by `deadline`.
  // Returns true when every delete was confirmed.
  bool RemoveAll(std::chrono::steady_clock::time_point deadline);

  SyncStats stats() const;
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
  // One per desired node: its only copy of the path (memory matters at 10,000 nodes).
  struct Entry {
    size_t shard = 0;
    bool owned = false;  // known to exist and be owned by the shard's current session
    std::string data;
  };
  void CheckSessions();
  size_t ShardFor(const std::string& path);
  class Pending;  // async answers, applied on the syncer thread
  bool WaitConnected(Shard& shard);
  bool CreateMissing();
  void CreateOne(size_t shard, const std::string& path, int attempts, Pending& pending, bool& ok);
  void SetOwned(Entry& e, bool owned);
  void MarkOwned(const std::string& path, size_t shard);
  void Forget(std::map<std::string, Entry>::iterator it);
  bool DeleteUndesired(const std::map<std::string, std::string>& desired);
  void CountError(const std::string& reason);
  void PublishStats();

  RegistryStore* store_;
  SyncOptions options_;
  std::function<void()> wake_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::map<std::string, Entry> entries_;
  // Parents known to exist, by hash of the path (10,000 paths would be ~1.8 MB as strings).
  // A collision only skips a create whose NoNode failure then drops the hash: self-healing.
  std::unordered_set<size_t> known_parents_;
  static size_t ParentKey(const std::string& path);
  mutable std::mutex stats_mu_;
  SyncStats stats_;
};

}  // namespace zkop::agent
