#include "zkop/kube/config.h"

#include <cpprest/asyncrt_utils.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "zkop/config/yaml_reader.h"

namespace zkop::kube {

using zkop::config::ConfigError;
using zkop::config::YamlReader;

namespace {

bool ReadWholeFile(const std::filesystem::path& p, std::string* out, std::string* error) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    *error = std::error_code(errno, std::generic_category()).message();
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

// Finds the entry `name` of a kubeconfig list ("clusters", "users", "contexts")
// and returns its `section` ("cluster", "user", "context") map.
YamlReader FindNamed(const YamlReader& root, const char* list, const char* section,
                     const std::string& name, const YamlReader& referrer) {
  std::string known;
  for (const YamlReader& entry : root.Get(list).AsList()) {
    entry.ExpectKeys({"name", section});
    std::string n = entry.RequiredString("name");
    if (n == name) {
      YamlReader body = entry.Get(section);
      if (!body.IsMap()) body.FailExpected("a mapping");
      return body;
    }
    if (!known.empty()) known += ", ";
    known += "\"" + n + "\"";
  }
  referrer.Fail("no entry named \"" + name + "\" in " + list +
                (known.empty() ? std::string(" (the list is empty)") : " (known: " + known + ")"));
}

std::string FilePath(const YamlReader& r, const std::filesystem::path& base_dir) {
  std::filesystem::path p = r.AsString();
  if (p.is_relative() && !base_dir.empty()) p = base_dir / p;
  return p.string();
}

// A PEM blob from `<key>` (a file) or `<key>-data` (base64); "" when neither.
std::string PemFrom(const YamlReader& m, const std::string& key,
                    const std::filesystem::path& base_dir) {
  std::string data_key = key + "-data";
  if (m.Has(key) && m.Has(data_key)) {
    m.Get(data_key).Fail("both \"" + key + "\" and \"" + data_key +
                         "\" are set; keep only one of them");
  }
  std::string pem;
  if (m.Get(data_key).present()) {
    auto decoded = DecodeBase64(m.Get(data_key).AsString());
    if (!decoded) m.Get(data_key).FailExpected("base64-encoded PEM data");
    pem = *decoded;
    if (pem.find("-----BEGIN") == std::string::npos) {
      m.Get(data_key).FailExpected("base64 of a PEM block (\"-----BEGIN ...\")",
                                   "encode the PEM file itself, e.g. base64 -w0 file.pem");
    }
  } else if (m.Get(key).present()) {
    std::string file = FilePath(m.Get(key), base_dir);
    std::string error;
    if (!ReadWholeFile(file, &pem, &error)) {
      m.Get(key).Fail("cannot read \"" + file + "\": " + error);
    }
    if (pem.find("-----BEGIN") == std::string::npos) {
      m.Get(key).Fail("\"" + file + "\" is not a PEM file (no \"-----BEGIN\" line)");
    }
  }
  return pem;
}

ClientConfig FromKubeconfig(const YamlReader& root, const std::string& context,
                            const std::filesystem::path& base_dir) {
  if (!root.IsMap()) root.FailExpected("a kubeconfig mapping (apiVersion: v1, kind: Config)");
  root.ExpectKeys({"apiVersion", "kind", "current-context", "clusters", "users", "contexts",
                   "preferences", "extensions"});
  std::string kind = root.String("kind", "Config");
  if (kind != "Config") root.Get("kind").FailExpected("\"Config\"");

  std::string ctx_name = context;
  YamlReader referrer = root.Get("current-context");
  if (ctx_name.empty()) {
    ctx_name = root.String("current-context", "");
    if (ctx_name.empty()) {
      referrer.FailExpected("the name of a context",
                            "set current-context or pass a context name explicitly");
    }
  } else {
    referrer = root.Get("contexts");
  }
  YamlReader ctx = FindNamed(root, "contexts", "context", ctx_name, referrer);
  ctx.ExpectKeys({"cluster", "user", "namespace", "extensions"});

  ClientConfig cfg;
  cfg.source = "kubeconfig " + root.file() + " context \"" + ctx_name + "\"";
  cfg.default_namespace = ctx.String("namespace", "default");

  std::string cluster_name = ctx.RequiredString("cluster");
  YamlReader cluster = FindNamed(root, "clusters", "cluster", cluster_name, ctx.Get("cluster"));
  cluster.ExpectKeys({"server", "certificate-authority", "certificate-authority-data",
                      "insecure-skip-tls-verify", "tls-server-name", "proxy-url",
                      "disable-compression", "extensions"});
  cfg.server = cluster.RequiredString("server");
  if (!cfg.server.starts_with("https://") && !cfg.server.starts_with("http://")) {
    cluster.Get("server").FailExpected("a URL starting with https:// or http://");
  }
  while (cfg.server.ends_with("/")) cfg.server.pop_back();
  for (const char* unsupported : {"tls-server-name", "proxy-url"}) {
    if (cluster.Get(unsupported).present()) {
      cluster.Get(unsupported).Fail("is not supported by zkop's Kubernetes client; remove it");
    }
  }
  cfg.tls.ca_pem = PemFrom(cluster, "certificate-authority", base_dir);
  cfg.tls.insecure_skip_verify = cluster.Bool("insecure-skip-tls-verify", false);
  if (cfg.tls.insecure_skip_verify && !cfg.tls.ca_pem.empty()) {
    cluster.Get("insecure-skip-tls-verify")
        .Fail("cannot be true together with a certificate authority; keep only one");
  }

  if (ctx.Get("user").present()) {
    std::string user_name = ctx.RequiredString("user");
    YamlReader user = FindNamed(root, "users", "user", user_name, ctx.Get("user"));
    user.ExpectKeys({"client-certificate", "client-certificate-data", "client-key",
                     "client-key-data", "token", "tokenFile", "username", "password", "exec",
                     "auth-provider", "as", "as-groups", "extensions"});
    for (const char* unsupported :
         {"exec", "auth-provider", "username", "password", "as", "as-groups"}) {
      if (user.Get(unsupported).present()) {
        user.Get(unsupported)
            .Fail(
                "is not supported by zkop's Kubernetes client; use a client certificate, token or "
                "tokenFile");
      }
    }
    cfg.tls.client_cert_pem = PemFrom(user, "client-certificate", base_dir);
    cfg.tls.client_key_pem = PemFrom(user, "client-key", base_dir);
    if (cfg.tls.client_cert_pem.empty() != cfg.tls.client_key_pem.empty()) {
      const char* missing = cfg.tls.client_key_pem.empty() ? "client-key" : "client-certificate";
      user.Get(missing).FailExpected(std::string(missing) + " (or " + missing +
                                     "-data): a client certificate needs its key and vice versa");
    }
    if (user.Has("token") && user.Has("tokenFile")) {
      user.Get("tokenFile").Fail("both \"token\" and \"tokenFile\" are set; keep only one");
    }
    if (user.Get("token").present()) {
      cfg.token = TokenSource::Fixed(user.RequiredString("token"));
    } else if (user.Get("tokenFile").present()) {
      std::string file = FilePath(user.Get("tokenFile"), base_dir);
      std::string content, error;
      if (!ReadWholeFile(file, &content, &error)) {
        user.Get("tokenFile").Fail("cannot read \"" + file + "\": " + error);
      }
      cfg.token = TokenSource::FromFile(file, std::chrono::seconds(60));
    }
  }
  return cfg;
}

}  // namespace

std::optional<std::string> DecodeBase64(const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') clean += c;
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  try {
    std::vector<unsigned char> bytes = utility::conversions::from_base64(clean);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::shared_ptr<TokenSource> TokenSource::Fixed(std::string token) {
  std::shared_ptr<TokenSource> s(new TokenSource());
  s->token_ = Trim(std::move(token));
  return s;
}

std::shared_ptr<TokenSource> TokenSource::FromFile(std::filesystem::path file,
                                                   std::chrono::milliseconds recheck) {
  std::shared_ptr<TokenSource> s(new TokenSource());
  s->file_ = std::move(file);
  s->recheck_ = recheck;
  s->Token();
  return s;
}

std::string TokenSource::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_.empty()) return token_;
  auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return token_;
  next_check_ = now + recheck_;
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  if (ec) return token_;
  auto size = std::filesystem::file_size(file_, ec);
  if (ec || (mtime == mtime_ && size == size_ && !token_.empty())) return token_;
  std::string content, error;
  if (ReadWholeFile(file_, &content, &error) && !Trim(content).empty()) {
    token_ = Trim(content);
    mtime_ = mtime;
    size_ = size;
  }
  return token_;
}

std::string TokenSource::Describe() const {
  return file_.empty() ? "inline token" : "token file " + file_.string();
}

ClientConfig LoadKubeconfig(const std::string& path, const std::string& context) {
  YamlReader root = YamlReader::LoadFile(path);
  return FromKubeconfig(root, context, std::filesystem::path(path).parent_path());
}

ClientConfig LoadKubeconfigString(const std::string& text, const std::string& name,
                                  const std::string& context) {
  return FromKubeconfig(YamlReader::LoadString(text, name), context, {});
}

ClientConfig InClusterConfig(const InClusterOptions& options) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    throw ConfigError("in-cluster", 0, 0, "KUBERNETES_SERVICE_HOST",
                      "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (the "
                      "process is not running in a Kubernetes pod; pass --kubeconfig instead)");
  }
  ClientConfig cfg;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  cfg.server = "https://" + h + ":" + port;
  cfg.source = "in-cluster service account " + options.root.string();

  std::filesystem::path token = options.root / "token";
  std::string content, error;
  if (!ReadWholeFile(token, &content, &error)) {
    throw ConfigError(token.string(), 0, 0, "", "cannot read the service-account token: " + error);
  }
  cfg.token = TokenSource::FromFile(token, options.token_recheck);
  std::filesystem::path ca = options.root / "ca.crt";
  if (!ReadWholeFile(ca, &cfg.tls.ca_pem, &error)) {
    throw ConfigError(ca.string(), 0, 0, "", "cannot read the cluster CA: " + error);
  }
  std::filesystem::path ns = options.root / "namespace";
  if (ReadWholeFile(ns, &content, &error) && !Trim(content).empty()) {
    cfg.default_namespace = Trim(content);
  }
  return cfg;
}

}  // namespace zkop::kube
