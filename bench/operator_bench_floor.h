// The floor of operator_bench (docs/benchmarks.md): how long ZooKeeper itself takes to start
// answering on this machine, with no operator and no API in the way.
#pragma once

#include <chrono>
#include <string>

#include "zkop/testing/temp_dir.h"

namespace zkop::bench {

struct FloorResult {
  bool ok = false;
  double first_ms = 0;   // the first member answers `srvr` with a mode
  double quorum_ms = 0;  // a majority serves (leader/follower) with exactly one leader
  std::string error;     // when !ok: what was seen, and the members' log tails
};

// Starts `members` servers at once, each exactly as the pod runtime starts a member Pod of
// a ZookeeperCluster with the benchmark's spec: the image entrypoint
// (images/zookeeper/entrypoint.sh) with Debian's JVM and jars, the operator's rendered zoo.cfg
// and zoo.cfg.dynamic (member host names resolved through a hosts file the JVM reads), the
// super digest file, and JAVA_OPTS = the admin address + spec.jvmFlags + the name resolution
// flags. Each member gets its own random 127.x address. Times from the first spawn until the
// first member answers and until the cluster would count as Ready by the operator's rule
// (status.cc: a majority serving, exactly one leader), polling every 50 ms. The servers are
// stopped and reaped before it returns.
FloorResult MeasureEntrypointFloor(const testing::TempDir& dir, const std::string& name,
                                   int members, std::chrono::milliseconds timeout);

// A plain ensemble from tests/support (ZkEnsemble: the tests' quick-start JVM flags, its own
// config): construction time, i.e. until every member answers and exactly one leads (polled
// every 100 ms by ZkEnsemble). ok=false when it did not reach quorum in `timeout`.
FloorResult MeasureZkEnsemble(int members, std::chrono::milliseconds timeout);

}  // namespace zkop::bench
