// zkop-devkube: the local Kubernetes API emulator as a program (make demo, hand testing).
#include <stdlib.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "zkop/config/duration.h"
#include "zkop/devkube/api_server.h"
#include "zkop/devkube/pods/runtime.h"
#include "zkop/devkube/pods/volumes.h"
#include "zkop/log/log.h"
#include "zkop/version.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string listen, kubeconfig, state_file, level_name, ns;
  std::string pod_state_dir, pod_range, pod_images, pod_backoff, audit_log;
  size_t history = 0;
  po::options_description opts(
      "zkop-devkube: a local Kubernetes API emulator for zkop's tests and demo.\n"
      "Usage: zkop-devkube --listen 127.0.0.1:0 --kubeconfig-out FILE [options]\nOptions");
  opts.add_options()("help,h", "print this help and exit")("version", "print the version and exit")(
      "listen", po::value(&listen)->default_value("127.0.0.1:0"),
      "host:port to serve HTTPS on; port 0 picks a free port")(
      "insecure-http",
      "serve plain HTTP without authentication or authorization (the old insecure port: "
      "requests act as the admin unless they carry a ServiceAccount token)")(
      "no-controllers", "do not run the Deployment / ReplicaSet / ServiceAccount controllers")(
      "kubeconfig-out", po::value(&kubeconfig),
      "write a kubeconfig for the served URL to this file")(
      "namespace", po::value(&ns)->default_value("default"), "the kubeconfig's namespace")(
      "state-file", po::value(&state_file),
      "load objects from this JSON file at start and save them on change and at exit")(
      "watch-history", po::value(&history)->default_value(5000),
      "events kept for watch resume; older resourceVersions answer 410 Gone")(
      "log-level", po::value(&level_name)->default_value("info"), "debug|info|warn|error")(
      "audit-log", po::value(&audit_log),
      "append one audit record per request (audit.k8s.io/v1 Event at level Metadata: user, "
      "verb, objectRef, response code) to this file")(
      "no-pods", "serve the API only: do not run Pods as local processes")(
      "pod-state-dir", po::value(&pod_state_dir),
      "where the pod runtime keeps Pod dirs, logs and claim data (default: <state-file>.pods, "
      "or a temporary dir removed at exit)")(
      "pod-address-range", po::value(&pod_range)->default_value("127.42.0.0/16"),
      "CIDR inside 127.0.0.0/8 that Pod addresses come from")(
      "pod-images", po::value(&pod_images),
      "YAML image table mapping images to local programs (default: the built-in table, see "
      "docs/pod-runtime.md)")("pod-backoff", po::value(&pod_backoff)->default_value("10s"),
                              "first crash-loop back-off delay (doubles up to 5m)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zkop-devkube: " << e.what() << "\nTry zkop-devkube --help\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "zkop-devkube " << zkop::kVersion << " (serves Kubernetes API v1.32)\n";
    return 0;
  }
  zkop::log::Level level;
  if (!zkop::log::ParseLevel(level_name, &level)) {
    std::cerr << "zkop-devkube: --log-level \"" << level_name
              << "\" is not one of debug, info, warn, error\n";
    return 2;
  }
  zkop::log::Configure(level, zkop::log::Format::kText);

  // Block the stop signals before any thread starts, then wait for them on this thread.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  try {
    zkop::devkube::ApiServerOptions options;
    options.listen = listen;
    options.state_file = state_file;
    options.watch_history = history;
    options.secure = !vm.count("insecure-http");
    options.controllers = !vm.count("no-controllers");
    options.audit_log = audit_log;
    zkop::devkube::ApiServer server(options);
    if (!kubeconfig.empty()) server.WriteKubeconfig(kubeconfig, ns);
    // The local pod runtime (docs/pod-runtime.md) runs the stored Pods as processes.
    std::unique_ptr<zkop::devkube::pods::Cluster> cluster;
    std::shared_ptr<zkop::devkube::pods::PodRuntime> runtime;
    std::string temp_pod_dir;
    if (!vm.count("no-pods")) {
      zkop::devkube::pods::RuntimeOptions pods;
      pods.address_range = pod_range;
      std::string error;
      auto backoff = zkop::config::ParseDuration(pod_backoff, &error);
      if (!backoff) throw std::runtime_error("--pod-backoff \"" + pod_backoff + "\": " + error);
      pods.backoff_base = *backoff;
      if (!pod_images.empty()) pods.images = zkop::devkube::pods::ImageTable::LoadFile(pod_images);
      pods.state_dir = pod_state_dir;
      if (pods.state_dir.empty() && !state_file.empty()) pods.state_dir = state_file + ".pods";
      if (pods.state_dir.empty()) {
        char tmpl[] = "/tmp/zkop-devkube-pods-XXXXXX";
        if (!mkdtemp(tmpl)) throw std::runtime_error("cannot create a pod state directory in /tmp");
        pods.state_dir = temp_pod_dir = tmpl;
      }
      // Pods find the API like in a real cluster: KUBERNETES_SERVICE_* and their
      // ServiceAccount token (docs/pod-runtime.md).
      pods.in_cluster = zkop::devkube::pods::InClusterApi{
          server.host(), server.port(),
          [&server](const web::json::value& pod) { return server.ServiceAccountForPod(pod); }};
      cluster = zkop::devkube::pods::MakeStoreCluster(server.store());
      runtime = std::make_shared<zkop::devkube::pods::PodRuntime>(*cluster, pods);
      // `kubectl logs`: the API serves the container's log file. The weak pointer keeps a
      // request that races with shutdown from touching a destroyed runtime.
      server.SetPodLogSource([weak = std::weak_ptr<zkop::devkube::pods::PodRuntime>(runtime)](
                                 const std::string& pod_ns, const std::string& pod,
                                 const std::string& container) -> std::optional<std::string> {
        auto rt = weak.lock();
        if (!rt) return std::nullopt;
        std::string path = rt->LogPath(pod_ns, pod, container);
        if (path.empty()) return std::nullopt;
        return path;
      });
    }
    std::cout << "zkop-devkube: serving " << server.url() << std::endl;
    if (runtime) {
      std::cout << "zkop-devkube: running Pods as local processes (addresses from " << pod_range
                << ")" << std::endl;
    }
    int sig = 0;
    sigwait(&stop, &sig);
    std::cout << "zkop-devkube: stopping on " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
              << std::endl;
    server.SetPodLogSource(nullptr);
    runtime.reset();  // stops every Pod process before the API goes
    std::string cleanup_error;
    if (!temp_pod_dir.empty() && !zkop::devkube::pods::RemoveTree(temp_pod_dir, &cleanup_error)) {
      std::cerr << "zkop-devkube: " << cleanup_error << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "zkop-devkube: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
