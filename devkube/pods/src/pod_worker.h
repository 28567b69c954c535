// One Pod's lifecycle on its own thread: address, volumes, containers, probes, status,
// graceful termination. Internal to the runtime.
#pragma once

#include <cpprest/json.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "zkop/devkube/pods/backoff.h"
#include "zkop/devkube/pods/cluster.h"
#include "zkop/devkube/pods/container.h"
#include "zkop/devkube/pods/hosts_file.h"
#include "zkop/devkube/pods/probe.h"
#include "zkop/devkube/pods/runtime.h"

namespace zkop::devkube::pods {

// What a worker needs from the runtime. Thread-safe.
class PodHost {
 public:
  virtual ~PodHost() = default;
  virtual const RuntimeOptions& options() const = 0;
  virtual Cluster& cluster() = 0;
  virtual ProcessLauncher& launcher() = 0;
  virtual Prober& prober() = 0;
  // A ConfigMap / Secret / PVC of the worker's namespace from the runtime's cache.
  virtual std::optional<web::json::value> Lookup(ObjectKind kind, const std::string& ns,
                                                 const std::string& name) = 0;
  virtual std::optional<std::string> AcquireAddress(const std::string& key) = 0;
  // Publishes (or replaces) the Pod's DNS identity; its hosts file is (re)written at once.
  virtual void SetEndpoint(const std::string& uid, const PodEndpoint& endpoint,
                           const std::string& hosts_file) = 0;
  // Forgets the Pod's identity and releases its address.
  virtual void RemoveEndpoint(const std::string& uid) = 0;
  // The directory backing the claim (created on first use).
  virtual std::string ClaimDir(const web::json::value& claim) = 0;
  // The worker's thread is about to end.
  virtual void WorkerDone(const std::string& uid) = 0;
};

class PodWorker {
 public:
  PodWorker(PodHost& host, web::json::value pod);
  ~PodWorker();  // joins (Stop first)
  void Start();
  void Update(web::json::value pod);  // a newer version of the object
  void Gone();                        // removed from the API
  void Wake();                        // something it depends on changed
  void Stop();                        // the runtime is stopping: kill processes, touch no API
  void Join();

  std::string pod_dir() const { return pod_dir_; }
  std::string LogPath(const std::string& container) const;

 private:
  struct Container;

  void Run();
  void Prepare();
  void PublishEndpoint();
  bool SyncVolumes(std::string* error);
  // The ServiceAccount files (RuntimeOptions::in_cluster), projected once; false + *error when
  // they cannot be.
  bool SyncServiceAccount(std::string* error);
  std::vector<Container*> AllContainers();
  void SyncContainer(Container& c, bool volumes_ok, const std::string& volume_error);
  // Runs init containers one after the other; true once all have completed.
  bool SyncInitContainers(bool volumes_ok, const std::string& volume_error);
  void TryStart(Container& c, bool volumes_ok, const std::string& volume_error);
  void ApplySpecChanges();
  int64_t GracePeriod() const;
  web::json::value Terminated(const Container& c, const ExitStatus& exit) const;
  web::json::value ContainerStatusJson(const Container& c) const;
  void StartContainer(Container& c);
  void ReapContainer(Container& c);
  void ProbeContainer(Container& c);
  void Terminate(bool gone);
  // SIGTERM to every running container (unless `send_term` is false: already sent), SIGKILL
  // to what is left at `deadline`; reaps all.
  void KillAll(std::chrono::steady_clock::time_point deadline, bool send_term = true);
  // Stops a deleted Pod's containers as the kubelet does, each on its own and in parallel:
  // the container's preStop hook (exec, or sleep.seconds) bounded by `deadline`, then SIGTERM
  // to that container — one without a hook at once, while another's hook still runs; then
  // SIGKILL to what runs at `deadline`; reaps all.
  void StopContainers(std::chrono::steady_clock::time_point deadline);
  // The exec hook ("preStop", "postStart") of `c` as a launch, or nullopt without one.
  std::optional<LaunchSpec> HookSpec(const Container& c, const char* hook) const;
  ContainerContext ContextFor(const Container& c) const;
  // KUBERNETES_SERVICE_* and the ServiceAccount mount (in_cluster.cc).
  void AddInClusterView(ContainerContext& ctx) const;
  web::json::value BuildStatus();
  void PublishStatus();
  void SetWaiting(Container& c, std::string reason, std::string message);
  std::string Field(std::initializer_list<const char*> path) const;

  PodHost& host_;
  const std::string uid_, ns_, name_;
  std::string pod_dir_;
  std::string hosts_file_;
  std::string ip_;
  std::optional<PodEndpoint> endpoint_;  // as last published
  std::string start_time_;
  std::map<std::string, std::pair<std::string, std::string>> conditions_;  // type -> status, time
  std::map<std::string, std::string> projected_versions_;  // volume -> source resourceVersion
  std::map<std::string, std::string> volume_dirs_;         // volume name -> host directory
  std::string sa_dir_;      // host dir of /var/run/secrets/kubernetes.io/serviceaccount
  bool sa_synced_ = false;  // the ServiceAccount view was decided (mounted or not)
  std::vector<std::unique_ptr<Container>> init_containers_;
  std::vector<std::unique_ptr<Container>> containers_;
  bool init_failed_ = false;  // an init container failed under restartPolicy Never
  std::string last_status_;

  mutable std::mutex mu_;  // guards pod_, gone_, stop_, wake_, log paths
  std::condition_variable cv_;
  web::json::value pod_;
  bool gone_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};  // SIGKILL time once stopping
  bool wake_ = false;
  std::map<std::string, std::string> log_paths_;
  std::thread thread_;
};

}  // namespace zkop::devkube::pods
