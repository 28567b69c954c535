// PodWorker's lifecycle: construction from the Pod object, the calls the runtime makes
// (Start/Update/Gone/Wake/Stop/Join), and the run loop on the worker's thread — binding,
// the Pod's address and directories, volumes, init containers one after the other, image
// changes — that hands each container to pod_worker_containers.cc, publishes the status
// (pod_worker_status.cc) and, once the Pod is deleted or the runtime stops, ends it
// (pod_worker_stop.cc).
#include "pod_worker_internal.h"

#include <signal.h>

#include <map>
#include <string>

#include "zkop/devkube/pods/volumes.h"
#include "zkop/log/log.h"

namespace zkop::devkube::pods {
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

}  // namespace zkop::devkube::pods
