// How a container becomes a host process: its program from the image table, its argv and
// environment, and its volume mounts turned into host paths.
//
// Mounts: processes share the host's filesystem, so the runtime tells each process where its
// mounts are. (1) The image table's mountEnv sets an env var to the host directory of the
// volume mounted at a known path (ZK_DATA_DIR for /data, ...). (2) In every env value, every
// argument (command, args, exec probes and hooks, shell scripts included) each absolute path
// that is a mount path or lies under one is rewritten to the host path (longest mount wins).
// A path counts where it starts the text or follows a separator (space, tab, = : ; , quotes
// ( < > | &) and ends at the end, at '/' or at a character that cannot continue a name.
//
// Names: the process gets HOSTNAME, a hosts file (JAVA_OPTS gains -Djdk.net.hosts.file=...
// and short DNS cache TTLs; LD_PRELOAD=libnss_wrapper.so with NSS_WRAPPER_HOSTS and
// NSS_WRAPPER_HOSTNAME for C programs).
//
// Contract: pure, thread-safe; errors are messages for the container's waiting state.
#pragma once

#include <cpprest/json.h>

#include <string>
#include <vector>

#include "zkop/devkube/pods/env.h"
#include "zkop/devkube/pods/image_table.h"
#include "zkop/devkube/pods/process.h"

namespace zkop::devkube::pods {

struct Mount {
  std::string container_path;  // volumeMounts[].mountPath
  std::string host_path;       // the volume's directory (+ subPath)
};

struct ContainerContext {
  const ImageEntry* image = nullptr;  // required
  EnvList pod_env;                    // ResolveEnv's result
  EnvList service_env;                // KUBERNETES_SERVICE_* (before pod_env, which wins)
  std::vector<Mount> mounts;
  std::string hostname;
  std::string hosts_file;
  std::string work_dir;  // the process's cwd (and HOME)
  std::string log_path;
  std::string path_env;  // PATH for the process
};

struct LaunchResult {
  LaunchSpec spec;
  std::string error;  // non-empty: RunContainerError with this message
};

LaunchResult BuildLaunch(const web::json::value& container, const ContainerContext& ctx);

// The environment alone (for hooks and exec probes), "NAME=value" entries.
std::vector<std::string> BuildEnvironment(const ContainerContext& ctx);

// `value` with every mount path in it replaced by its host path (see above).
std::string RewritePath(const std::string& value, const std::vector<Mount>& mounts);

}  // namespace zkop::devkube::pods
