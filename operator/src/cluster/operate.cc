// The Operate phase of ClusterReconciler: membership changes and rolls, one step per pass,
// each step recorded in status.operation before it acts (see operations.h).
#include <algorithm>
#include <thread>

#include "json_build.h"
#include "pass.h"
#include "zkop/kube/config.h"
#include "zkop/kube/resource.h"
#include "zkop/log/log.h"
#include "zkop/operator/cluster/ensemble_admin.h"
#include "zkop/operator/cluster/render.h"

namespace zkop::op::cluster {

namespace res = kube::resources;
using namespace json;  // NOLINT

namespace {

const log::Logger kLog("operator.cluster");

bool Healthy(const MemberState* m) { return m && m->Ready(); }

bool Retryable(const zk::Status& s) {
  return s.code() == zk::Error::kNewConfigNoQuorum || s.code() == zk::Error::kReconfigInProgress ||
         zk::IsOutcomeUnknown(s.code()) || s.code() == zk::Error::kConnectionLoss;
}

// `config` with every member rendered the operator's way (DNS names, ports), roles kept.
zk::EnsembleConfig Canonical(const ClusterSpec& spec, const zk::EnsembleConfig& config,
                             const RenderOptions& options) {
  zk::EnsembleConfig out;
  out.version = config.version;
  for (const auto& m : config.members) out.members.push_back(MemberOf(spec, m.id, m.role, options));
  return out;
}

}  // namespace

bool ClusterReconciler::RecordOperation(Pass& pass, const std::optional<Operation>& op) {
  Json status = Json::object();
  status["operation"] = op ? OperationToJson(*op) : Json::null();
  auto written = client_->PatchStatus(res::ZookeeperClusters(), pass.request.ns, pass.request.name,
                                      Obj({{"status", status}}));
  if (!written.ok()) {
    pass.failure = "recording the operation in status: " + written.error().ToString();
    return false;
  }
  pass.operation = op;
  if (written.value().has_field("status")) pass.previous_status = written.value().at("status");
  if (op && options_.step_delay.count() > 0) std::this_thread::sleep_for(options_.step_delay);
  return true;
}

bool ClusterReconciler::RecordMembership(Pass& pass, const zk::EnsembleConfig& membership) {
  const ClusterSpec& spec = pass.parsed.spec;
  for (const Json& desired : {RenderConfigMap(spec, membership),
                              RenderDiscoveryConfigMap(spec, membership, options_.render)}) {
    auto done = pass.applier->Apply(res::ConfigMaps(), desired);
    if (!done.ok()) {
      pass.failure = "recording the membership: " + done.error().ToString();
      return false;
    }
  }
  pass.membership = membership;
  return true;
}

std::unique_ptr<EnsembleAdmin> ClusterReconciler::Admin(Pass& pass) {
  const auto secret =
      cache_->Get(res::Secrets(), pass.request.ns, AdminSecretName(pass.request.name));
  std::string password;
  if (secret && secret->has_field("data") && secret->at("data").has_field("password"))
    password = kube::DecodeBase64(secret->at("data").at("password").as_string()).value_or("");
  if (password.empty()) {
    pass.facts.blocked = "Secret " + AdminSecretName(pass.request.name) +
                         " has no password: the operator cannot authenticate as the super user";
    return nullptr;
  }
  std::string connect;
  for (const auto& m : pass.observed.members) {
    if (!m.Serving() || m.pod_ip.empty()) continue;
    connect += (connect.empty() ? "" : ",") + m.ClientAddress();
  }
  std::unique_ptr<EnsembleAdmin> admin;
  if (connect.empty()) return nullptr;
  const zk::Status s = ConnectEnsembleAdmin(connect, password, options_.admin_timeout, &admin);
  if (!s.ok()) {
    kLog.Warn("cannot connect as the super user",
              {{"cluster", pass.request.Key()}, {"error", s.ToString()}});
    pass.requeue_soon = true;
    return nullptr;
  }
  return admin;
}

void ClusterReconciler::SyncRecordedMembership(Pass& pass) {
  // The committed membership as the leader serves it; the ConfigMap follows it (an operator
  // that stopped between a reconfig and recording it catches up here).
  const MemberState* leader = nullptr;
  for (const auto& m : pass.observed.members)
    if (m.server.mode == zk::ServerMode::kLeader && m.server.config) leader = &m;
  if (!leader) return;
  const zk::EnsembleConfig committed =
      Canonical(pass.parsed.spec, *leader->server.config, options_.render);
  if (RenderDynamicConfig(committed) == RenderDynamicConfig(pass.membership)) return;
  kLog.Info("recording the committed membership",
            {{"cluster", pass.request.Key()}, {"membership", RenderDynamicConfig(committed)}});
  if (RecordMembership(pass, committed)) pass.requeue_soon = true;
}

void ClusterReconciler::Operate(Pass& pass) {
  if (!pass.failure.empty() || pass.stop.stop_requested() || pass.facts.bootstrapping) return;
  const ClusterSpec& spec = pass.parsed.spec;
  const std::string desired_hash = RenderMemberPod(spec, 1)
                                       .at("metadata")
                                       .at("annotations")
                                       .at(kTemplateHashAnnotation)
                                       .as_string();
  pass.operation = OperationFromStatus(pass.previous_status);
  if (!pass.operation) {
    const Plan plan = PlanNextOperation(spec, pass.observed, pass.membership, desired_hash);
    if (!plan.blocked.empty()) {
      pass.facts.blocked = plan.blocked;
      return;
    }
    if (!plan.start) {
      SyncRecordedMembership(pass);
      return;
    }
    // The cache may lag behind this process's own status writes: the API decides.
    auto fresh = client_->GetStatus(res::ZookeeperClusters(), pass.request.ns, pass.request.name);
    if (!fresh.ok()) {
      pass.failure = "reading the cluster's status: " + fresh.error().ToString();
      return;
    }
    if (fresh.value().has_field("status")) {
      pass.previous_status = fresh.value().at("status");
      pass.operation = OperationFromStatus(pass.previous_status);
    }
    if (!pass.operation) {
      Operation op = *plan.start;
      op.started_at = kube::FormatRfc3339(std::chrono::system_clock::now());
      if (!RecordOperation(pass, op)) return;
      const std::string pod = MemberPodName(spec.name, op.member);
      if (op.type == "ScaleUp")
        Event(pass, kube::EventType::kNormal, "ScalingUp",
              "adding member " + std::to_string(op.member) + " (" + pod + ") to reach " +
                  std::to_string(spec.replicas) + " members");
      else if (op.type == "ScaleDown")
        Event(pass, kube::EventType::kNormal, "ScalingDown",
              "removing member " + std::to_string(op.member) + " (" + pod + ") to reach " +
                  std::to_string(spec.replicas) + " members");
      else if (op.step == "HandOff")
        Event(pass, kube::EventType::kNormal, "RollingMember",
              "handing the leadership off from " + pod +
                  " (reconfigured to an observer), then restarting it with the current "
                  "template and promoting it back");
      else if (op.step == "Promote")
        Event(pass, kube::EventType::kNormal, "PromotingMember",
              "promoting " + pod + " from an observer back to a participant");
      else
        Event(pass, kube::EventType::kNormal, "RollingMember",
              "restarting " + pod + " with the current template");
      kLog.Info("operation started",
                {{"cluster", pass.request.Key()}, {"type", op.type}, {"member", op.member}});
    }
  }
  Advance(pass, desired_hash);
  pass.requeue_soon = true;
}

void ClusterReconciler::Step(Pass& pass, const std::string& step) {
  Operation next = *pass.operation;
  next.step = step;
  RecordOperation(pass, next);
}

void ClusterReconciler::Finish(Pass& pass, const std::string& reason, const std::string& message) {
  const Operation done = *pass.operation;
  if (!RecordOperation(pass, std::nullopt)) return;
  Event(pass, kube::EventType::kNormal, reason, message);
  kLog.Info("operation finished",
            {{"cluster", pass.request.Key()}, {"type", done.type}, {"member", done.member}});
}

bool ClusterReconciler::ReconfigureRole(Pass& pass, EnsembleAdmin& admin, int id,
                                        const std::string& role) {
  const ClusterSpec& spec = pass.parsed.spec;
  zk::EnsembleConfig config;
  zk::Status s = admin.ReadConfig(&config);
  if (!s.ok()) return false;
  const zk::Member* present = config.Find(id);
  if (!present || present->role != role) {
    s = admin.Add(MemberOf(spec, id, role, options_.render), config.version, &config);
    if (!s.ok()) {
      if (!Retryable(s))
        pass.facts.blocked = "reconfig " + MemberPodName(spec.name, id) + " as " +
                             (role == "observer" ? "an " : "a ") + role + ": " + s.ToString();
      return false;  // the next pass reads the config back and decides
    }
  }
  return RecordMembership(pass, Canonical(spec, config, options_.render));
}

// The operation in progress and the member it is about, as of this pass (a copy: a step
// records the next one in pass.operation).
struct ClusterReconciler::Target {
  const ClusterSpec& spec;
  const Operation op;
  const MemberState* member;  // nullptr when the member has neither Pod nor claim
  const std::string pod;
  const std::string claim;
};

void ClusterReconciler::Advance(Pass& pass, const std::string& desired_hash) {
  const Operation& op = *pass.operation;
  const ClusterSpec& spec = pass.parsed.spec;
  const Target t{spec, op, pass.observed.Find(op.member), MemberPodName(spec.name, op.member),
                 MemberClaimName(spec.name, op.member)};
  if (op.type == "ScaleUp" &&
      (op.step == "CreateMember" || op.step == "WaitSynced" || op.step == "Reconfigure"))
    return AdvanceScaleUp(pass, t);
  if (op.type == "ScaleDown" &&
      (op.step == "Reconfigure" || op.step == "DeletePod" || op.step == "DeleteClaim"))
    return AdvanceScaleDown(pass, t);
  if (op.type == "Roll" && (op.step == "HandOff" || op.step == "DeletePod" ||
                            op.step == "WaitServing" || op.step == "Promote"))
    return AdvanceRoll(pass, t, desired_hash);
  // An operation this version does not know: drop it.
  kLog.Warn("dropping an unknown operation",
            {{"cluster", pass.request.Key()}, {"type", op.type}, {"step", op.step}});
  RecordOperation(pass, std::nullopt);
}

void ClusterReconciler::AdvanceScaleUp(Pass& pass, const Target& t) {
  const ClusterSpec& spec = t.spec;
  const Operation& op = t.op;
  const MemberState* m = t.member;
  const std::string& pod = t.pod;
  const std::string& claim = t.claim;
  if (op.step == "CreateMember") {
    // A claim left by an earlier member with this id is stale: it goes first.
    const auto live = cache_->Get(res::PersistentVolumeClaims(), spec.ns, claim);
    if (live) {
      const Json& meta = live->at("metadata");
      const bool ours =
          meta.has_field("annotations") && meta.at("annotations").has_field(kOperationAnnotation) &&
          meta.at("annotations").at(kOperationAnnotation).as_string() == op.started_at;
      if (!ours) {
        if (!meta.has_field("deletionTimestamp")) {
          auto deleted = client_->Delete(res::PersistentVolumeClaims(), spec.ns, claim);
          if (!deleted.ok() && !deleted.Is(kube::ErrorKind::kNotFound))
            pass.failure = "deleting stale claim " + claim + ": " + deleted.error().ToString();
        }
        return;  // until it is gone
      }
    }
    zk::EnsembleConfig joining = pass.membership;
    if (!joining.Find(op.member)) {
      joining.members.push_back(MemberOf(spec, op.member, "observer", options_.render));
      std::sort(joining.members.begin(), joining.members.end(),
                [](const zk::Member& a, const zk::Member& b) { return a.id < b.id; });
      if (!RecordMembership(pass, joining)) return;
    }
    if (!live) {
      Json fresh = RenderMemberClaim(spec, op.member);
      fresh["metadata"]["annotations"] = Obj({{kOperationAnnotation, Str(op.started_at)}});
      auto created = pass.applier->Create(res::PersistentVolumeClaims(), fresh);
      if (!created.ok()) {
        pass.failure = "creating claim " + claim + ": " + created.error().ToString();
        return;
      }
    }
    auto created = pass.applier->Create(res::Pods(), RenderMemberPod(spec, op.member));
    if (!created.ok()) {
      pass.failure = "creating Pod " + pod + ": " + created.error().ToString();
      return;
    }
    Step(pass, "WaitSynced");
    return;
  }
  if (op.step == "WaitSynced") {
    if (!Healthy(m)) return;  // the joiner syncs as an observer
    Step(pass, "Reconfigure");
    return;
  }
  // Reconfigure
  auto admin = Admin(pass);
  if (!admin || !ReconfigureRole(pass, *admin, op.member, "participant")) return;
  Finish(pass, "MemberAdded", pod + " joined the ensemble as a participant");
}

void ClusterReconciler::AdvanceScaleDown(Pass& pass, const Target& t) {
  const ClusterSpec& spec = t.spec;
  const Operation& op = t.op;
  const MemberState* m = t.member;
  const std::string& pod = t.pod;
  const std::string& claim = t.claim;
  if (op.step == "Reconfigure") {
    auto admin = Admin(pass);
    if (!admin) return;
    zk::EnsembleConfig config;
    zk::Status s = admin->ReadConfig(&config);
    if (!s.ok()) return;
    if (config.Find(op.member)) {
      s = admin->Remove(op.member, config.version, &config);
      if (!s.ok()) {
        if (!Retryable(s)) pass.facts.blocked = "reconfig -remove " + pod + ": " + s.ToString();
        return;
      }
    }
    if (!admin->ConfirmWithWrite(RenderDynamicConfig(config)).ok()) return;
    if (!RecordMembership(pass, Canonical(spec, config, options_.render))) return;
    Step(pass, "DeletePod");
    if (!pass.failure.empty()) return;
    // The removed member still runs as a non-voting follower: it goes at once.
  }
  if (pass.operation->step == "DeletePod") {
    if (m && m->pod_exists) {
      if (!m->pod_terminating) {
        kube::DeleteOptions d;
        d.precondition_uid = m->pod_uid;
        auto deleted = client_->Delete(res::Pods(), spec.ns, pod, d);
        if (!deleted.ok() && !deleted.Is(kube::ErrorKind::kNotFound) &&
            !deleted.Is(kube::ErrorKind::kConflict))
          pass.failure = "deleting Pod " + pod + ": " + deleted.error().ToString();
      }
      return;  // until it is gone
    }
    Step(pass, "DeleteClaim");
    return;
  }
  if (op.step == "DeleteClaim") {
    if (m && m->claim_exists) {
      if (!m->claim_terminating) {
        auto deleted = client_->Delete(res::PersistentVolumeClaims(), spec.ns, claim);
        if (!deleted.ok() && !deleted.Is(kube::ErrorKind::kNotFound))
          pass.failure = "deleting claim " + claim + ": " + deleted.error().ToString();
      }
      return;
    }
    Finish(pass, "MemberRemoved",
           pod + " left the ensemble; its Pod and volume " + claim + " are deleted");
  }
}

void ClusterReconciler::FinishRoll(Pass& pass, const std::string& message) {
  // A leader that handed off is an observer until it is promoted back.
  const zk::Member* member = pass.membership.Find(pass.operation->member);
  if (member && member->role == "observer") {
    Step(pass, "Promote");
    return;
  }
  Finish(pass, "MemberRolled", message);
}

void ClusterReconciler::AdvanceRoll(Pass& pass, const Target& t, const std::string& desired_hash) {
  const ClusterSpec& spec = t.spec;
  const Operation& op = t.op;
  const MemberState* m = t.member;
  const std::string& pod = t.pod;
  if (op.step == "HandOff") {
    // The leader steps down before its restart: reconfigured to an observer, it hands the
    // leadership to a follower ZooKeeper designates, which takes over without an election.
    // A write through the new leader confirms it leads before the Pod goes.
    auto admin = Admin(pass);
    if (!admin || !ReconfigureRole(pass, *admin, op.member, "observer") ||
        !admin->ConfirmWithWrite(RenderDynamicConfig(pass.membership)).ok())
      return;
    Step(pass, "DeletePod");
    return;
  }
  if (op.step == "Promote") {
    if (!Healthy(m)) return;
    auto admin = Admin(pass);
    if (!admin || !ReconfigureRole(pass, *admin, op.member, "participant")) return;
    Finish(pass, "MemberRolled", pod + " runs the current template and votes again");
    return;
  }
  // DeletePod, WaitServing
  if (m && m->pod_exists && !m->pod_terminating && m->template_hash != desired_hash) {
    if (op.step == "WaitServing" && m->Serving()) {
      // Serving on the old template after the spec changed back: nothing to restart.
      FinishRoll(pass, pod + " runs the current template");
      return;
    }
    kube::DeleteOptions d;
    d.precondition_uid = m->pod_uid;
    auto deleted = client_->Delete(res::Pods(), spec.ns, pod, d);
    if (!deleted.ok() && !deleted.Is(kube::ErrorKind::kNotFound) &&
        !deleted.Is(kube::ErrorKind::kConflict)) {
      pass.failure = "deleting Pod " + pod + ": " + deleted.error().ToString();
      return;
    }
    if (op.step == "DeletePod") Step(pass, "WaitServing");
    return;
  }
  if (op.step == "DeletePod") {
    Step(pass, "WaitServing");
    return;
  }
  if (m && m->pod_exists && m->template_hash == desired_hash && Healthy(m))
    FinishRoll(pass, pod + " restarted with the current template and serves");
}

}  // namespace zkop::op::cluster
