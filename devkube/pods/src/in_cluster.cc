// The in-cluster view of a Pod (RuntimeOptions::in_cluster): KUBERNETES_SERVICE_* and the
// ServiceAccount files at /var/run/secrets/kubernetes.io/serviceaccount.
#include <algorithm>

#include "pod_worker.h"
#include "zkop/devkube/pods/volumes.h"

namespace zkop::devkube::pods {

using web::json::value;

bool PodWorker::SyncServiceAccount(std::string* error) {
  const auto& in_cluster = host_.options().in_cluster;
  if (sa_synced_ || !in_cluster || !in_cluster->service_account) return true;
  value pod;
  {
    std::lock_guard lock(mu_);
    pod = pod_;
  }
  PodServiceAccount sa = in_cluster->service_account(pod);
  if (!sa.error.empty()) {
    *error = "MountVolume.SetUp failed for volume \"kube-api-access\": " + sa.error;
    return false;
  }
  if (sa.mount) {
    const std::string dir = pod_dir_ + "/volumes/kube-api-access";
    bool changed = false;
    std::string why;
    if (!ProjectFiles(
            dir,
            {{"token", sa.token, 0600}, {"ca.crt", sa.ca_pem, 0644}, {"namespace", sa.ns, 0644}},
            &changed, &why)) {
      *error = "MountVolume.SetUp failed for volume \"kube-api-access\": " + why;
      return false;
    }
    sa_dir_ = dir;
  }
  sa_synced_ = true;
  return true;
}

void PodWorker::AddInClusterView(ContainerContext& ctx) const {
  const auto& in_cluster = host_.options().in_cluster;
  if (!in_cluster) return;
  {
    const std::string port = std::to_string(in_cluster->port);
    const std::string proto_addr = "tcp://" + in_cluster->host + ":" + port;
    ctx.service_env = {{"KUBERNETES_SERVICE_HOST", in_cluster->host},
                       {"KUBERNETES_SERVICE_PORT", port},
                       {"KUBERNETES_SERVICE_PORT_HTTPS", port},
                       {"KUBERNETES_PORT", proto_addr},
                       {"KUBERNETES_PORT_" + port + "_TCP", proto_addr},
                       {"KUBERNETES_PORT_" + port + "_TCP_PROTO", "tcp"},
                       {"KUBERNETES_PORT_" + port + "_TCP_PORT", port},
                       {"KUBERNETES_PORT_" + port + "_TCP_ADDR", in_cluster->host}};
    const std::string sa_path = "/var/run/secrets/kubernetes.io/serviceaccount";
    const bool own_mount = std::any_of(ctx.mounts.begin(), ctx.mounts.end(),
                                       [&](const Mount& m) { return m.container_path == sa_path; });
    if (!sa_dir_.empty() && !own_mount) {
      ctx.mounts.push_back({sa_path, sa_dir_});
      ctx.service_env.emplace_back("ZKOP_SERVICEACCOUNT_DIR", sa_dir_);
    }
  }
}

}  // namespace zkop::devkube::pods
