// One container's run under PodWorker: its context (hostname, hosts file, mounts, in-cluster
// view), starting it (env, log file per run, probes, postStart hook) with back-off and image
// errors, reaping its exit under the Pod's restartPolicy, probing it (startup, liveness,
// readiness), and its exec lifecycle hooks.
#include "pod_worker_internal.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "zkop/devkube/pods/volumes.h"
#include "zkop/log/log.h"

namespace zkop::devkube::pods {
ContainerContext PodWorker::ContextFor(const Container& c) const {
  ContainerContext ctx;
  ctx.image = c.entry;
  const std::string hostname = Field({"spec", "hostname"});
  ctx.hostname = hostname.empty() ? name_ : hostname;
  ctx.hosts_file = hosts_file_;
  ctx.work_dir = pod_dir_;
  const char* path = std::getenv("PATH");
  ctx.path_env = path ? path : "/usr/local/bin:/usr/bin:/bin";
  if (c.spec.has_field("volumeMounts") && c.spec.at("volumeMounts").is_array()) {
    for (const auto& vm : c.spec.at("volumeMounts").as_array()) {
      auto d = volume_dirs_.find(Str(vm, "name"));
      if (d == volume_dirs_.end()) continue;
      std::string host = d->second;
      if (!Str(vm, "subPath").empty()) host += "/" + Str(vm, "subPath");
      ctx.mounts.push_back({Str(vm, "mountPath"), host});
    }
  }
  AddInClusterView(ctx);
  return ctx;
}

void PodWorker::SyncContainer(Container& c, bool volumes_ok, const std::string& volume_error) {
  if (c.pid) ReapContainer(c);
  if (c.pid) {
    ProbeContainer(c);
    return;
  }
  c.ready = false;
  if (c.ever_started) {
    const std::string policy = Field({"spec", "restartPolicy"});
    if (policy == "Never" || (policy == "OnFailure" && c.last_exit == 0)) return;
  }
  TryStart(c, volumes_ok, volume_error);
}

void PodWorker::TryStart(Container& c, bool volumes_ok, const std::string& volume_error) {
  const auto now = Clock::now();
  if (now < c.next_start) return;
  if (!c.entry) {
    const bool first = !c.state.has_field("waiting") ||
                       Str(c.state.at("waiting"), "reason") == "ContainerCreating" ||
                       Str(c.state.at("waiting"), "reason") == "PodInitializing";
    SetWaiting(c, first ? "ErrImagePull" : "ImagePullBackOff",
               "image \"" + c.image + "\" is not in the devkube pod runtime's image table (" +
                   host_.options().images.Describe() + ")");
    c.next_start = now + c.backoff.RecordExit(milliseconds(0));
    return;
  }
  if (!volumes_ok) {
    if (!volume_error.empty()) SetWaiting(c, "ContainerCreating", volume_error);
    return;
  }
  StartContainer(c);
}

std::optional<LaunchSpec> PodWorker::HookSpec(const Container& c, const char* hook) const {
  const value cmd = Path(c.spec, {"lifecycle", hook, "exec", "command"});
  if (!cmd.is_array() || cmd.size() == 0) return std::nullopt;
  LaunchSpec spec = c.probe_target.exec_base;
  spec.argv.clear();
  for (const auto& a : cmd.as_array()) {
    if (a.is_string())
      spec.argv.push_back(RewritePath(ExpandReferences(a.as_string(), c.env_vars), c.mounts));
  }
  return spec;
}

void PodWorker::StartContainer(Container& c) {
  const auto now = Clock::now();
  value status_view = value::object();
  status_view["podIP"] = S(ip_);
  status_view["hostIP"] = S(host_.options().host_ip);
  value pod;
  {
    std::lock_guard lock(mu_);
    pod = pod_;
  }
  auto env = ResolveEnv(
      pod, c.spec, status_view, [&](const std::string& resource, const std::string& name) {
        return host_.Lookup(resource == "secrets" ? ObjectKind::kSecret : ObjectKind::kConfigMap,
                            ns_, name);
      });
  if (!env.error.empty()) {
    SetWaiting(c, "CreateContainerConfigError", env.error);
    c.next_start = now + seconds(1);
    return;
  }
  ContainerContext ctx = ContextFor(c);
  ctx.pod_env = env.vars;
  // Like the kubelet, a missing subPath is created as a directory.
  for (const auto& m : ctx.mounts) {
    std::string ignored;
    if (::access(m.host_path.c_str(), F_OK) != 0) MakeDirs(m.host_path, 0777, &ignored);
  }
  const std::string log_dir = pod_dir_ + "/logs/" + c.name;
  std::string error;
  MakeDirs(log_dir, 0755, &error);
  // One file per run, named for the restartCount the status shows while it runs (0.log, 1.log,
  // ...): a restarted container's previous log stays whole, as the kubelet keeps it.
  const int run = c.ever_started ? c.restart_count + 1 : 0;
  ctx.log_path = log_dir + "/" + std::to_string(run) + ".log";
  {
    std::lock_guard lock(mu_);
    log_paths_[c.name] = ctx.log_path;
  }
  // Probes are checked before anything runs: one that cannot run here is a config error.
  std::optional<ProbeTracker> probes[3];
  const char* kProbeFields[3] = {"readinessProbe", "livenessProbe", "startupProbe"};
  for (int i = 0; i < 3; ++i) {
    const char* field = kProbeFields[i];
    if (!c.spec.has_field(field) || c.spec.at(field).is_null()) continue;
    std::string perror;
    auto spec = ParseProbe(c.spec.at(field), c.spec, field, &perror);
    if (!spec) {
      SetWaiting(c, "CreateContainerConfigError", perror);
      c.next_start = now + seconds(1);
      return;
    }
    for (auto& arg : spec->command) arg = RewritePath(ExpandReferences(arg, env.vars), ctx.mounts);
    // The kubelet's initial results: liveness succeeds, readiness and startup fail.
    probes[i].emplace(*spec, i == 1, now);
  }
  auto launch = BuildLaunch(c.spec, ctx);
  std::optional<int> pid;
  if (launch.error.empty()) pid = host_.launcher().Start(launch.spec, &launch.error);
  if (!pid) {
    SetWaiting(c, "RunContainerError", launch.error);
    c.next_start = now + c.backoff.RecordExit(milliseconds(0));
    return;
  }
  if (c.ever_started) ++c.restart_count;
  c.pid = *pid;
  c.ever_started = true;
  c.killing = false;
  c.started_at = now;
  c.started_at_wall = Now3339();
  c.state = value::object();
  c.state["running"] = value::object();
  c.state["running"]["startedAt"] = S(c.started_at_wall);
  c.probe_target.pod_ip = ip_;
  c.probe_target.exec_base = launch.spec;
  c.probe_target.exec_base.log_path.clear();  // probe and hook output is not the container's log
  c.readiness = probes[0];
  c.liveness = probes[1];
  c.startup = probes[2];
  c.started = !c.startup;
  c.env_vars = env.vars;
  c.mounts = ctx.mounts;
  kLog.Info("container started", {{"pod", ns_ + "/" + name_},
                                  {"container", c.name},
                                  {"pid", c.pid},
                                  {"program", launch.spec.argv[0]}});
  if (auto hook = HookSpec(c, "postStart")) {
    std::string hook_error;
    auto exit = RunWithTimeout(host_.launcher(), *hook, seconds(GracePeriod()), &hook_error);
    if (!exit || exit->exit_code != 0) {
      kLog.Warn("postStart hook failed, stopping the container",
                {{"pod", ns_ + "/" + name_},
                 {"container", c.name},
                 {"error", exit ? "exit " + std::to_string(exit->exit_code) : hook_error}});
      host_.launcher().Signal(c.pid, SIGTERM);
      c.killing = true;
      c.kill_deadline = Clock::now() + seconds(GracePeriod());
    }
  }
}

void PodWorker::ReapContainer(Container& c) {
  auto exit = host_.launcher().Poll(c.pid);
  if (!exit) {
    if (c.killing && Clock::now() >= c.kill_deadline) host_.launcher().Signal(c.pid, SIGKILL);
    return;
  }
  const value term = Terminated(c, *exit);
  kLog.Info("container exited", {{"pod", ns_ + "/" + name_},
                                 {"container", c.name},
                                 {"pid", c.pid},
                                 {"exitCode", exit->exit_code}});
  c.pid = 0;
  c.ready = false;
  c.killing = false;
  c.last_exit = exit->exit_code;
  const auto ran = std::chrono::duration_cast<milliseconds>(Clock::now() - c.started_at);
  const std::string policy = Field({"spec", "restartPolicy"});
  const bool restarts =
      policy == "Always" || policy.empty() || (policy == "OnFailure" && exit->exit_code != 0);
  if (c.replace) {
    c.replace = false;
    c.last_state = value::object();
    c.last_state["terminated"] = term;
    SetWaiting(c, "ContainerCreating", "");
  } else if (restarts) {
    const auto delay = c.backoff.RecordExit(ran);
    c.next_start = Clock::now() + delay;
    c.last_state = value::object();
    c.last_state["terminated"] = term;
    SetWaiting(c, "CrashLoopBackOff",
               "back-off " + std::to_string(delay.count()) + "ms restarting failed container=" +
                   c.name + " pod=" + name_ + "_" + ns_ + "(" + uid_ + ")");
  } else {
    c.state = value::object();
    c.state["terminated"] = term;
  }
}

void PodWorker::ProbeContainer(Container& c) {
  if (c.killing) return;
  const auto now = Clock::now();
  auto run = [&](ProbeTracker& t) {
    auto outcome = host_.prober().Run(t.spec(), c.probe_target);
    t.Record(outcome.success, Clock::now());
    return outcome;
  };
  if (c.startup && !c.started && c.startup->Due(now)) {
    run(*c.startup);
    if (c.startup->ok()) c.started = true;
  }
  if (!c.started) return;
  if (c.liveness && c.liveness->Due(now)) {
    auto outcome = run(*c.liveness);
    if (!c.liveness->ok()) {
      kLog.Warn("liveness probe failed, restarting container",
                {{"pod", ns_ + "/" + name_}, {"container", c.name}, {"reason", outcome.message}});
      host_.launcher().Signal(c.pid, SIGTERM);
      c.killing = true;
      c.kill_deadline = Clock::now() + seconds(GracePeriod());
      c.ready = false;
      return;
    }
  }
  if (c.readiness) {
    if (c.readiness->Due(now)) run(*c.readiness);
    c.ready = c.readiness->ok();
  } else {
    c.ready = true;
  }
}

}  // namespace zkop::devkube::pods
