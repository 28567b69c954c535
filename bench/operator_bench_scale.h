// Part 2 of operator_bench (docs/benchmarks.md): many clusters against `zkop-devkube
// --no-pods` (no ZooKeeper runs, so clusters never become Ready: the API side alone).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "zkop/testing/temp_dir.h"

namespace zkop::bench {

// Objects every 3-member cluster gets: Secret, 2 ConfigMaps, 2 Services, PDB, 3 PVCs, 3 Pods.
inline constexpr int kObjectsPerCluster = 12;

struct ScaleResult {
  bool ok = false;           // every cluster got all its objects and a status
  std::string error;         // when !ok, or what went wrong after
  double complete_ms = 0;    // first create -> every cluster has its objects and a status
  double last_write_ms = 0;  // first create -> the operator's last write before it went quiet
  // The operator's requests until it went quiet (its /metrics), by verb, all clusters.
  std::map<std::string, double> requests;
  // The writes the emulator logged until then, by "METHOD kind" (the benchmark's own
  // creates of the ZookeeperClusters left out).
  std::map<std::string, int> writes_by_kind;
  // Steady state: writes logged in the window, Lease renewals apart; the operator's requests
  // in the window by verb; the write lines seen (evidence).
  int steady_writes = 0;
  int steady_lease_writes = 0;
  std::map<std::string, double> steady_requests;
  std::vector<std::string> steady_write_lines;
  long idle_rss_kb = -1;  // once its caches synced, before any cluster exists
  long rss_kb = -1;       // at the end of the steady window
  long anon_kb = -1;      // RssAnon at the end
  long file_kb = -1;      // RssFile at the end
  long hwm_kb = -1;       // VmHWM at the end
  long threads = -1;      // Threads at the end
};

// Creates `clusters` 3-member ZookeeperClusters at once against a fresh no-pods emulator and
// a fresh `zkop-operator run` (with `operator_flags`), then measures the steady state over
// `steady`.
ScaleResult MeasureOperatorScale(const testing::TempDir& dir, const std::string& name, int clusters,
                                 std::chrono::seconds steady,
                                 const std::vector<std::string>& operator_flags);

struct BaselineResult {
  bool ok = false;
  std::string error;
  double ms = 0;  // all objects and statuses written, one request after the other
  int writes_per_cluster = 0;
};

// The naive lower bound: the same clusters' objects (rendered by the operator's own pure
// functions) created by a plain client loop, one create per object and one status write per
// cluster, against a fresh no-pods emulator.
BaselineResult MeasureBaseline(const testing::TempDir& dir, int clusters);

}  // namespace zkop::bench
