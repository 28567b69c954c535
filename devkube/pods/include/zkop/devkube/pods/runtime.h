// The local pod runtime: the emulator's kubelet (and trivial scheduler). It watches Pods and
// runs each Pod's containers as host processes — see docs/pod-runtime.md for the model.
//
// Contract:
//  - The constructor starts watching and returns at once; Pods are started on the runtime's
//    own threads (one dispatcher, one worker per Pod). It throws std::runtime_error for setup
//    errors (state directory not writable, bad address range, the feed cannot start).
//  - The destructor stops every process it started (SIGTERM, then SIGKILL after
//    options.stop_grace), joins its threads and leaves the API objects as they are. Claim
//    directories stay (they belong to claims, not to the runtime).
//  - Bad Pods never throw or crash the runtime: they get a Pod status saying what is wrong.
//  - Paths below are thread-safe snapshots; empty when the runtime does not know the object.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "zkop/devkube/api_server.h"

#include "zkop/devkube/pods/cluster.h"
#include "zkop/devkube/pods/image_table.h"
#include "zkop/devkube/pods/probe.h"
#include "zkop/devkube/pods/process.h"

namespace zkop::devkube::pods {

// The in-cluster view of the API a Pod gets (what the kubelet and the ServiceAccount admission
// plugin give a real Pod): KUBERNETES_SERVICE_HOST / _PORT / _PORT_HTTPS and KUBERNETES_PORT*
// in every container, and — unless automountServiceAccountToken says no — the files token
// (0600), ca.crt and namespace in a host directory mounted at
// /var/run/secrets/kubernetes.io/serviceaccount (path-rewritten like every mount; its host
// path is also in ZKOP_SERVICEACCOUNT_DIR for programs that compute the path themselves).
struct InClusterApi {
  std::string host;  // the API server's address as Pods reach it
  uint16_t port = 0;
  // The ServiceAccount view of a Pod (ApiServer::ServiceAccountForPod). Called once per Pod.
  std::function<PodServiceAccount(const web::json::value& pod)> service_account;
};

struct RuntimeOptions {
  std::string state_dir;  // required: pods/ (per-Pod dirs, logs, hosts) and claims/ live here
  std::string address_range = "127.42.0.0/16";
  std::string address_lock_dir = "/tmp/zkop-devkube-addresses";
  std::string node_name = "devkube";
  std::string host_ip = "127.0.0.1";
  std::string cluster_domain = "cluster.local";
  ImageTable images = ImageTable::Defaults();
  // Crash-loop back-off (the kubelet's 10s doubling to 5m; reset after 10m of running).
  std::chrono::milliseconds backoff_base{std::chrono::seconds(10)};
  std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};
  std::chrono::milliseconds backoff_reset{std::chrono::minutes(10)};
  // How long the destructor lets processes exit after SIGTERM before SIGKILL.
  std::chrono::milliseconds stop_grace{std::chrono::seconds(5)};
  // Unset: Pods get no KUBERNETES_SERVICE_* variables and no ServiceAccount files.
  std::optional<InClusterApi> in_cluster;
};

class PodRuntime {
 public:
  // `cluster` must outlive the runtime. A null launcher/prober means the system ones.
  PodRuntime(Cluster& cluster, RuntimeOptions options,
             std::unique_ptr<ProcessLauncher> launcher = nullptr,
             std::unique_ptr<Prober> prober = nullptr);
  ~PodRuntime();
  PodRuntime(const PodRuntime&) = delete;
  PodRuntime& operator=(const PodRuntime&) = delete;

  // The log file of the container's current (or last) run.
  std::string LogPath(const std::string& ns, const std::string& pod,
                      const std::string& container) const;
  // The host directory of a Pod's volume.
  std::string VolumeDir(const std::string& ns, const std::string& pod,
                        const std::string& volume) const;
  // The host directory backing a PersistentVolumeClaim.
  std::string ClaimDir(const std::string& ns, const std::string& claim) const;
  // The hosts file the Pod's processes resolve names with.
  std::string HostsFile(const std::string& ns, const std::string& pod) const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkop::devkube::pods
