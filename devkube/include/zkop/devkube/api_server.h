// zkop-devkube's HTTP front: a local stand-in for kube-apiserver that kubectl, client-go style
// clients and zkop's own Kubernetes client accept — HTTPS with bearer-token authentication and
// RBAC (`secure`), or plain HTTP without enforcement — plus the in-process controllers
// (Deployment, ReplicaSet, ServiceAccount) a kube-controller-manager would run.
//
// Contract:
//  - The constructor binds and starts serving on its own threads (one per connection); it
//    throws std::runtime_error naming the address when it cannot bind (e.g. already in use)
//    or cannot load the state file. Nothing else throws.
//  - The destructor stops accepting, ends every open watch and connection, joins all threads
//    and, with a state file, saves the state one last time.
//  - store() is the same Store the HTTP API serves; it lives as long as the ApiServer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zkop/devkube/store.h"

namespace zkop::devkube {

struct ApiServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 = ephemeral
  std::string state_file;              // optional: load at start, save on change/stop
  size_t watch_history = 5000;         // events kept for watch resume (older: 410 Gone)
  // How often a watch with allowWatchBookmarks=true gets a BOOKMARK event.
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(10)};
  // true: HTTPS with a CA and serving certificate made at start (SANs: the listen address,
  // 127.0.0.1, ::1, localhost, kubernetes, kubernetes.default[.svc[.cluster.local]]); every
  // request is authenticated (admin token, ServiceAccount tokens, else system:anonymous) and
  // authorized with RBAC; the bootstrap ClusterRoles/Bindings are created; the kubeconfig
  // carries the CA and the admin token. false: plain HTTP, the old insecure port — requests
  // without a valid ServiceAccount token act as the admin.
  bool secure = false;
  // Run the controllers: Deployment and ReplicaSet; with `secure` also the ServiceAccount
  // controller (a "default" ServiceAccount per namespace) and the kube-root-ca.crt publisher.
  bool controllers = true;
  // A file to append one audit record (audit.k8s.io/v1 Event, level Metadata: user, verb,
  // objectRef, response code) per request to; empty: none. Opened with mode 0600.
  std::string audit_log;
};

// What a kubelet projects into a Pod for its ServiceAccount (the kube-api-access volume):
// a token bound to the Pod, the cluster CA and the namespace.
struct PodServiceAccount {
  bool mount =
      false;  // automountServiceAccountToken: the Pod's, else the ServiceAccount's, else true
  std::string token;  // valid one year, bound to the Pod (the real server's extended expiry)
  std::string ca_pem;
  std::string ns;
  std::string error;  // non-empty: cannot mount (e.g. "serviceaccount \"x\" not found")
};

// A failure the server plays back to matching requests, for clients' retry and timeout tests.
struct Fault {
  std::string method;           // "GET", "PATCH", ...; empty matches any
  std::string path_prefix;      // e.g. "/api/v1/namespaces/default/configmaps"; empty matches any
  int status = 500;             // answered with a metav1.Status of this code (0: only the delay)
  int retry_after_seconds = 0;  // > 0: Retry-After header and details.retryAfterSeconds
  std::chrono::milliseconds delay{0};  // waited before answering (fault or real response)
  int times = 1;                       // matching requests affected; then the fault is gone
};

// Where `GET .../pods/<pod>/log` (kubectl logs) reads a container's output: the path of its
// log file, or nullopt while the container has none. Called on connection threads.
using PodLogSource = std::function<std::optional<std::string>(
    const std::string& ns, const std::string& pod, const std::string& container)>;

class ApiServer {
 public:
  explicit ApiServer(ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  std::string url() const;  // "https://127.0.0.1:<port>" (secure) or "http://..."
  uint16_t port() const;
  std::string host() const;  // the address Pods reach the API on (KUBERNETES_SERVICE_HOST)
  // Writes a kubeconfig (cluster "devkube" with the CA as certificate-authority-data when
  // secure, user "devkube" with the admin token, context "devkube", namespace `ns`) pointing
  // at url(), mode 0600. Throws std::runtime_error when the file cannot be written.
  void WriteKubeconfig(const std::string& path, const std::string& ns = "default") const;
  std::string ca_pem() const;       // the cluster CA (PEM); empty when not secure
  std::string admin_token() const;  // authenticates as kubernetes-admin (system:masters)
  // The ServiceAccount view for `pod` (its spec.serviceAccountName, "default" when unset).
  // Not secure: mount is false.
  PodServiceAccount ServiceAccountForPod(const web::json::value& pod) const;

  Store& store();

  // Fault injection (thread-safe): faults are matched in the order added.
  void InjectFault(Fault fault);
  void ClearFaults();
  // The last 1000 requests as "METHOD /path?query", oldest first (thread-safe).
  std::vector<std::string> RequestLog() const;
  // Serves the pods/log subresource from `source` (thread-safe; the local pod runtime sets it).
  void SetPodLogSource(PodLogSource source);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkop::devkube
