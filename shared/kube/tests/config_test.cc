#include "zkop/kube/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <thread>

#include "zkop/config/yaml_reader.h"
#include "zkop/kube/transport.h"

namespace zkop::kube {
namespace {

using zkop::config::ConfigError;

const char* kCaPem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
const char* kCertPem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
const char* kKeyPem = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";

std::string B64(const std::string& s) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == s.size()) {
    unsigned v = (unsigned char)s[i] << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zkop-kubecfg-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path Write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = path_ / name;
    std::ofstream(p) << content;
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Expects `fn` to throw a ConfigError whose message contains every fragment.
template <typename Fn>
void ExpectConfigError(Fn fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    for (const auto& f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "missing \"" << f << "\" in: " << e.what();
    }
  }
}

TEST(KubeconfigTest, CurrentContextWithFilesRelativeToKubeconfig) {
  TempDir dir;
  dir.Write("ca.crt", kCaPem);
  dir.Write("client.crt", kCertPem);
  dir.Write("client.key", kKeyPem);
  auto path = dir.Write("config", R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: ca.crt
contexts:
- name: dev
  context: {cluster: local, user: admin, namespace: zk}
users:
- name: admin
  user:
    client-certificate: client.crt
    client-key: client.key
)");
  ClientConfig c = LoadKubeconfig(path.string());
  EXPECT_EQ(c.server, "https://127.0.0.1:6443");
  EXPECT_EQ(c.default_namespace, "zk");
  EXPECT_EQ(c.tls.ca_pem, kCaPem);
  EXPECT_EQ(c.tls.client_cert_pem, kCertPem);
  EXPECT_EQ(c.tls.client_key_pem, kKeyPem);
  EXPECT_FALSE(c.tls.insecure_skip_verify);
  EXPECT_EQ(c.token, nullptr);
  EXPECT_NE(c.source.find("context \"dev\""), std::string::npos);
}

TEST(KubeconfigTest, NamedContextWithDataAndToken) {
  std::string text =
      "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
      "clusters:\n"
      "- name: c1\n  cluster:\n    server: http://127.0.0.1:1\n"
      "- name: c2\n  cluster:\n    server: https://127.0.0.2:2\n"
      "    certificate-authority-data: " +
      B64(kCaPem) +
      "\n"
      "contexts:\n"
      "- name: a\n  context: {cluster: c1}\n"
      "- name: b\n  context: {cluster: c2, user: u}\n"
      "users:\n"
      "- name: u\n  user:\n    token: sekret\n"
      "    client-certificate-data: " +
      B64(kCertPem) + "\n    client-key-data: " + B64(kKeyPem) + "\n";
  ClientConfig a = LoadKubeconfigString(text, "inline");
  EXPECT_EQ(a.server, "http://127.0.0.1:1");
  EXPECT_EQ(a.default_namespace, "default");
  ClientConfig b = LoadKubeconfigString(text, "inline", "b");
  EXPECT_EQ(b.server, "https://127.0.0.2:2");
  EXPECT_EQ(b.tls.ca_pem, kCaPem);
  EXPECT_EQ(b.tls.client_cert_pem, kCertPem);
  EXPECT_EQ(b.tls.client_key_pem, kKeyPem);
  ASSERT_NE(b.token, nullptr);
  EXPECT_EQ(b.token->Token(), "sekret");
  EXPECT_EQ(b.token->Describe(), "inline token");
}

TEST(KubeconfigTest, InsecureAndTokenFile) {
  TempDir dir;
  dir.Write("tok", "abc\n");
  auto path = dir.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", insecure-skip-tls-verify: true}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
users: [{name: u, user: {tokenFile: tok}}]
)");
  ClientConfig c = LoadKubeconfig(path.string());
  EXPECT_TRUE(c.tls.insecure_skip_verify);
  ASSERT_NE(c.token, nullptr);
  EXPECT_EQ(c.token->Token(), "abc");
  EXPECT_EQ(c.token->Describe(), "token file " + (dir.path() / "tok").string());
}

TEST(KubeconfigTest, ErrorsNameFileLineAndKey) {
  TempDir dir;
  auto missing_ctx = dir.Write("a", R"(current-context: nope
clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  ExpectConfigError(
      [&] { LoadKubeconfig(missing_ctx.string()); },
      {missing_ctx.string() + ":1:", "current-context", "no entry named \"nope\"", "known: \"x\""});
  ExpectConfigError([&] { LoadKubeconfig(missing_ctx.string(), "other"); },
                    {"contexts", "no entry named \"other\""});

  auto bad_cluster = dir.Write("b", R"(current-context: x
clusters:
- name: c
  cluster:
    server: "https://h:1"
    certificate-authority: nothere.crt
contexts: [{name: x, context: {cluster: c}}]
)");
  ExpectConfigError([&] { LoadKubeconfig(bad_cluster.string()); },
                    {bad_cluster.string() + ":6:", "clusters[0].cluster.certificate-authority",
                     "nothere.crt", "No such file"});

  auto typo = dir.Write("c", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
users:
- name: u
  user:
    tokenfile: /x
)");
  ExpectConfigError(
      [&] { LoadKubeconfig(typo.string()); },
      {typo.string() + ":7:", "users[0].user.tokenfile", "did you mean \"tokenFile\""});

  auto bad_data = dir.Write("d", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority-data: "!!!"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  ExpectConfigError([&] { LoadKubeconfig(bad_data.string()); },
                    {":2:", "certificate-authority-data", "expected base64"});

  auto exec = dir.Write("e", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
users: [{name: u, user: {exec: {command: aws}}}]
)");
  ExpectConfigError([&] { LoadKubeconfig(exec.string()); },
                    {":4:", "users[0].user.exec", "not supported"});

  auto cert_without_key = dir.Write("f",
                                    "current-context: x\n"
                                    "clusters: [{name: c, cluster: {server: \"https://h:1\"}}]\n"
                                    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                                    "users: [{name: u, user: {client-certificate-data: " +
                                        B64(kCertPem) + "}}]\n");
  ExpectConfigError([&] { LoadKubeconfig(cert_without_key.string()); },
                    {"client-key", "needs its key"});

  auto no_scheme = dir.Write("g", R"(current-context: x
clusters: [{name: c, cluster: {server: "h:1"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  ExpectConfigError([&] { LoadKubeconfig(no_scheme.string()); },
                    {":2:", "clusters[0].cluster.server", "https://"});

  ExpectConfigError([&] { LoadKubeconfig((dir.path() / "absent").string()); }, {"absent"});
}

class InClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("KUBERNETES_SERVICE_HOST", "127.0.0.9", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  }
  void TearDown() override {
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
  }
  TempDir dir_;
};

TEST_F(InClusterTest, ReadsServiceAccountFilesAndFollowsTokenRotation) {
  dir_.Write("token", "first-token");
  dir_.Write("ca.crt", kCaPem);
  dir_.Write("namespace", "zk-system\n");
  ClientConfig c = InClusterConfig({dir_.path(), std::chrono::milliseconds(0)});
  EXPECT_EQ(c.server, "https://127.0.0.9:6443");
  EXPECT_EQ(c.default_namespace, "zk-system");
  EXPECT_EQ(c.tls.ca_pem, kCaPem);
  ASSERT_NE(c.token, nullptr);
  EXPECT_EQ(c.token->Token(), "first-token");
  // The kubelet replaces the file (a new inode via rename).
  dir_.Write("token.new", "second-token-rotated");
  std::filesystem::rename(dir_.path() / "token.new", dir_.path() / "token");
  EXPECT_EQ(c.token->Token(), "second-token-rotated");
  // A vanished file keeps the last good token.
  std::filesystem::remove(dir_.path() / "token");
  EXPECT_EQ(c.token->Token(), "second-token-rotated");
}

TEST_F(InClusterTest, RecheckIntervalLimitsRereads) {
  dir_.Write("token", "one");
  dir_.Write("ca.crt", kCaPem);
  ClientConfig c = InClusterConfig({dir_.path(), std::chrono::milliseconds(300)});
  EXPECT_EQ(c.default_namespace, "default");
  EXPECT_EQ(c.token->Token(), "one");
  dir_.Write("token", "two-two");
  EXPECT_EQ(c.token->Token(), "one");
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  EXPECT_EQ(c.token->Token(), "two-two");
}

TEST_F(InClusterTest, MissingEnvOrFilesAreNamed) {
  ExpectConfigError([&] { InClusterConfig({dir_.path()}); }, {"token", "cannot read"});
  dir_.Write("token", "t");
  ExpectConfigError([&] { InClusterConfig({dir_.path()}); }, {"ca.crt", "cluster CA"});
  unsetenv("KUBERNETES_SERVICE_HOST");
  ExpectConfigError([&] { InClusterConfig({dir_.path()}); }, {"KUBERNETES_SERVICE_HOST"});
}

TEST(HttpTransportConfigTest, BadTlsMaterialIsAConfigError) {
  ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.source = "test";
  c.tls.ca_pem = kCaPem;  // well-formed PEM armour, not a certificate
  ExpectConfigError([&] { NewHttpTransport(c); }, {"test", "does not load"});
  c.tls.ca_pem.clear();
  c.server = "ftp://x";
  ExpectConfigError([&] { NewHttpTransport(c); }, {"https://"});
}

TEST(Base64Test, DecodesAndRejects) {
  EXPECT_EQ(DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(DecodeBase64("aGVs\nbG8="), "hello");
  EXPECT_FALSE(DecodeBase64("abc"));
  EXPECT_FALSE(DecodeBase64("!!!!"));
}

}  // namespace
}  // namespace zkop::kube
