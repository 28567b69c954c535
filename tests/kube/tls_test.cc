// The client against a real TLS endpoint that demands a client certificate
// (verify_peer | verify_fail_if_no_peer_cert), with certificates minted by
// openssl for this test run: the client connects with its certificate, and
// fails clearly without it or when it trusts the wrong CA.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <list>
#include <mutex>
#include <sstream>
#include <thread>

#include "zkop/kube/client.h"
#include "zkop/kube/config.h"

namespace zkop::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Base64(const std::string& s) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16 |
                 static_cast<unsigned char>(s[i + 1]) << 8 | static_cast<unsigned char>(s[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == s.size()) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    unsigned v = static_cast<unsigned char>(s[i]) << 16 | static_cast<unsigned char>(s[i + 1]) << 8;
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

// A CA, a server certificate for IP 127.0.0.1, a client certificate, and an
// unrelated second CA, all made with the openssl command line in a temp dir.
class Pki {
 public:
  Pki() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zkop-tls-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    std::ofstream(dir_ / "server.ext") << "subjectAltName=IP:127.0.0.1\n"
                                          "extendedKeyUsage=serverAuth\n";
    std::ofstream(dir_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    Run("openssl req -x509 " + key + " -keyout ca.key -out ca.crt -days 1 -subj /CN=zkop-test-ca");
    Run("openssl req -x509 " + key + " -keyout other.key -out other.crt -days 1 -subj /CN=other");
    for (const std::string name : {"server", "client"}) {
      std::string cn = name == "server" ? "/CN=127.0.0.1" : "/O=system:masters/CN=zkop-admin";
      Run("openssl req " + key + " -keyout " + name + ".key -out " + name + ".csr -subj " + cn);
      Run("openssl x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -out " +
          name + ".crt -days 1 -extfile " + name + ".ext");
    }
  }
  ~Pki() { std::filesystem::remove_all(dir_); }
  std::filesystem::path operator/(const std::string& f) const { return dir_ / f; }
  std::string Pem(const std::string& f) const { return ReadFile(dir_ / f); }

 private:
  void Run(const std::string& cmd) {
    std::string full = "cd '" + dir_.string() + "' && " + cmd + " >>openssl.log 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << cmd << "\n" << ReadFile(dir_ / "openssl.log");
  }
  std::filesystem::path dir_;
};

// An HTTPS server on 127.0.0.1:<ephemeral> that requires a client certificate
// signed by the test CA and answers every request with the peer's CN.
class TlsServer {
 public:
  explicit TlsServer(const Pki& pki) : ctx_(asio::ssl::context::tls_server), acceptor_(io_) {
    ctx_.use_certificate_chain_file((pki / "server.crt").string());
    ctx_.use_private_key_file((pki / "server.key").string(), asio::ssl::context::pem);
    ctx_.load_verify_file((pki / "ca.crt").string());
    ctx_.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TlsServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();  // no new connections from here on
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& c : conns_) ::shutdown(c.socket->native_handle(), SHUT_RDWR);
    }
    for (auto& c : conns_) c.thread.join();  // unlocked: Serve() may still take mu_
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> handshake_errors() const {
    std::lock_guard<std::mutex> lock(mu_);
    return handshake_errors_;
  }

 private:
  struct Conn {
    std::shared_ptr<tcp::socket> socket;
    std::thread thread;
  };

  void AcceptLoop() {
    while (true) {
      auto sock = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*sock, ec);
      if (ec) return;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back({sock, std::thread([this, sock] { Serve(sock); })});
    }
  }

  void Serve(std::shared_ptr<tcp::socket> sock) {
    asio::ssl::stream<tcp::socket&> tls(*sock, ctx_);
    boost::system::error_code ec;
    tls.handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
      std::lock_guard<std::mutex> lock(mu_);
      handshake_errors_.push_back(ec.message());
      return;
    }
    std::string cn;
    if (X509* peer = SSL_get_peer_certificate(tls.native_handle())) {
      char buf[256] = {0};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, buf, sizeof buf);
      cn = buf;
      X509_free(peer);
    }
    beast::flat_buffer buffer;
    while (true) {
      beast::http::request_parser<beast::http::string_body> parser;
      parser.body_limit(16 * 1024 * 1024);
      beast::http::read_header(tls, buffer, parser, ec);
      if (ec) return;
      if (parser.get().target() == "/slow") {  // answer after 600 ms
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
      }
      if (parser.get().target() == "/stall") {  // read nothing more until the client leaves
        pollfd p{sock->native_handle(), POLLRDHUP, 0};
        ::poll(&p, 1, 20000);
        return;
      }
      if (parser.get().target() == "/hang-up") {  // reset the connection, body unread
        sock->set_option(asio::socket_base::linger(true, 0), ec);
        sock->close(ec);
        return;
      }
      beast::http::read(tls, buffer, parser, ec);
      if (ec) return;
      beast::http::request<beast::http::string_body> req = parser.release();
      beast::http::response<beast::http::string_body> res{beast::http::status::ok, req.version()};
      res.set(beast::http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"tls-probe"},)"
                   R"("data":{"peer":")" +
                   cn + R"(","target":")" + std::string(req.target()) + R"(","authorization":")" +
                   std::string(req[beast::http::field::authorization]) + R"("}})";
      res.prepare_payload();
      beast::http::write(tls, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  asio::io_context io_;
  asio::ssl::context ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::list<Conn> conns_;
  std::vector<std::string> handshake_errors_;
};

class TlsClientTest : public ::testing::Test {
 protected:
  TlsClientTest() : server_(pki_) {}

  ClientConfig Config(bool with_cert, const std::string& ca_file) {
    ClientConfig c;
    c.server = server_.url();
    c.source = "tls test";
    c.tls.ca_pem = ca_file.empty() ? "" : pki_.Pem(ca_file);
    if (with_cert) {
      c.tls.client_cert_pem = pki_.Pem("client.crt");
      c.tls.client_key_pem = pki_.Pem("client.key");
    }
    return c;
  }
  static ClientOptions Options() {
    ClientOptions o;
    o.max_attempts = 1;
    o.request_timeout = std::chrono::seconds(5);
    return o;
  }

  Pki pki_;
  TlsServer server_;
};

TEST_F(TlsClientTest, ConnectsWithClientCertificate) {
  auto client = Client::FromConfig(Config(true, "ca.crt"), Options());
  Result<Json> r = client->Get(resources::ConfigMaps(), "default", "tls-probe");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value().at("data").at("peer").as_string(), "zkop-admin");
  EXPECT_EQ(r.value().at("data").at("target").as_string(),
            "/api/v1/namespaces/default/configmaps/tls-probe");
  // The connection is reused for a second call.
  EXPECT_TRUE(client->Get(resources::ConfigMaps(), "default", "again").ok());
}

TEST_F(TlsClientTest, KubeconfigFileAndDataFormsBothWork) {
  std::string files =
      "current-context: tls\n"
      "clusters: [{name: c, cluster: {server: \"" +
      server_.url() + "\", certificate-authority: " + (pki_ / "ca.crt").string() +
      "}}]\n"
      "contexts: [{name: tls, context: {cluster: c, user: u}}]\n"
      "users: [{name: u, user: {client-certificate: " +
      (pki_ / "client.crt").string() + ", client-key: " + (pki_ / "client.key").string() + "}}]\n";
  std::string data =
      "current-context: tls\n"
      "clusters: [{name: c, cluster: {server: \"" +
      server_.url() + "\", certificate-authority-data: " + Base64(pki_.Pem("ca.crt")) +
      "}}]\n"
      "contexts: [{name: tls, context: {cluster: c, user: u}}]\n"
      "users: [{name: u, user: {client-certificate-data: " +
      Base64(pki_.Pem("client.crt")) + ", client-key-data: " + Base64(pki_.Pem("client.key")) +
      "}}]\n";
  for (const std::string& text : {files, data}) {
    auto client = Client::FromConfig(LoadKubeconfigString(text, "tls-kubeconfig"), Options());
    Result<Json> r = client->Get(resources::ConfigMaps(), "", "tls-probe");
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r.value().at("data").at("peer").as_string(), "zkop-admin");
  }
}

TEST_F(TlsClientTest, FailsClearlyWithoutClientCertificate) {
  auto client = Client::FromConfig(Config(false, "ca.crt"), Options());
  Result<Json> r = client->Get(resources::ConfigMaps(), "default", "tls-probe");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kConnection) << r.error().ToString();
  EXPECT_EQ(r.error().http_status(), 0);
  EXPECT_NE(r.error().message().find("TLS: "), std::string::npos) << r.error().message();
  // The server refused the handshake because no certificate was presented.
  for (int i = 0; i < 50 && server_.handshake_errors().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(server_.handshake_errors().empty());
  EXPECT_NE(server_.handshake_errors()[0].find("certificate"), std::string::npos)
      << server_.handshake_errors()[0];
}

TEST_F(TlsClientTest, FailsClearlyWithWrongCa) {
  auto client = Client::FromConfig(Config(true, "other.crt"), Options());
  Result<Json> r = client->Get(resources::ConfigMaps(), "default", "tls-probe");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kConnection);
  EXPECT_NE(r.error().message().find("TLS: certificate verify failed"), std::string::npos)
      << r.error().message();
}

TEST_F(TlsClientTest, InsecureSkipVerifyStillSendsTheCertificate) {
  ClientConfig c = Config(true, "");
  c.tls.insecure_skip_verify = true;
  auto client = Client::FromConfig(c, Options());
  Result<Json> r = client->Get(resources::ConfigMaps(), "default", "tls-probe");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value().at("data").at("peer").as_string(), "zkop-admin");
}

// A POST of `mib` MiB to `target`, straight through the transport.
HttpRequest BigPost(const std::string& target, size_t mib, std::chrono::milliseconds timeout) {
  HttpRequest post;
  post.method = "POST";
  post.target = target;
  post.content_type = "application/json";
  post.body.assign(mib * 1024 * 1024, 'x');
  post.timeout = timeout;
  return post;
}

TEST_F(TlsClientTest, AServerThatResetsMidRequestIsAFailureAndTheNextRequestWorks) {
  // The server resets the connection with most of an 8 MiB body unread.
  auto transport = NewHttpTransport(Config(true, "ca.crt"), "tls-test");
  HttpResponse r = transport->Send(BigPost("/hang-up", 8, std::chrono::seconds(5)));
  EXPECT_EQ(r.failure, TransportFailure::kConnection) << r.failure_message;
  EXPECT_EQ(r.status, 0);
  // The transport still works afterwards.
  HttpRequest get;
  get.method = "GET";
  get.target = "/api/v1/namespaces/default/configmaps/after";
  HttpResponse ok = transport->Send(get);
  EXPECT_EQ(ok.status, 200) << ok.failure_message;
}

TEST_F(TlsClientTest, CancellingAWriteInProgressIsNotASigpipe) {
  // The server stops reading, so the client blocks writing a 64 MiB body; cancelling shuts
  // the socket down under OpenSSL's blocked write(), which then fails with EPIPE — and raises
  // SIGPIPE, killing this process, unless the transport keeps it off the thread.
  auto transport = NewHttpTransport(Config(true, "ca.crt"), "tls-test");
  std::stop_source stop;
  HttpRequest post = BigPost("/stall", 64, std::chrono::seconds(10));
  post.cancel = stop.get_token();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop.request_stop();
  });
  HttpResponse r = transport->Send(post);
  canceller.join();
  EXPECT_EQ(r.failure, TransportFailure::kCancelled) << r.failure_message;
}

TEST_F(TlsClientTest, SignalsWhileWaitingForAnAnswerAreNotFailures) {
  // A signal handler running while the transport waits in a TLS read makes the read return
  // (EINTR), which OpenSSL reports as "try again" — as it does a timeout. The request must
  // simply go on waiting.
  struct sigaction quiet {};
  quiet.sa_handler = [](int) {};
  sigemptyset(&quiet.sa_mask);
  struct sigaction previous {};
  ASSERT_EQ(sigaction(SIGUSR1, &quiet, &previous), 0);
  auto transport = NewHttpTransport(Config(true, "ca.crt"), "tls-test");
  HttpRequest get;
  get.method = "GET";
  get.target = "/slow";
  get.timeout = std::chrono::seconds(5);
  std::atomic<bool> done{false};
  HttpResponse r;
  std::thread client([&] {
    r = transport->Send(get);
    done = true;
  });
  int signals = 0;
  while (!done) {
    pthread_kill(client.native_handle(), SIGUSR1);
    ++signals;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  client.join();
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_GT(signals, 10);
  EXPECT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
  EXPECT_EQ(r.status, 200);
}

TEST_F(TlsClientTest, InClusterTokenIsSentAndFollowsRotation) {
  std::filesystem::path root = pki_ / "serviceaccount";
  std::filesystem::create_directories(root);
  std::filesystem::copy_file(pki_ / "ca.crt", root / "ca.crt");
  std::ofstream(root / "token") << "token-one";
  std::ofstream(root / "namespace") << "zk";
  std::string port = server_.url().substr(server_.url().rfind(':') + 1);
  setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", port.c_str(), 1);
  ClientConfig c = InClusterConfig({root, std::chrono::milliseconds(0)});
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  // This test server also demands a client certificate.
  c.tls.client_cert_pem = pki_.Pem("client.crt");
  c.tls.client_key_pem = pki_.Pem("client.key");
  auto client = Client::FromConfig(c, Options());

  Result<Json> r = client->Get(resources::ConfigMaps(), "", "probe");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value().at("data").at("authorization").as_string(), "Bearer token-one");
  EXPECT_EQ(r.value().at("data").at("target").as_string(),
            "/api/v1/namespaces/zk/configmaps/probe");

  std::ofstream(root / "token.tmp") << "token-two-rotated";
  std::filesystem::rename(root / "token.tmp", root / "token");
  r = client->Get(resources::ConfigMaps(), "", "probe");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r.value().at("data").at("authorization").as_string(), "Bearer token-two-rotated");
}

}  // namespace
}  // namespace zkop::kube
