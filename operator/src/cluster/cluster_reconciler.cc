#include "zkop/operator/cluster/cluster_reconciler.h"

#include <algorithm>

#include "json_build.h"
#include "pass.h"
#include "zkop/kube/resource.h"
#include "zkop/log/log.h"
#include "zkop/operator/cluster/apply.h"
#include "zkop/operator/cluster/ensemble_metrics.h"
#include "zkop/operator/cluster/spec.h"
#include "zkop/operator/cluster/status.h"

namespace zkop::op::cluster {

namespace res = kube::resources;
using namespace json;  // NOLINT

namespace {

const log::Logger kLog("operator.cluster");

std::string NowRfc3339() { return kube::FormatRfc3339(std::chrono::system_clock::now()); }

std::vector<int> Ids(const zk::EnsembleConfig& config) {
  std::vector<int> ids;
  for (const auto& m : config.members) ids.push_back(m.id);
  return ids;
}

bool HasFinalizer(const Json& cr) {
  const Json& meta = cr.at("metadata");
  if (!meta.has_field("finalizers") || !meta.at("finalizers").is_array()) return false;
  for (const auto& f : meta.at("finalizers").as_array())
    if (f.is_string() && f.as_string() == kFinalizer) return true;
  return false;
}

// A merge patch that sets metadata.finalizers to `finalizers`, conditional on the cluster's
// resourceVersion (a concurrent change of the list makes it fail with a conflict).
Json FinalizersPatch(const Json& cr, const Json& finalizers) {
  return Obj({{"metadata", Obj({{"finalizers", finalizers},
                                {"resourceVersion", Str(kube::ResourceVersionOf(cr))}})}});
}

std::string Phase(const std::vector<Condition>& conditions, bool refused) {
  if (refused) return "Invalid";
  for (const auto& c : conditions)
    if (c.type == "Degraded" && c.status == "True") return "Degraded";
  for (const auto& c : conditions)
    if (c.type == "Ready" && c.status == "True") return "Ready";
  return "Progressing";
}

}  // namespace

ClusterReconciler::ClusterReconciler(std::shared_ptr<kube::Client> client, const ObjectCache* cache,
                                     std::shared_ptr<kube::EventRecorder> recorder,
                                     std::unique_ptr<MemberProbe> probe, OperatorMetrics* metrics,
                                     ReconcilerOptions options)
    : client_(std::move(client)),
      cache_(cache),
      recorder_(std::move(recorder)),
      probe_(std::move(probe)),
      metrics_(metrics),
      options_(std::move(options)) {}

ReconcileOutcome ClusterReconciler::Reconcile(const ReconcileRequest& request,
                                              std::stop_token stop) {
  Pass pass;
  pass.request = request;
  pass.stop = std::move(stop);
  if (!FetchAndValidate(pass)) {
    if (!pass.failure.empty()) return ReconcileOutcome::Failed(pass.failure);
    if (pass.deleting) return Finalize(pass);
    if (pass.cr.is_null()) return ReconcileOutcome::Done();  // gone
    return WriteStatus(pass);  // refused spec: conditions and Events only
  }
  if (!EnsureBaseObjects(pass)) return ReconcileOutcome::Failed(pass.failure);
  if (pass.stop.stop_requested()) return ReconcileOutcome::Done();
  ObserveMembers(pass);
  Converge(pass);
  Operate(pass);
  if (!pass.failure.empty()) return ReconcileOutcome::Failed(pass.failure);
  return WriteStatus(pass);
}

bool ClusterReconciler::FetchAndValidate(Pass& pass) {
  const auto cr = cache_->Get(res::ZookeeperClusters(), pass.request.ns, pass.request.name);
  if (!cr) {
    pass.cr = Json::null();
    if (metrics_) metrics_->ForgetCluster(pass.request.ns, pass.request.name);
    std::lock_guard lock(mu_);
    last_written_status_.erase(pass.request.Key());
    return false;
  }
  pass.cr = *cr;
  if (pass.cr.has_field("status")) pass.previous_status = pass.cr.at("status");
  pass.deleting = pass.cr.at("metadata").has_field("deletionTimestamp");
  if (pass.deleting) return false;

  if (!HasFinalizer(pass.cr)) {
    Json finalizers = pass.cr.at("metadata").has_field("finalizers")
                          ? pass.cr.at("metadata").at("finalizers")
                          : Json::array();
    Push(finalizers, Str(kFinalizer));
    auto patched = client_->Patch(res::ZookeeperClusters(), pass.request.ns, pass.request.name,
                                  FinalizersPatch(pass.cr, finalizers));
    if (!patched.ok()) {
      pass.failure =
          "adding finalizer " + std::string(kFinalizer) + ": " + patched.error().ToString();
      return false;
    }
    pass.cr = patched.value();
  }

  pass.parsed = ParseCluster(pass.cr);
  // The membership the operator recorded (ConfigMap) or, for a new cluster, the spec's.
  const auto config_map =
      cache_->Get(res::ConfigMaps(), pass.request.ns, ConfigMapName(pass.request.name));
  bool recorded = false;
  if (config_map && config_map->has_field("data") &&
      config_map->at("data").has_field("zoo.cfg.dynamic")) {
    recorded = zk::ParseEnsembleConfig(config_map->at("data").at("zoo.cfg.dynamic").as_string(),
                                       &pass.membership)
                   .ok();
  }
  if (!recorded) {
    pass.membership = pass.parsed.ok() ? InitialMembership(pass.parsed.spec, options_.render)
                                       : zk::EnsembleConfig{};
  }
  const Condition ready = FindCondition(pass.previous_status, "Ready");
  pass.facts.bootstrapping =
      ready.status != "True" &&
      (ready.reason.empty() || ready.reason == "Bootstrapping" || ready.reason == "InvalidSpec");
  pass.facts.membership = Ids(pass.membership);
  pass.facts.participants =
      static_cast<int>(std::count_if(pass.membership.members.begin(), pass.membership.members.end(),
                                     [](const zk::Member& m) { return m.role != "observer"; }));
  pass.operation = OperationFromStatus(pass.previous_status);
  pass.facts.spec_errors = pass.parsed.errors;
  return pass.parsed.ok();
}

ReconcileOutcome ClusterReconciler::Finalize(Pass& pass) {
  if (!HasFinalizer(pass.cr)) return ReconcileOutcome::Done();
  const ParsedCluster parsed = ParseCluster(pass.cr);
  const auto selector = kube::LabelSelector::Parse(SelectorString(pass.request.name));
  if (parsed.spec.storage.reclaim == ReclaimPolicy::kDelete) {
    for (const auto& claim :
         cache_->List(res::PersistentVolumeClaims(), pass.request.ns, *selector)) {
      if (claim.at("metadata").has_field("deletionTimestamp")) continue;
      auto deleted =
          client_->Delete(res::PersistentVolumeClaims(), pass.request.ns, kube::NameOf(claim));
      if (!deleted.ok() && !deleted.Is(kube::ErrorKind::kNotFound))
        return ReconcileOutcome::Failed("deleting claim " + kube::NameOf(claim) + ": " +
                                        deleted.error().ToString());
      kLog.Info("deleted member volume claim (reclaimPolicy Delete)",
                {{"cluster", pass.request.Key()}, {"claim", kube::NameOf(claim)}});
    }
  }
  Json finalizers = Json::array();
  for (const auto& f : pass.cr.at("metadata").at("finalizers").as_array())
    if (!(f.is_string() && f.as_string() == kFinalizer)) Push(finalizers, f);
  auto patched = client_->Patch(res::ZookeeperClusters(), pass.request.ns, pass.request.name,
                                FinalizersPatch(pass.cr, finalizers));
  if (!patched.ok() && !patched.Is(kube::ErrorKind::kNotFound))
    return ReconcileOutcome::Failed("removing finalizer: " + patched.error().ToString());
  if (metrics_) metrics_->ForgetCluster(pass.request.ns, pass.request.name);
  kLog.Info("cluster deleted",
            {{"cluster", pass.request.Key()},
             {"volumes",
              parsed.spec.storage.reclaim == ReclaimPolicy::kDelete ? "deleted" : "retained"}});
  return ReconcileOutcome::Done();
}

bool ClusterReconciler::EnsureBaseObjects(Pass& pass) {
  const ClusterSpec& spec = pass.parsed.spec;
  pass.applier = std::make_unique<Applier>(client_, cache_);
  Applier& a = *pass.applier;
  struct Step {
    kube::ResourceRef ref;
    std::function<Json()> render;
    bool create_only;
  };
  const std::vector<Step> steps = {
      {res::Secrets(), [&] { return RenderAdminSecret(spec, NewAdminPassword()); }, true},
      {res::ConfigMaps(), [&] { return RenderConfigMap(spec, pass.membership); }, false},
      {res::Services(), [&] { return RenderHeadlessService(spec); }, false},
      {res::Services(), [&] { return RenderClientService(spec); }, false},
      {res::PodDisruptionBudgets(), [&] { return RenderPodDisruptionBudget(spec); }, false},
      {res::ConfigMaps(),
       [&] { return RenderDiscoveryConfigMap(spec, pass.membership, options_.render); }, false},
  };
  for (const auto& step : steps) {
    const Json desired = step.render();
    auto done = step.create_only ? a.Create(step.ref, desired) : a.Apply(step.ref, desired);
    const std::string what =
        desired.at("kind").as_string() + " " + desired.at("metadata").at("name").as_string();
    if (!done.ok()) {
      pass.failure = "applying " + what + ": " + done.error().ToString();
      return false;
    }
    if (done.value() != ApplyAction::kUnchanged) {
      pass.facts.actions.push_back(std::string(ApplyActionName(done.value())) + " " + what);
      kLog.Info("applied", {{"cluster", pass.request.Key()},
                            {"object", what},
                            {"action", std::string(ApplyActionName(done.value()))}});
    }
  }
  return true;
}

void ClusterReconciler::ObserveMembers(Pass& pass) {
  pass.observed = Observe(pass.parsed.spec, pass.facts.membership, *cache_, *probe_);
}

void ClusterReconciler::Converge(Pass& pass) {
  const ClusterSpec& spec = pass.parsed.spec;
  Applier& a = *pass.applier;
  for (const MemberState& m : pass.observed.members) {
    if (pass.stop.stop_requested()) return;
    const bool member = std::find(pass.facts.membership.begin(), pass.facts.membership.end(),
                                  m.id) != pass.facts.membership.end();
    if (!member) continue;  // not a member: scaling decides what happens to it
    if (m.claim_terminating || m.pod_terminating) {
      pass.requeue_soon = true;  // wait until it is gone, then recreate
      continue;
    }
    if (!m.claim_exists) {
      if (m.pod_exists || !pass.facts.bootstrapping) continue;  // reported as Degraded
      auto created = a.Create(res::PersistentVolumeClaims(), RenderMemberClaim(spec, m.id));
      if (!created.ok()) {
        pass.failure = "creating claim " + MemberClaimName(spec.name, m.id) + ": " +
                       created.error().ToString();
        return;
      }
      if (created.value() == ApplyAction::kCreated)
        pass.facts.actions.push_back("created PersistentVolumeClaim " +
                                     MemberClaimName(spec.name, m.id));
    }
    if (!m.pod_exists) {
      auto created = a.Create(res::Pods(), RenderMemberPod(spec, m.id));
      if (!created.ok()) {
        pass.failure = "creating Pod " + m.pod + ": " + created.error().ToString();
        return;
      }
      if (created.value() != ApplyAction::kCreated) continue;
      if (pass.facts.bootstrapping) {
        pass.facts.actions.push_back("created Pod " + m.pod);
      } else {
        pass.facts.actions.push_back("recreated Pod " + m.pod + " (same id and volume)");
        Event(pass, kube::EventType::kNormal, "MemberRecreated",
              "recreated member Pod " + m.pod + " with id " + std::to_string(m.id) +
                  " on its volume " + MemberClaimName(spec.name, m.id));
      }
    }
  }
  // A cluster whose members do not all serve yet is looked at again soon.
  for (const MemberState& m : pass.observed.members)
    if (!m.pod_ready || !m.Serving()) pass.requeue_soon = true;
  if (!pass.facts.actions.empty()) pass.requeue_soon = true;
}

void ClusterReconciler::Event(Pass& pass, kube::EventType type, const std::string& reason,
                              const std::string& message) {
  if (!recorder_) return;
  auto recorded = recorder_->Record(pass.cr, type, reason, message);
  if (!recorded.ok()) {
    kLog.Warn("could not record event", {{"cluster", pass.request.Key()},
                                         {"reason", reason},
                                         {"error", recorded.error().ToString()}});
  }
}

ReconcileOutcome ClusterReconciler::WriteStatus(Pass& pass) {
  ClusterSpec spec = pass.parsed.spec;
  if (spec.name.empty()) {
    spec.name = pass.request.name;
    spec.ns = pass.request.ns;
  }
  if (!pass.parsed.ok() && !pass.facts.membership.empty()) {
    // A refused change to a running cluster: observe it as it is.
    pass.observed = Observe(spec, pass.facts.membership, *cache_, *probe_);
  }
  pass.facts.operation = pass.operation;
  const auto conditions = ComputeConditions(spec, pass.observed, pass.facts);
  Json status = ComputeStatus(spec, pass.observed, conditions, pass.previous_status, NowRfc3339(),
                              options_.render);
  if (pass.operation) status["operation"] = OperationToJson(*pass.operation);

  // Events for transitions (never for a state that merely persists: zero writes at rest).
  for (const auto& c : conditions) {
    const Condition before = FindCondition(pass.previous_status, c.type);
    if (before.status == c.status && before.reason == c.reason && before.message == c.message)
      continue;
    if (c.type == "Ready" && c.status == "True" && before.status != "True") {
      Event(pass, kube::EventType::kNormal, "EnsembleReady", c.message);
    } else if (c.type == "Ready" && c.status == "False" && before.status == "True") {
      Event(pass, kube::EventType::kWarning, c.reason, c.message);
    } else if (c.type == "Degraded" && c.status == "True" && c.reason == "InvalidSpec") {
      for (const auto& p : pass.parsed.errors)
        Event(pass, kube::EventType::kWarning, p.reason, p.field + ": " + p.message);
    } else if (c.type == "Degraded" && c.status == "True" && before.reason != c.reason) {
      Event(pass, kube::EventType::kWarning, c.reason, c.message);
    }
  }
  const int64_t seen_generation =
      pass.previous_status.is_object() && pass.previous_status.has_field("observedGeneration")
          ? pass.previous_status.at("observedGeneration").as_number().to_int64()
          : 0;
  if (seen_generation != spec.generation) {
    for (const auto& w : pass.parsed.warnings)
      Event(pass, kube::EventType::kWarning, w.reason, w.field + ": " + w.message);
  }
  const std::string leader = status.at("leader").as_string();
  const std::string before_leader =
      pass.previous_status.is_object() && pass.previous_status.has_field("leader")
          ? pass.previous_status.at("leader").as_string()
          : "";
  if (!leader.empty() && leader != before_leader) {
    Event(pass, kube::EventType::kNormal, "LeaderElected", leader + " leads the ensemble");
    if (metrics_ && !before_leader.empty()) metrics_->IncLeaderElections(spec.ns, spec.name);
  }
  if (metrics_) {
    metrics_->SetClusterPhase(spec.ns, spec.name, Phase(conditions, !pass.parsed.ok()));
    std::vector<OperatorMetrics::Member> members;
    for (const auto& m : status.at("members").as_array())
      members.push_back({m.at("role").as_string(), m.at("ready").as_bool()});
    metrics_->SetMembers(spec.ns, spec.name, members);
  }

  bool unchanged = SameStatus(status, pass.previous_status);
  std::string written_before;
  {
    std::lock_guard lock(mu_);
    auto it = last_written_status_.find(pass.request.Key());
    if (it != last_written_status_.end()) written_before = it->second;
  }
  if (!written_before.empty() && SameStatus(status, Json::parse(written_before))) unchanged = true;
  if (!unchanged) {
    auto written = client_->PatchStatus(res::ZookeeperClusters(), spec.ns, spec.name,
                                        Obj({{"status", status}}));
    if (!written.ok()) {
      if (written.Is(kube::ErrorKind::kNotFound)) return ReconcileOutcome::Done();
      return ReconcileOutcome::Failed("writing status: " + written.error().ToString());
    }
    std::lock_guard lock(mu_);
    last_written_status_[pass.request.Key()] = status.serialize();
  }
  if (!pass.parsed.ok()) return ReconcileOutcome::RequeueAfter(options_.resync_interval);
  return ReconcileOutcome::RequeueAfter(pass.requeue_soon ? options_.settle_interval
                                                          : options_.resync_interval);
}

std::unique_ptr<Reconciler> MakeClusterReconciler(const ManagerDeps& deps) {
  ReconcilerOptions options;
  options.render.cluster_domain = deps.cluster_domain;
  options.step_delay = deps.step_delay;
  if (deps.add_collectable) {
    deps.add_collectable(std::make_shared<EnsembleCollector>(deps.cache, deps.leading));
  }
  return std::make_unique<ClusterReconciler>(deps.client, deps.cache, deps.recorder,
                                             NewFourLetterProbe(options.probe_timeout),
                                             deps.metrics, options);
}

}  // namespace zkop::op::cluster
