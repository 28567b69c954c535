#include "roll_bench_orders.h"

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>

#include "zkop/operator/cluster/operations.h"

namespace rollbench {

using namespace std::chrono_literals;
namespace zk = zkop::zk;
namespace opc = zkop::op::cluster;

namespace {

constexpr auto kStepTimeout = 120s;

void Say(const std::string& order, const std::string& what) {
  std::cerr << "[roll_bench] " << order << ": " << what << std::endl;
}

std::string Leader(zk::ServerMode m) { return m == zk::ServerMode::kLeader ? "(L)" : ""; }

void Append(std::string& steps, const std::string& step) {
  steps += (steps.empty() ? "" : ", ") + step;
}

// Every running member among `ids` serves (and, when `one_leader`, exactly one leads: a
// StatefulSet only looks at each pod's readiness).
bool AllServe(ZkEnsemble& ensemble, const std::vector<int>& ids, bool one_leader) {
  int leaders = 0;
  for (int id : ids) {
    if (!ensemble.Running(id)) continue;
    ServerState s = QueryMember(ensemble.ClientAddress(id));
    if (!s.serving) return false;
    if (s.mode == zk::ServerMode::kLeader) ++leaders;
  }
  return !one_leader || leaders == 1;
}

void WaitAllServe(ZkEnsemble& ensemble, const std::vector<int>& ids, const std::string& order,
                  bool one_leader = false) {
  if (Eventually([&] { return AllServe(ensemble, ids, one_leader); }, kStepTimeout, 100ms)) return;
  std::string detail;
  for (int id : ids) {
    if (!ensemble.Running(id)) continue;
    ServerState s = QueryMember(ensemble.ClientAddress(id));
    detail += "\n  member " + std::to_string(id) + ": " + std::string(zk::ServerModeName(s.mode));
    if (!s.serving) detail += "; log tail:\n" + ensemble.LogTail(id, 12);
  }
  throw std::runtime_error(order + ": the members did not all serve" +
                           (one_leader ? " with one leader" : "") + " within 120 s" + detail);
}

// A write through the current quorum, as the operator confirms a reconfig.
void ConfirmWrite(zk::Client& admin, const std::string& path) {
  if (!Eventually(
          [&] {
            zk::Error e = admin.Create(path, "").status.code();
            return e == zk::Error::kOk || e == zk::Error::kNodeExists;
          },
          kStepTimeout, 100ms))
    throw std::runtime_error("no write confirmed the reconfig (" + path + ")");
}

// A StatefulSet's gate: the pod it just created serves (a readiness probe on srvr).
void WaitServes(ZkEnsemble& ensemble, int id, const std::string& order) {
  if (WaitMemberServes(ensemble.ClientAddress(id), kStepTimeout)) return;
  throw std::runtime_error(order + ": member " + std::to_string(id) +
                           " did not serve within 120 s; log tail:\n" + ensemble.LogTail(id, 12));
}

// What zkop's observe phase would report, from srvr answers (a running process stands in
// for an existing Pod, serving for its readiness).
opc::Observation Observe(ZkEnsemble& ensemble, const std::vector<int>& ids,
                         const std::map<int, std::string>& hashes) {
  opc::Observation o;
  for (int id : ids) {
    opc::MemberState m;
    m.id = id;
    m.pod = opc::MemberPodName("bench", id);
    m.pod_exists = ensemble.Running(id);
    m.phase = m.pod_exists ? "Running" : "";
    m.claim_exists = true;
    ServerState s = QueryMember(ensemble.ClientAddress(id));
    m.server.answered = s.mode != zk::ServerMode::kUnknown;
    m.server.mode = s.mode;
    m.server.zxid = s.zxid;
    m.pod_ready = s.serving;
    auto h = hashes.find(id);
    m.template_hash = h == hashes.end() ? "new" : h->second;
    o.members.push_back(std::move(m));
  }
  return o;
}

opc::ClusterSpec Spec(int replicas) {
  opc::ClusterSpec spec;
  spec.name = "bench";
  spec.ns = "default";
  spec.replicas = replicas;
  return spec;
}

}  // namespace

std::string ZkopRoll(ZkEnsemble& ensemble, zk::Client& admin, const std::vector<int>& ids,
                     std::vector<StepStart>* starts) {
  std::map<int, std::string> hashes;
  for (int id : ids) hashes[id] = "old";
  const opc::ClusterSpec spec = Spec(static_cast<int>(ids.size()));
  std::string steps;
  const auto deadline = Clock::now() + 10min;
  for (;;) {
    zk::EnsembleConfig committed;
    if (!ReadMembership(admin, &committed))
      throw std::runtime_error("zkop roll: cannot read the committed membership");
    opc::Observation observed = Observe(ensemble, ids, hashes);
    opc::Plan plan = opc::PlanNextOperation(spec, observed, committed, "new");
    if (plan.start) {
      if (plan.start->type != "Roll")
        throw std::runtime_error("zkop roll: the planner wants " + plan.start->type);
      const int id = plan.start->member;
      zk::ServerMode mode = zk::ServerMode::kUnknown;
      for (const auto& m : observed.members)
        if (m.id == id) mode = m.server.mode;
      Say("zkop roll", "restart " + std::to_string(id) + Leader(mode));
      Append(steps, std::to_string(id) + Leader(mode));
      starts->push_back({std::to_string(id) + Leader(mode), !Leader(mode).empty(), Clock::now()});
      if (plan.start->step == "HandOff") {
        // Reconfigured to an observer, confirmed with a write through the new leader.
        SetRole(admin, ensemble.MemberConfig(id), "observer");
        ConfirmWrite(admin, "/roll-bench-handoff-" + std::to_string(id));
      } else if (plan.start->step != "DeletePod") {
        throw std::runtime_error("zkop roll: the planner starts at " + plan.start->step);
      }
      // The Pod deleted and recreated from the new template. zkop's entrypoint ends ZooKeeper
      // with SIGKILL when its container is stopped (images/zookeeper/entrypoint.sh).
      ensemble.Kill(id);
      ensemble.Start(id);
      if (plan.start->step == "HandOff") {  // WaitServing, then Promote
        WaitServes(ensemble, id, "zkop roll");
        SetRole(admin, ensemble.MemberConfig(id), "participant");
      }
      hashes[id] = "new";
      continue;
    }
    if (plan.blocked.empty()) break;  // every member runs the new template
    if (Clock::now() > deadline) throw std::runtime_error("zkop roll: blocked: " + plan.blocked);
    std::this_thread::sleep_for(100ms);
  }
  WaitAllServe(ensemble, ids, "zkop roll", true);
  return "restart " + steps;
}

std::string StatefulSetRoll(ZkEnsemble& ensemble, const std::vector<int>& ids,
                            std::vector<StepStart>* starts) {
  std::vector<int> order(ids);
  std::sort(order.begin(), order.end(), std::greater<>());  // highest ordinal first
  std::string steps;
  for (int id : order) {
    const std::string mark = Leader(QueryMember(ensemble.ClientAddress(id)).mode);
    Say("StatefulSet roll", "restart " + std::to_string(id) + mark);
    Append(steps, std::to_string(id) + mark);
    starts->push_back({std::to_string(id) + mark, !mark.empty(), Clock::now()});
    ensemble.Restart(id);
    WaitServes(ensemble, id, "StatefulSet roll");
  }
  WaitAllServe(ensemble, ids, "StatefulSet roll", true);  // settled, for the figures
  return "restart " + steps;
}

std::string ZkopScale(ZkEnsemble& ensemble, MemberAddresses& addresses, zk::Client& admin,
                      int replicas) {
  const opc::ClusterSpec spec = Spec(replicas);
  std::string steps;
  const auto deadline = Clock::now() + 10min;
  for (;;) {
    zk::EnsembleConfig committed;
    if (!ReadMembership(admin, &committed))
      throw std::runtime_error("zkop scale: cannot read the committed membership");
    std::vector<int> membership;
    for (const auto& m : committed.members) membership.push_back(m.id);
    opc::Observation observed = Observe(ensemble, membership, {});
    opc::Plan plan = opc::PlanNextOperation(spec, observed, committed, "new");
    if (plan.start && plan.start->type == "ScaleUp") {
      const int want_id = plan.start->member;
      Say("zkop scale", "add " + std::to_string(want_id));
      // CreateMember: committed membership plus itself; WaitSynced: it serves.
      const int id = ensemble.AddMember();
      if (id != want_id)
        throw std::runtime_error("zkop scale: ZkEnsemble started id " + std::to_string(id) +
                                 ", the planner wants " + std::to_string(want_id));
      addresses.Set(id, ensemble.ClientAddress(id));
      if (!WaitMemberServes(ensemble.ClientAddress(id), kStepTimeout))
        throw std::runtime_error("zkop scale: joiner " + std::to_string(id) + " never synced");
      std::set<int> want(membership.begin(), membership.end());
      want.insert(id);
      // Reconfigure: reconfig -add, conditional on the version read, confirmed by reading.
      Reconfigure(admin, {ensemble.MemberConfig(id).ServerLine()}, {}, want);
      Append(steps, "+" + std::to_string(id));
      continue;
    }
    if (plan.start && plan.start->type == "ScaleDown") {
      const int id = plan.start->member;
      Say("zkop scale", "remove " + std::to_string(id));
      std::set<int> want(membership.begin(), membership.end());
      want.erase(id);
      Reconfigure(admin, {}, {id}, want);
      // Confirmed with a write, then the Pod, then the claim.
      ConfirmWrite(admin, "/roll-bench-removed-" + std::to_string(id));
      ensemble.Kill(id);  // the Pod deleted: zkop's entrypoint SIGKILLs ZooKeeper
      addresses.Erase(id);
      WipeData(ensemble, id);
      Append(steps, "-" + std::to_string(id));
      continue;
    }
    if (plan.start) throw std::runtime_error("zkop scale: the planner wants " + plan.start->type);
    if (plan.blocked.empty()) break;
    if (Clock::now() > deadline) throw std::runtime_error("zkop scale: blocked: " + plan.blocked);
    std::this_thread::sleep_for(100ms);
  }
  return steps;
}

std::vector<zk::Member> PrepareStaticEnsemble(ZkEnsemble& ensemble, int initial, int max) {
  while (static_cast<int>(ensemble.Ids().size()) < max) ensemble.AddMember();
  ensemble.StopAll();
  std::vector<zk::Member> all;
  for (int id = 1; id <= max; ++id) all.push_back(ensemble.MemberConfig(id));
  const std::vector<zk::Member> first(all.begin(), all.begin() + initial);
  for (int id = 1; id <= max; ++id) {
    WipeData(ensemble, id);
    WriteStaticConfig(ensemble, id, first);
  }
  for (int id = 1; id <= initial; ++id) ensemble.Start(id);
  if (!ensemble.WaitForQuorum(std::chrono::milliseconds(kStepTimeout)))
    throw std::runtime_error("StatefulSet baseline: the static ensemble formed no quorum");
  return all;
}

std::string StatefulSetScale(ZkEnsemble& ensemble, MemberAddresses& addresses,
                             const std::vector<zk::Member>& all, int from, int to) {
  const std::vector<zk::Member> target(all.begin(), all.begin() + to);
  std::vector<int> ids;
  for (const auto& m : all) ids.push_back(m.id);
  const std::string order = "StatefulSet scale";
  std::string steps;
  auto restart = [&](int id) {  // the rolling update of one ordinal to the new template
    const std::string mark = Leader(QueryMember(ensemble.ClientAddress(id)).mode);
    Say(order,
        "restart " + std::to_string(id) + mark + " with " + std::to_string(to) + " servers listed");
    ensemble.Stop(id);
    WriteStaticConfig(ensemble, id, target);
    ensemble.Start(id);
    Append(steps, "restart " + std::to_string(id) + mark);
    WaitServes(ensemble, id, order);
  };
  if (to > from) {
    for (int id = from + 1; id <= to; ++id) {  // new ordinals, lowest first, each when ready
      Say(order, "create " + std::to_string(id));
      WriteStaticConfig(ensemble, id, target);
      ensemble.Start(id);
      addresses.Set(id, ensemble.ClientAddress(id));
      Append(steps, "create " + std::to_string(id));
      WaitServes(ensemble, id, order);
    }
    for (int id = from; id >= 1; --id) restart(id);
  } else {
    for (int id = from; id > to; --id) {  // condemned ordinals, highest first, one at a time
      const std::string mark = Leader(QueryMember(ensemble.ClientAddress(id)).mode);
      Say(order, "delete " + std::to_string(id) + mark);
      ensemble.Stop(id);
      addresses.Erase(id);
      Append(steps, "delete " + std::to_string(id) + mark);
    }
    for (int id = to; id >= 1; --id) restart(id);
  }
  WaitAllServe(ensemble, ids, order, true);  // settled, for the figures
  return steps;
}

}  // namespace rollbench
