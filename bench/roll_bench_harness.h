// The harness of roll_bench (docs/benchmarks.md): a writing client, an election counter and
// the ZooKeeper-side helpers both orders (zkop's and a StatefulSet's) are driven with.
//
// Threads: Writer and ElectionCounter each run one thread of their own and talk to the
// servers only through their addresses (zkop::zk::Client, four-letter words). The ZkEnsemble
// stays with the main thread (it is not thread-safe); the main thread tells the counter which
// addresses exist through MemberAddresses.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "zkop/testing/zk_ensemble.h"
#include "zkop/zk/client.h"
#include "zkop/zk/ensemble_config.h"
#include "zkop/zk/four_letter.h"

namespace rollbench {

using Clock = std::chrono::steady_clock;
using zkop::testing::ZkEnsemble;

double Ms(Clock::duration d);
bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(50));

// The member addresses the election counter samples, as members come and go.
class MemberAddresses {
 public:
  void Set(int id, std::string address);
  void Erase(int id);
  std::map<int, std::string> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<int, std::string> addresses_;
};

// What srvr says about one member.
struct ServerState {
  bool serving = false;  // leader, follower or observer
  zkop::zk::ServerMode mode = zkop::zk::ServerMode::kUnknown;
  int64_t zxid = -1;
};
ServerState QueryMember(const std::string& address);
// True once the member serves (srvr: leader, follower or observer).
bool WaitMemberServes(const std::string& address, std::chrono::milliseconds timeout);

// A client writing every ~10 ms: creates <root>/w<seq>, one at a time, through the connect
// string it is given. A failed attempt is retried (same node) after the pause, as a real
// client retries CONNECTIONLOSS; an attempt whose outcome was unknown and whose retry finds
// the node is counted as acknowledged then.
struct WriterResult {
  int64_t acknowledged = 0;
  int64_t failed_attempts = 0;
  int64_t lost = 0;           // acknowledged and absent when read back at the end
  double longest_gap_ms = 0;  // the longest time between two acknowledgments
  bool verified = false;      // the read-back happened
  std::vector<Clock::time_point> ack_times;
};
// The sum of the gaps between acknowledgments longer than `min_gap` (ms), and their number.
double GapsLongerThan(const std::vector<Clock::time_point>& ack_times,
                      std::chrono::milliseconds min_gap, int* count);
// The longest gap between two consecutive acknowledgments that overlaps [from, to) (ms; -1
// when there is no acknowledgment after `from`).
double LongestGapWithin(const std::vector<Clock::time_point>& ack_times, Clock::time_point from,
                        Clock::time_point to);

class Writer {
 public:
  Writer(std::string connect, std::string root);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  // Connects, creates the root, starts writing; false when no session came up.
  bool Start();
  // Acknowledgments so far (thread-safe).
  int64_t acknowledged() const { return acked_.load(); }
  // Stops writing and reads every acknowledged node back (after a sync).
  WriterResult StopAndVerify();

 private:
  void Run();

  std::string connect_;
  std::string root_;
  std::unique_ptr<zkop::zk::Client> client_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::vector<int64_t> acked_seqs_;  // owned by the thread until it is joined
  std::vector<Clock::time_point> ack_times_;
  int64_t failed_ = 0;
  double longest_gap_ms_ = 0;
};

// Counts leader elections: srvr on every member every 50 ms; each distinct (leader id, leader
// epoch) pair seen after the first sample is one election. The epoch is the high 32 bits of
// the zxid the leader reports (a leader reports its new epoch as soon as it serves). The
// id is part of the key because two leaders of a split brain can have the same epoch. A
// member saying "leader" whose own configuration ("conf") makes it an observer has handed off
// (it can no longer commit) and does not count as leading.
class ElectionCounter {
 public:
  explicit ElectionCounter(const MemberAddresses& members);
  ~ElectionCounter();
  ElectionCounter(const ElectionCounter&) = delete;
  ElectionCounter& operator=(const ElectionCounter&) = delete;
  // Starts sampling and waits for the first epoch; false when none is seen within 10 s.
  bool Start();
  int Stop();                // elections counted
  int most_leaders() const;  // the most members that said "leader" in one sample

 private:
  void Run();

  const MemberAddresses& members_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::set<std::pair<int, int64_t>> leaders_;  // (id, epoch)
  int most_leaders_ = 0;
};

// --- the super user's client and reconfig ----------------------------------------------
std::unique_ptr<zkop::zk::Client> ConnectAdmin(const ZkEnsemble& ensemble,
                                               const std::string& connect);
// The committed membership, read after a sync (false when it could not be read in 30 s).
bool ReadMembership(zkop::zk::Client& admin, zkop::zk::EnsembleConfig* out);
// One incremental reconfig, conditional on the version read just before, repeated until the
// membership read back is `want`: NEWCONFIGNOQUORUM and RECONFIGINPROGRESS are retried, a
// BADVERSION or an unknown outcome (lost connection) is resolved by reading the config back.
// Throws std::runtime_error after 60 s.
void Reconfigure(zkop::zk::Client& admin, const std::vector<std::string>& joining,
                 const std::vector<int>& leaving, const std::set<int>& want);

// Changes `member`'s role to `role` ("observer" or "participant") with one reconfig,
// conditional on the version read and repeated as Reconfigure is, until the config read back
// has it. Throws std::runtime_error after 60 s.
void SetRole(zkop::zk::Client& admin, zkop::zk::Member member, const std::string& role);

// --- static membership (the StatefulSet baseline's configuration) -----------------------
// Rewrites a (stopped) member's zoo.cfg with the same settings and `members` as static
// server lines, reconfigEnabled=false, no dynamic config file: how StatefulSet charts
// configure ZooKeeper.
void WriteStaticConfig(const ZkEnsemble& ensemble, int id,
                       const std::vector<zkop::zk::Member>& members);
// Removes a (stopped) member's data (snapshots and logs; myid stays): a fresh volume.
void WipeData(const ZkEnsemble& ensemble, int id);

}  // namespace rollbench
