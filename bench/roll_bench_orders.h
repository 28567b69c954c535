// The two orders roll_bench compares (docs/benchmarks.md), on a running ZkEnsemble.
//
// zkop's order asks zkop's own planner (zkop::op::cluster::PlanNextOperation, the function
// the operator runs) what to do next, from an Observation built from srvr answers, and
// carries the step out as the operator does (a member's Pod deleted = its server SIGKILLed, as
// zkop's entrypoint ends ZooKeeper on SIGTERM; the StatefulSet's members get SIGTERM, as a
// chart's JVM does): a roll restarts the member the planner names
// (observers, followers by highest id, the leader last; each only when every member serves
// and one leads), the leader after handing off (reconfigured to an observer, confirmed with a
// write; restarted; reconfigured back to a participant once it serves); a scale-up starts the
// lowest unused id with the committed membership plus itself (ZkEnsemble::AddMember) and, once it
// serves, reconfigs it in conditionally on the version read, confirmed by reading the config back;
// a scale-down reconfigs the highest non-leader id out, confirms with a write, then stops it and
// wipes its data.
//
// The StatefulSet's order (OrderedReady pod management, RollingUpdate): ordinals highest
// first, whoever leads, each step once the pod it restarted or created is ready (serves:
// srvr says leader, follower or observer); no reconfig: a size change rewrites every
// member's static server list (reconfigEnabled=false) and rolls them; new ordinals are
// created first (lowest first, each started with the new list), removed ordinals deleted
// first (highest first, one at a time), then the survivors are restarted highest first with
// the new list. Both orders end by waiting until every member serves under one leader.
//
// Each function returns a short description of the steps taken ("restart 2, 1, 3(L)") and
// throws std::runtime_error when a step does not complete in its time.
#pragma once

#include <string>
#include <vector>

#include "roll_bench_harness.h"

namespace rollbench {

// When a roll's step on one member began; it lasts until the next one begins (the last one
// until the writer stops).
struct StepStart {
  std::string label;  // "2", "3(L)"
  bool leader = false;
  Clock::time_point at;
};

// Rolls every member in `ids`; appends each step's start to `steps`.
std::string ZkopRoll(ZkEnsemble& ensemble, zkop::zk::Client& admin, const std::vector<int>& ids,
                     std::vector<StepStart>* steps);
std::string StatefulSetRoll(ZkEnsemble& ensemble, const std::vector<int>& ids,
                            std::vector<StepStart>* steps);

// Changes the membership to `replicas` members through `admin` (the super user).
std::string ZkopScale(ZkEnsemble& ensemble, MemberAddresses& addresses, zkop::zk::Client& admin,
                      int replicas);

// Turns a fresh ZkEnsemble of `initial` members into the StatefulSet baseline's ensemble:
// members up to `max` get their addresses (ZkEnsemble::AddMember, then stopped), every
// member's data is wiped and members 1..initial start again with a static server list of
// 1..initial. Returns the server lines of 1..max (ordinal k = id k).
std::vector<zkop::zk::Member> PrepareStaticEnsemble(ZkEnsemble& ensemble, int initial, int max);

// `all` as returned by PrepareStaticEnsemble; `from` running members 1..from become 1..to.
std::string StatefulSetScale(ZkEnsemble& ensemble, MemberAddresses& addresses,
                             const std::vector<zkop::zk::Member>& all, int from, int to);

}  // namespace rollbench
