// Where the API server is and how to authenticate to it: from a kubeconfig
// file or from the in-cluster service-account environment.
//
// Exceptions: loading throws zkop::config::ConfigError (file:line:column,
// key path, what was expected) — setup-time code. Nothing here logs secrets.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace zkop::kube {

// A bearer token, either fixed or read from a file that may be rotated (the
// kubelet rewrites projected service-account tokens): the file is re-read when
// its modification time or size changes, checked at most once per `recheck`.
// Thread-safe.
class TokenSource {
 public:
  static std::shared_ptr<TokenSource> Fixed(std::string token);
  static std::shared_ptr<TokenSource> FromFile(std::filesystem::path file,
                                               std::chrono::milliseconds recheck);
  // The current token; when a rotated file cannot be read, the last good token.
  std::string Token();
  // Where the token comes from, for messages ("token file /x", "inline token").
  std::string Describe() const;

 private:
  TokenSource() = default;
  std::mutex mu_;
  std::string token_;
  std::filesystem::path file_;
  std::chrono::milliseconds recheck_{0};
  std::chrono::steady_clock::time_point next_check_{};
  std::filesystem::file_time_type mtime_{};
  std::uintmax_t size_ = 0;
};

struct TlsConfig {
  std::string ca_pem;           // trusted CAs (PEM); empty = the system's trust store
  std::string client_cert_pem;  // client certificate chain (PEM); empty = none
  std::string client_key_pem;   // its private key (PEM)
  bool insecure_skip_verify = false;
};

struct ClientConfig {
  std::string server;  // "https://127.0.0.1:6443" (no trailing slash)
  std::string default_namespace = "default";
  TlsConfig tls;
  std::shared_ptr<TokenSource> token;  // null = no bearer token
  std::string source;                  // where this came from, for messages
};

// Reads a kubeconfig. `context` empty = its current-context. Relative file
// paths inside it are resolved against the file's directory, as kubectl does.
// Supported user auth: client certificate/key (file or data), token,
// tokenFile; `exec` and `auth-provider` are rejected with a clear message.
ClientConfig LoadKubeconfig(const std::string& path, const std::string& context = {});
ClientConfig LoadKubeconfigString(const std::string& text, const std::string& name,
                                  const std::string& context = {});

// In-cluster configuration: server from KUBERNETES_SERVICE_HOST / _PORT, and
// `<root>/token`, `<root>/ca.crt`, `<root>/namespace` where root defaults to
// /var/run/secrets/kubernetes.io/serviceaccount. The token is re-read on rotation.
struct InClusterOptions {
  std::filesystem::path root = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::chrono::milliseconds token_recheck{std::chrono::seconds(60)};
};
ClientConfig InClusterConfig(const InClusterOptions& options = {});

// Decodes standard base64 (the `*-data` fields). nullopt when malformed.
std::optional<std::string> DecodeBase64(const std::string& text);

}  // namespace zkop::kube
