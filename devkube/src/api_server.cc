#include "zkop/devkube/api_server.h"

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/stat.h>

#include "api_handler.h"
#include "controllers.h"
#include "http_server.h"
#include "json_util.h"
#include "rbac.h"
#include "security.h"
#include "tls.h"
#include "zkop/http/health_server.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

const log::Logger kLog("devkube");

// Writes `text` to `path` atomically (temporary file + rename). False and *error on failure.
// `private_file`: mode 0600 (kubeconfigs carry the admin token).
bool WriteFileAtomically(const std::string& path, const std::string& text, std::string* error,
                         bool private_file = false) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (private_file) ::chmod(tmp.c_str(), 0600);
    out << text;
    out.flush();
    if (!out) {
      *error = "cannot write " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

}  // namespace

class ApiServer::Impl {
 public:
  explicit Impl(ApiServerOptions options)
      : options_(std::move(options)),
        store_(Store::Options{options_.watch_history}),
        handler_(store_, options_.bookmark_interval),
        security_(store_, options_.secure) {
    if (!options_.state_file.empty()) LoadState();
    handler_.set_security(&security_);
    if (!options_.audit_log.empty()) {
      audit_ = std::make_unique<AuditLog>(options_.audit_log);
      handler_.set_audit(audit_.get());
    }
    http::Endpoint ep;
    std::string error;
    if (!http::ParseEndpoint(options_.listen, &ep, &error)) throw std::runtime_error(error);
    std::optional<TlsIdentity> tls;
    if (options_.secure) {
      std::vector<std::string> ips = {"127.0.0.1", "::1"};
      if (ep.host != "0.0.0.0" && ep.host != "::" && ep.host != "127.0.0.1" && ep.host != "::1")
        ips.push_back(ep.host);
      certs_ = MakeServingCertificates(
          ips, {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local"});
      tls = TlsIdentity{certs_.serving_cert_pem + certs_.ca_cert_pem, certs_.serving_key_pem};
      EnsureBootstrapPolicy(store_);
    }
    http_ = std::make_unique<HttpServer>(
        options_.listen, [this](Exchange& ex) { handler_.Handle(ex); }, tls ? &*tls : nullptr);
    host_ = http_->host();
    if (host_ == "0.0.0.0" || host_.empty()) host_ = "127.0.0.1";
    if (host_ == "::") host_ = "::1";
    address_ = (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
               std::to_string(http_->port());
    handler_.set_server_address(address_);
    if (!options_.state_file.empty()) saver_ = std::thread([this] { SaveLoop(); });
    if (options_.controllers)
      controllers_ = std::make_unique<ControllerManager>(
          store_, ControllerManager::Options{options_.secure, certs_.ca_cert_pem});
    kLog.Info("serving", {{"url", url()}});
  }

  ~Impl() {
    controllers_.reset();
    http_.reset();
    if (saver_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
      }
      cv_.notify_all();
      saver_.join();
      Save();
    }
  }

  std::string url() const { return (options_.secure ? "https://" : "http://") + address_; }
  uint16_t port() const { return http_->port(); }
  const std::string& host() const { return host_; }
  bool secure() const { return options_.secure; }
  const std::string& ca_pem() const { return certs_.ca_cert_pem; }
  const Security& security() const { return security_; }
  Store& store() { return store_; }
  ApiHandler& handler() { return handler_; }
  const ApiHandler& handler() const { return handler_; }

 private:
  void LoadState() {
    std::ifstream in(options_.state_file, std::ios::binary);
    if (!in) return;  // first run: the file is created on the first save
    std::stringstream text;
    text << in.rdbuf();
    std::string why;
    auto snapshot = ParseJson(text.str(), &why);
    if (!snapshot)
      throw std::runtime_error("state file " + options_.state_file + " is not JSON: " + why +
                               "; delete it to start empty");
    ApiStatus s = store_.Restore(*snapshot);
    if (!s.ok())
      throw std::runtime_error("state file " + options_.state_file + ": " + s.message +
                               "; delete it to start empty");
    saved_rv_ = store_.CurrentResourceVersion();
  }

  void Save() {
    uint64_t rv = store_.CurrentResourceVersion();
    if (rv == saved_rv_) return;
    std::string error;
    if (WriteFileAtomically(options_.state_file, store_.Snapshot().serialize(), &error))
      saved_rv_ = rv;
    else
      kLog.Error("cannot save state", {{"file", options_.state_file}, {"error", error}});
  }

  void SaveLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (stopping_) break;
      lock.unlock();
      Save();
      lock.lock();
    }
  }

  ApiServerOptions options_;
  Store store_;
  ApiHandler handler_;
  Security security_;
  std::unique_ptr<AuditLog> audit_;  // outlives http_ (declared before it)
  Certificates certs_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ControllerManager> controllers_;
  std::string host_;
  std::string address_;
  std::thread saver_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t saved_rv_ = 0;
};

ApiServer::ApiServer(ApiServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ApiServer::~ApiServer() = default;

std::string ApiServer::url() const { return impl_->url(); }
uint16_t ApiServer::port() const { return impl_->port(); }
Store& ApiServer::store() { return impl_->store(); }
void ApiServer::InjectFault(Fault fault) { impl_->handler().InjectFault(std::move(fault)); }
void ApiServer::ClearFaults() { impl_->handler().ClearFaults(); }
std::vector<std::string> ApiServer::RequestLog() const { return impl_->handler().RequestLog(); }
void ApiServer::SetPodLogSource(PodLogSource source) {
  impl_->handler().SetPodLogSource(std::move(source));
}

std::string ApiServer::host() const { return impl_->host(); }
std::string ApiServer::ca_pem() const { return impl_->ca_pem(); }
std::string ApiServer::admin_token() const { return impl_->security().tokens().admin_token(); }

PodServiceAccount ApiServer::ServiceAccountForPod(const web::json::value& pod) const {
  PodServiceAccount out;
  out.ns = GetString(pod, {"metadata", "namespace"});
  if (!impl_->secure()) return out;
  // automountServiceAccountToken: the Pod's setting wins, then the ServiceAccount's.
  const Json* pod_flag = Find(pod, {"spec", "automountServiceAccountToken"});
  if (pod_flag && pod_flag->is_boolean() && !pod_flag->as_bool()) return out;
  std::string sa_name = GetString(pod, {"spec", "serviceAccountName"});
  if (sa_name.empty()) sa_name = "default";
  auto sa = impl_->store().Get({"", "v1", "serviceaccounts", out.ns, sa_name, ""});
  if (!sa.ok()) {
    out.mount = true;
    out.error = "serviceaccount \"" + sa_name + "\" not found";
    return out;
  }
  const Json* sa_flag = Find(sa.value, {"automountServiceAccountToken"});
  if (!(pod_flag && pod_flag->is_boolean()) && sa_flag && sa_flag->is_boolean() &&
      !sa_flag->as_bool())
    return out;
  out.mount = true;
  out.ca_pem = impl_->ca_pem();
  out.token =
      impl_->security().tokens().Issue(sa.value, &pod, {}, std::chrono::hours(24 * 365)).token;
  return out;
}

void ApiServer::WriteKubeconfig(const std::string& path, const std::string& ns) const {
  std::string cluster = "    server: " + url() + "\n";
  if (!impl_->ca_pem().empty())
    cluster += "    certificate-authority-data: " + Base64(impl_->ca_pem()) + "\n";
  std::string text =
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: devkube\n"
      "  cluster:\n" +
      cluster +
      "users:\n"
      "- name: devkube\n"
      "  user:\n"
      "    token: " +
      admin_token() +
      "\n"
      "contexts:\n"
      "- name: devkube\n"
      "  context:\n"
      "    cluster: devkube\n"
      "    user: devkube\n"
      "    namespace: " +
      ns +
      "\n"
      "current-context: devkube\n"
      "preferences: {}\n";
  std::string error;
  if (!WriteFileAtomically(path, text, &error, true))
    throw std::runtime_error("cannot write kubeconfig " + path + ": " + error);
}

}  // namespace zkop::devkube
