#include "pod_worker.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "zkop/devkube/pods/volumes.h"
#include "zkop/log/log.h"

namespace zkop::devkube::pods {
namespace {

using web::json::value;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const log::Logger kLog("devkube.pods");

std::string Str(const value& v, const std::string& key) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_string()) return "";
  return v.at(key).as_string();
}

value Path(const value& v, std::initializer_list<const char*> path) {
  value cur = v;
  for (const char* p : path) {
    if (!cur.is_object() || !cur.has_field(p)) return value::null();
    cur = cur.at(p);
  }
  return cur;
}

std::string Now3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t IntOr(const value& v, int64_t def) {
  return v.is_integer() ? v.as_number().to_int64() : def;
}

value S(const std::string& s) { return value::string(s); }

}  // namespace

struct PodWorker::Container {
  std::string name;
  value spec;
  std::string image;
  const ImageEntry* entry = nullptr;
  int pid = 0;
  bool ever_started = false;
  bool ready = false;
  bool started = false;  // startup probe passed (or none)
  int restart_count = 0;
  Clock::time_point started_at;
  std::string started_at_wall;
  std::optional<ProbeTracker> readiness, liveness, startup;
  ProbeTarget probe_target;
  value state = value::object();       // the containerStatus "state"
  value last_state = value::object();  // "lastState"
  std::optional<int> last_exit;        // exit code of the last run
  Clock::time_point next_start{};      // back-off: no start before this
  CrashBackoff backoff;
  bool killing = false;
  Clock::time_point kill_deadline{};
  bool completed = false;  // init containers: exited 0
  EnvList env_vars;        // the resolved env of the current run (hooks expand with it)
  std::vector<Mount> mounts;
  bool replace = false;  // the image changed: restart at once after the exit
  Container(const RuntimeOptions& o) : backoff(o.backoff_base, o.backoff_max, o.backoff_reset) {}
};

PodWorker::PodWorker(PodHost& host, value pod)
    : host_(host),
      uid_(Str(pod.at("metadata"), "uid")),
      ns_(Str(pod.at("metadata"), "namespace")),
      name_(Str(pod.at("metadata"), "name")),
      pod_(std::move(pod)) {
  pod_dir_ = host_.options().state_dir + "/pods/" + ns_ + "_" + name_ + "_" + uid_;
  hosts_file_ = pod_dir_ + "/hosts";
  for (const auto& [field, list] :
       {std::pair{"initContainers", &init_containers_}, std::pair{"containers", &containers_}}) {
    const value specs = Path(pod_, {"spec", field});
    if (!specs.is_array()) continue;
    for (const auto& spec : specs.as_array()) {
      auto c = std::make_unique<Container>(host_.options());
      c->name = Str(spec, "name");
      c->spec = spec;
      c->image = Str(spec, "image");
      c->entry = host_.options().images.Find(c->image);
      SetWaiting(*c, list == &init_containers_ ? "PodInitializing" : "ContainerCreating", "");
      list->push_back(std::move(c));
    }
  }
}

std::vector<PodWorker::Container*> PodWorker::AllContainers() {
  std::vector<Container*> all;
  for (auto& c : init_containers_) all.push_back(c.get());
  for (auto& c : containers_) all.push_back(c.get());
  return all;
}

PodWorker::~PodWorker() { Join(); }

void PodWorker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PodWorker::Update(value pod) {
  std::lock_guard lock(mu_);
  pod_ = std::move(pod);
  wake_ = true;
  cv_.notify_all();
}

void PodWorker::Gone() {
  std::lock_guard lock(mu_);
  gone_ = true;
  cv_.notify_all();
}

void PodWorker::Wake() {
  std::lock_guard lock(mu_);
  wake_ = true;
  cv_.notify_all();
}

void PodWorker::Stop() {
  std::lock_guard lock(mu_);
  if (!stop_) stop_deadline_ = Clock::now() + host_.options().stop_grace;
  stop_ = true;
  cv_.notify_all();
}

void PodWorker::Join() {
  if (thread_.joinable()) thread_.join();
}

std::string PodWorker::LogPath(const std::string& container) const {
  std::lock_guard lock(mu_);
  auto it = log_paths_.find(container);
  return it == log_paths_.end() ? "" : it->second;
}

std::string PodWorker::Field(std::initializer_list<const char*> path) const {
  std::lock_guard lock(mu_);
  const value v = Path(pod_, path);
  return v.is_string() ? v.as_string() : "";
}

void PodWorker::SetWaiting(Container& c, std::string reason, std::string message) {
  value waiting = value::object();
  waiting["reason"] = S(reason);
  if (!message.empty()) waiting["message"] = S(message);
  c.state = value::object();
  c.state["waiting"] = waiting;
}

void PodWorker::Prepare() {
  if (Field({"spec", "nodeName"}).empty()) {
    std::string error;
    if (!host_.cluster().BindPod(ns_, name_, host_.options().node_name, &error)) {
      kLog.Warn("cannot bind pod", {{"pod", ns_ + "/" + name_}, {"error", error}});
    }
  }
  std::string error;
  MakeDirs(pod_dir_ + "/volumes", 0755, &error);
  MakeDirs(pod_dir_ + "/logs", 0755, &error);
  start_time_ = Now3339();
}

void PodWorker::Run() {
  Prepare();
  while (true) {
    bool gone, stop, terminating;
    {
      std::unique_lock lock(mu_);
      gone = gone_;
      stop = stop_;
      terminating = !Path(pod_, {"metadata", "deletionTimestamp"}).is_null();
    }
    if (stop) {
      KillAll(stop_deadline_);
      break;
    }
    if (gone || terminating) {
      Terminate(gone);
      break;
    }
    if (ip_.empty()) {
      if (auto ip = host_.AcquireAddress(ns_ + "/" + name_)) {
        ip_ = *ip;
      } else {
        for (Container* c : AllContainers()) {
          SetWaiting(*c, "ContainerCreating",
                     "no free pod address in " + host_.options().address_range);
        }
      }
    }
    // The Pod's names resolve before its first process starts.
    if (!ip_.empty()) PublishEndpoint();
    std::string volume_error;
    const bool volumes_ok =
        !ip_.empty() && SyncVolumes(&volume_error) && SyncServiceAccount(&volume_error);
    ApplySpecChanges();
    if (SyncInitContainers(volumes_ok, volume_error)) {
      for (auto& c : containers_) SyncContainer(*c, volumes_ok, volume_error);
    }
    if (!ip_.empty()) PublishEndpoint();
    PublishStatus();
    // Sleep until the next probe or restart is due, a change arrives, or 100ms pass (exits
    // are polled).
    auto until = Clock::now() + milliseconds(100);
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, until, [this] { return wake_ || gone_ || stop_; });
    wake_ = false;
  }
  host_.WorkerDone(uid_);
}

void PodWorker::PublishEndpoint() {
  PodEndpoint ep;
  ep.ns = ns_;
  ep.name = name_;
  const std::string hostname = Field({"spec", "hostname"});
  ep.hostname = hostname.empty() ? name_ : hostname;
  ep.subdomain = Field({"spec", "subdomain"});
  ep.ip = ip_;
  ep.ready = !containers_.empty();
  for (auto& c : containers_) ep.ready = ep.ready && c->ready;
  {
    std::lock_guard lock(mu_);
    const value labels = Path(pod_, {"metadata", "labels"});
    if (labels.is_object()) {
      for (const auto& [k, v] : labels.as_object()) {
        if (v.is_string()) ep.labels[k] = v.as_string();
      }
    }
  }
  if (endpoint_ && *endpoint_ == ep) return;
  endpoint_ = ep;
  host_.SetEndpoint(uid_, ep, hosts_file_);
}

bool PodWorker::SyncVolumes(std::string* error) {
  const value volumes = [&] {
    std::lock_guard lock(mu_);
    return Path(pod_, {"spec", "volumes"});
  }();
  std::map<std::string, std::string> dirs;
  bool ok = true;
  if (!volumes.is_array()) {
    volume_dirs_ = dirs;
    return true;
  }
  for (const auto& vol : volumes.as_array()) {
    const std::string name = Str(vol, "name");
    std::string dir = pod_dir_ + "/volumes/" + name;
    std::string why;
    const bool secret = vol.has_field("secret");
    if (secret || vol.has_field("configMap")) {
      const value& source = vol.at(secret ? "secret" : "configMap");
      auto obj = host_.Lookup(secret ? ObjectKind::kSecret : ObjectKind::kConfigMap, ns_,
                              Str(source, secret ? "secretName" : "name"));
      const std::string version =
          obj ? Str(obj->at("metadata"), "resourceVersion") + "/" + Str(obj->at("metadata"), "uid")
              : "";
      if (!projected_versions_.count(name) || projected_versions_[name] != version) {
        auto files = FilesForVolume(source, secret, obj);
        bool changed = false;  // unchanged content is not rewritten
        if (!files.error.empty()) {
          why = files.error;
        } else if (ProjectFiles(dir, files.files, &changed, &why)) {
          projected_versions_[name] = version;
        }
      }
    } else if (vol.has_field("persistentVolumeClaim")) {
      const std::string claim = Str(vol.at("persistentVolumeClaim"), "claimName");
      auto obj = host_.Lookup(ObjectKind::kClaim, ns_, claim);
      if (!obj) {
        why = "persistentvolumeclaim \"" + claim + "\" not found";
      } else {
        dir = host_.ClaimDir(*obj);
      }
    } else if (vol.has_field("emptyDir")) {
      MakeDirs(dir, 0777, &why);
    } else if (vol.has_field("hostPath")) {
      dir = Str(vol.at("hostPath"), "path");
    } else {
      why =
          "volume type not supported by the devkube pod runtime (configMap, secret, "
          "persistentVolumeClaim, emptyDir and hostPath are)";
    }
    if (!why.empty()) {
      ok = false;
      if (error->empty()) *error = "MountVolume.SetUp failed for volume \"" + name + "\": " + why;
    }
    dirs[name] = dir;
  }
  volume_dirs_ = dirs;
  return ok;
}

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

bool PodWorker::SyncInitContainers(bool volumes_ok, const std::string& volume_error) {
  for (auto& ic : init_containers_) {
    Container& c = *ic;
    if (c.completed) continue;
    if (init_failed_) return false;
    if (c.pid) {
      auto exit = host_.launcher().Poll(c.pid);
      if (!exit) return false;
      const value term = Terminated(c, *exit);
      c.pid = 0;
      c.last_exit = exit->exit_code;
      if (exit->exit_code == 0) {
        c.completed = true;
        c.ready = true;
        c.state = value::object();
        c.state["terminated"] = term;
        continue;
      }
      if (Field({"spec", "restartPolicy"}) == "Never") {
        init_failed_ = true;
        c.state = value::object();
        c.state["terminated"] = term;
        return false;
      }
      const auto ran = std::chrono::duration_cast<milliseconds>(Clock::now() - c.started_at);
      const auto delay = c.backoff.RecordExit(ran);
      c.next_start = Clock::now() + delay;
      c.last_state = value::object();
      c.last_state["terminated"] = term;
      SetWaiting(c, "CrashLoopBackOff",
                 "back-off " + std::to_string(delay.count()) +
                     "ms restarting failed init container=" + c.name + " pod=" + name_ + "_" + ns_ +
                     "(" + uid_ + ")");
      return false;
    }
    TryStart(c, volumes_ok, volume_error);
    return false;
  }
  return true;
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

void PodWorker::ApplySpecChanges() {
  // Kubernetes allows one change to a running Pod's containers: the image. The kubelet
  // restarts the container with the new one.
  const value specs = [&] {
    std::lock_guard lock(mu_);
    return Path(pod_, {"spec", "containers"});
  }();
  if (!specs.is_array()) return;
  for (const auto& spec : specs.as_array()) {
    for (auto& c : containers_) {
      if (c->name != Str(spec, "name") || c->image == Str(spec, "image")) continue;
      kLog.Info(
          "container image changed, restarting",
          {{"pod", ns_ + "/" + name_}, {"container", c->name}, {"image", Str(spec, "image")}});
      c->spec = spec;
      c->image = Str(spec, "image");
      c->entry = host_.options().images.Find(c->image);
      c->next_start = Clock::now();
      if (c->pid && !c->killing) {
        host_.launcher().Signal(c->pid, SIGTERM);
        c->killing = true;
        c->kill_deadline = Clock::now() + seconds(GracePeriod());
      }
      c->replace = c->pid != 0;
    }
  }
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

int64_t PodWorker::GracePeriod() const {
  std::lock_guard lock(mu_);
  return IntOr(Path(pod_, {"spec", "terminationGracePeriodSeconds"}), 30);
}

value PodWorker::Terminated(const Container& c, const ExitStatus& exit) const {
  value term = value::object();
  term["exitCode"] = value::number(exit.exit_code);
  if (exit.signal) term["signal"] = value::number(exit.signal);
  term["reason"] = S(exit.exit_code == 0 ? "Completed" : "Error");
  term["startedAt"] = S(c.started_at_wall);
  term["finishedAt"] = S(Now3339());
  term["containerID"] = S("local://" + std::to_string(c.pid));
  return term;
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

void PodWorker::KillAll(Clock::time_point deadline, bool send_term) {
  if (send_term) {
    for (Container* c : AllContainers()) {
      if (c->pid) host_.launcher().Signal(c->pid, SIGTERM);
    }
  }
  bool killed = false;
  while (true) {
    bool running = false;
    for (Container* c : AllContainers()) {
      if (!c->pid) continue;
      if (auto exit = host_.launcher().Poll(c->pid)) {
        c->state = value::object();
        c->state["terminated"] = Terminated(*c, *exit);
        c->pid = 0;
        c->ready = false;
      } else {
        running = true;
      }
    }
    if (!running) return;
    {
      // A runtime that is stopping does not wait out a long grace period.
      std::lock_guard lock(mu_);
      if (stop_) deadline = std::min(deadline, stop_deadline_);
    }
    if (!killed && Clock::now() >= deadline) {
      for (Container* c : AllContainers()) {
        if (c->pid) host_.launcher().Signal(c->pid, SIGKILL);
      }
      killed = true;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

void PodWorker::StopContainers(Clock::time_point deadline) {
  // One entry per container whose preStop hook is under way: an exec hook's process, or the
  // end of a sleep hook.
  struct Pending {
    Container* c;
    int hook_pid = 0;
    Clock::time_point sleep_until{};
  };
  std::vector<Pending> pending;
  for (Container* c : AllContainers()) {
    if (!c->pid) continue;
    Pending p{c};
    const value sleep = Path(c->spec, {"lifecycle", "preStop", "sleep", "seconds"});
    if (sleep.is_integer()) {
      p.sleep_until = std::min(deadline, Clock::now() + seconds(sleep.as_number().to_int64()));
    } else if (auto hook = HookSpec(*c, "preStop")) {
      std::string error;
      if (auto pid = host_.launcher().Start(*hook, &error)) {
        p.hook_pid = *pid;
      } else {
        kLog.Warn("preStop hook failed",
                  {{"pod", ns_ + "/" + name_}, {"container", c->name}, {"error", error}});
      }
    }
    if (p.hook_pid || p.sleep_until != Clock::time_point{}) {
      pending.push_back(p);
    } else {
      host_.launcher().Signal(c->pid, SIGTERM);
    }
  }
  while (!pending.empty()) {
    {
      std::lock_guard lock(mu_);
      if (stop_) deadline = std::min(deadline, stop_deadline_);
    }
    const bool late = Clock::now() >= deadline;
    for (auto it = pending.begin(); it != pending.end();) {
      bool done = Clock::now() >= it->sleep_until;
      if (it->hook_pid) {
        std::optional<ExitStatus> exit = host_.launcher().Poll(it->hook_pid);
        if (!exit && late) {
          host_.launcher().Signal(it->hook_pid, SIGKILL);
          while (!(exit = host_.launcher().Poll(it->hook_pid))) {
            std::this_thread::sleep_for(milliseconds(1));
          }
          kLog.Warn("preStop hook failed", {{"pod", ns_ + "/" + name_},
                                            {"container", it->c->name},
                                            {"error", "the grace period ended first"}});
        } else if (exit && exit->exit_code != 0) {
          kLog.Warn("preStop hook failed", {{"pod", ns_ + "/" + name_},
                                            {"container", it->c->name},
                                            {"error", "exit " + std::to_string(exit->exit_code)}});
        }
        done = exit.has_value();
      }
      if (done) {
        if (it->c->pid) host_.launcher().Signal(it->c->pid, SIGTERM);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (!pending.empty()) std::this_thread::sleep_for(milliseconds(10));
  }
  KillAll(deadline, /*send_term=*/false);
}

void PodWorker::Terminate(bool gone) {
  value grace_v;
  {
    std::lock_guard lock(mu_);
    grace_v = Path(pod_, {"metadata", "deletionGracePeriodSeconds"});
    if (!grace_v.is_integer()) grace_v = Path(pod_, {"spec", "terminationGracePeriodSeconds"});
  }
  StopContainers(Clock::now() + seconds(IntOr(grace_v, 30)));
  if (!gone) PublishStatus();
  host_.RemoveEndpoint(uid_);
  std::string error;
  RemoveTree(pod_dir_ + "/volumes", &error);
  if (!gone) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (host_.cluster().ConfirmPodDeletion(ns_, name_, uid_, &error)) break;
      kLog.Warn("cannot confirm pod deletion", {{"pod", ns_ + "/" + name_}, {"error", error}});
      std::this_thread::sleep_for(milliseconds(200));
    }
  }
  kLog.Info("pod terminated", {{"pod", ns_ + "/" + name_}});
}

value PodWorker::ContainerStatusJson(const Container& c) const {
  value cs = value::object();
  cs["name"] = S(c.name);
  cs["image"] = S(c.image);
  cs["imageID"] =
      S(c.entry ? "local://" + (c.entry->run_command ? c.image : c.entry->program) : "");
  if (c.ever_started) cs["containerID"] = S("local://" + std::to_string(c.pid));
  cs["ready"] = value::boolean(c.ready);
  cs["started"] = value::boolean(c.pid != 0 && c.started);
  cs["restartCount"] = value::number(c.restart_count);
  cs["state"] = c.state;
  cs["lastState"] = c.last_state;
  return cs;
}

value PodWorker::BuildStatus() {
  value st = value::object();
  std::vector<value> statuses, init_statuses;
  bool initialized = true;
  for (const auto& c : init_containers_) {
    init_statuses.push_back(ContainerStatusJson(*c));
    initialized = initialized && c->completed;
  }
  bool all_started = true, any_running = false, all_done = true, all_ok = true;
  bool all_ready = !containers_.empty();
  for (const auto& c : containers_) {
    statuses.push_back(ContainerStatusJson(*c));
    all_started = all_started && c->ever_started;
    any_running = any_running || c->pid != 0 || c->state.has_field("waiting");
    const bool done = c->pid == 0 && c->state.has_field("terminated");
    all_done = all_done && done;
    all_ok = all_ok && done && c->last_exit == 0;
    all_ready = all_ready && c->ready;
  }
  std::string phase = "Pending";
  if (init_failed_) {
    phase = "Failed";
  } else if (initialized && all_done && !containers_.empty()) {
    phase = all_ok ? "Succeeded" : "Failed";
  } else if (initialized && all_started && any_running) {
    phase = "Running";
  }
  st["phase"] = S(phase);
  auto condition = [&](const std::string& type, bool ok) {
    auto& [status, time] = conditions_[type];
    const std::string s = ok ? "True" : "False";
    if (status != s) {
      status = s;
      time = Now3339();
    }
    value c = value::object();
    c["type"] = S(type);
    c["status"] = S(s);
    c["lastProbeTime"] = value::null();
    c["lastTransitionTime"] = S(time);
    return c;
  };
  st["conditions"] =
      value::array({condition("PodScheduled", true), condition("Initialized", initialized),
                    condition("ContainersReady", all_ready), condition("Ready", all_ready)});
  st["hostIP"] = S(host_.options().host_ip);
  if (!ip_.empty()) {
    st["podIP"] = S(ip_);
    value ip = value::object();
    ip["ip"] = S(ip_);
    st["podIPs"] = value::array({ip});
  }
  st["startTime"] = S(start_time_);
  st["qosClass"] = S("BestEffort");
  if (!init_statuses.empty()) st["initContainerStatuses"] = value::array(init_statuses);
  st["containerStatuses"] = value::array(statuses);
  return st;
}

void PodWorker::PublishStatus() {
  const value st = BuildStatus();
  const std::string text = st.serialize();
  if (text == last_status_) return;
  std::string error;
  if (host_.cluster().PatchPodStatus(ns_, name_, st, &error)) {
    last_status_ = text;
  } else {
    kLog.Debug("cannot patch pod status", {{"pod", ns_ + "/" + name_}, {"error", error}});
  }
}

}  // namespace zkop::devkube::pods
