// Transport on cpprestsdk's http_client. One http_client per distinct timeout
// (cpprestsdk fixes the timeout per client); each stream gets its own client so
// a long watch never holds a pooled connection others wait for.
#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <mutex>

#include "zkop/config/yaml_reader.h"
#include "zkop/kube/transport.h"

namespace zkop::kube {

namespace {

namespace http = web::http;
using http::client::http_client;
using http::client::http_client_config;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The certificate authorities a kubeconfig names, parsed once and shared by every TLS context
// the transport makes (cpprestsdk makes one per connection, and each watch is a connection).
// As client-go does, a configured CA replaces the system's trust store instead of adding to
// it: a kubeconfig's CA is the only issuer its API server's certificate may have. This also
// keeps each connection from holding its own parse of the system bundle (~1 MB each).
class TrustStore {
 public:
  // Throws std::runtime_error naming what did not parse.
  explicit TrustStore(const std::string& ca_pem) : store_(X509_STORE_new()) {
    if (store_ == nullptr) throw std::runtime_error("out of memory for the CA store");
    BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      const int ok = X509_STORE_add_cert(store_, cert);
      X509_free(cert);
      if (ok != 1) break;
      ++added;
    }
    BIO_free(bio);
    ERR_clear_error();  // the PEM end-of-input "error" that ends the loop
    if (added == 0) {
      X509_STORE_free(store_);
      throw std::runtime_error("no PEM certificate in the certificate authority data");
    }
  }
  ~TrustStore() { X509_STORE_free(store_); }
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

  // Makes `ctx` trust exactly this store (the context takes a reference; the default paths
  // cpprestsdk loaded are released).
  void InstallInto(boost::asio::ssl::context& ctx) const {
    X509_STORE_up_ref(store_);
    SSL_CTX_set_cert_store(ctx.native_handle(), store_);
  }

 private:
  X509_STORE* store_;
};

void ApplyTls(const TlsConfig& tls, const TrustStore* trust, boost::asio::ssl::context& ctx) {
  if (trust != nullptr) trust->InstallInto(ctx);
  if (!tls.client_cert_pem.empty()) {
    ctx.use_certificate_chain(boost::asio::buffer(tls.client_cert_pem));
    ctx.use_private_key(boost::asio::buffer(tls.client_key_pem), boost::asio::ssl::context::pem);
  }
}

// What an exception thrown by a cpprestsdk call means for the caller.
HttpResponse Failure(std::exception_ptr ep, const std::stop_token& cancel) {
  HttpResponse r;
  r.failure = TransportFailure::kConnection;
  try {
    std::rethrow_exception(ep);
  } catch (const pplx::task_canceled&) {
    r.failure = TransportFailure::kCancelled;
    r.failure_message = "request cancelled";
  } catch (const http::http_exception& e) {
    r.failure_message = e.what();
    if (e.error_code() == std::errc::timed_out) r.failure = TransportFailure::kTimeout;
    // cpprestsdk keeps OpenSSL's packed error code (library << 23 | reason)
    // but only says "Error in SSL handshake" or "Failed to read HTTP status
    // line"; name the TLS reason ("certificate verify failed", ...).
    auto code = static_cast<unsigned long>(e.error_code().value());
    if (code >= (1ul << 23)) {
      if (const char* why = ERR_reason_error_string(code)) {
        r.failure_message += std::string(": TLS: ") + why;
      }
    }
  } catch (const std::exception& e) {
    r.failure_message = e.what();
  }
  if (cancel.stop_requested()) {
    r.failure = TransportFailure::kCancelled;
    r.failure_message = "request cancelled";
  }
  return r;
}

class CppRestLineStream : public LineStream {
 public:
  CppRestLineStream(std::shared_ptr<http_client> client, http::http_response response,
                    std::shared_ptr<pplx::cancellation_token_source> cts, std::stop_token cancel)
      : client_(std::move(client)),
        response_(std::move(response)),
        body_(response_.body()),
        cts_(std::move(cts)),
        cancel_(std::move(cancel)),
        on_stop_(cancel_, [this] { Abort(); }) {}

  ~CppRestLineStream() override { Abort(); }

  bool ReadLine(std::string* line, std::string* error) override {
    error->clear();
    while (true) {
      if (cancel_.stop_requested()) {
        *error = "watch cancelled";
        return false;
      }
      try {
        concurrency::streams::container_buffer<std::vector<uint8_t>> buf;
        size_t n = body_.read_line(buf).get();
        if (cancel_.stop_requested()) {
          *error = "watch cancelled";
          return false;
        }
        if (n > 0) {
          *line = std::string(buf.collection().begin(), buf.collection().end());
          return true;
        }
        if (body_.is_eof()) return false;
      } catch (const std::exception& e) {
        *error = cancel_.stop_requested() ? "watch cancelled" : e.what();
        return false;
      }
    }
  }

 private:
  void Abort() {
    cts_->cancel();
    try {
      body_.streambuf().close(std::ios_base::in).wait();
    } catch (const std::exception&) {
      // Already closed: nothing left to unblock.
    }
  }

  std::shared_ptr<http_client> client_;
  http::http_response response_;
  concurrency::streams::istream body_;
  std::shared_ptr<pplx::cancellation_token_source> cts_;
  std::stop_token cancel_;
  std::stop_callback<std::function<void()>> on_stop_;
};

class CppRestTransport : public Transport {
 public:
  CppRestTransport(ClientConfig config, std::string user_agent,
                   std::shared_ptr<const TrustStore> trust)
      : config_(std::move(config)), user_agent_(std::move(user_agent)), trust_(std::move(trust)) {}

  HttpResponse Send(const HttpRequest& request) override {
    auto client = ClientFor(request.timeout);
    auto cts = std::make_shared<pplx::cancellation_token_source>();
    std::stop_callback on_stop(request.cancel, [cts] { cts->cancel(); });
    try {
      http::http_response resp = client->request(Build(request), cts->get_token()).get();
      HttpResponse out = Head(resp);
      out.body = resp.extract_utf8string(true).get();
      return out;
    } catch (...) {
      return Failure(std::current_exception(), request.cancel);
    }
  }

  HttpResponse Open(const HttpRequest& request, std::unique_ptr<LineStream>* stream) override {
    auto client = std::make_shared<http_client>(config_.server, MakeConfig(request.timeout));
    auto cts = std::make_shared<pplx::cancellation_token_source>();
    try {
      http::http_response resp;
      {
        std::stop_callback on_stop(request.cancel, [cts] { cts->cancel(); });
        resp = client->request(Build(request), cts->get_token()).get();
      }
      HttpResponse out = Head(resp);
      if (out.status >= 200 && out.status < 300) {
        *stream = std::make_unique<CppRestLineStream>(client, resp, cts, request.cancel);
      } else {
        out.body = resp.extract_utf8string(true).get();
      }
      return out;
    } catch (...) {
      return Failure(std::current_exception(), request.cancel);
    }
  }

 private:
  http_client_config MakeConfig(std::chrono::milliseconds timeout) const {
    http_client_config c;
    c.set_timeout(timeout);
    c.set_validate_certificates(!config_.tls.insecure_skip_verify);
    c.set_ssl_context_callback([tls = config_.tls, trust = trust_](boost::asio::ssl::context& ctx) {
      ApplyTls(tls, trust.get(), ctx);
    });
    return c;
  }

  std::shared_ptr<http_client> ClientFor(std::chrono::milliseconds timeout) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = clients_[timeout.count()];
    if (!slot) slot = std::make_shared<http_client>(config_.server, MakeConfig(timeout));
    return slot;
  }

  http::http_request Build(const HttpRequest& request) const {
    http::http_request req{http::method(request.method)};
    req.set_request_uri(web::uri(request.target));
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", user_agent_);
    if (config_.token) {
      std::string token = config_.token->Token();
      if (!token.empty()) req.headers().add("Authorization", "Bearer " + token);
    }
    if (!request.body.empty() || !request.content_type.empty()) {
      // As bytes: cpprestsdk's std::string overload reinterprets a char
      // buffer as an unsigned-char one (UBSan flags the vptr mismatch).
      req.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
      req.headers().set_content_type(request.content_type);
    }
    return req;
  }

  static HttpResponse Head(const http::http_response& resp) {
    HttpResponse out;
    out.status = resp.status_code();
    for (const auto& [name, value] : resp.headers()) out.headers[Lower(name)] = value;
    return out;
  }

  ClientConfig config_;
  std::string user_agent_;
  std::shared_ptr<const TrustStore> trust_;  // null: the system's trust store
  std::mutex mu_;
  std::map<int64_t, std::shared_ptr<http_client>> clients_;
};

}  // namespace

std::shared_ptr<Transport> NewHttpTransport(const ClientConfig& config, std::string user_agent) {
  if (!config.server.starts_with("https://") && !config.server.starts_with("http://")) {
    throw zkop::config::ConfigError(
        config.source, 0, 0, "server",
        "expected a URL starting with https:// or http://, found \"" + config.server + "\"");
  }
  std::shared_ptr<const TrustStore> trust;
  try {
    if (!config.tls.ca_pem.empty()) trust = std::make_shared<const TrustStore>(config.tls.ca_pem);
    boost::asio::ssl::context probe(boost::asio::ssl::context::sslv23);
    ApplyTls(config.tls, trust.get(), probe);
  } catch (const std::exception& e) {
    throw zkop::config::ConfigError(config.source, 0, 0, "tls",
                                    std::string("the CA / client certificate / key does not "
                                                "load: ") +
                                        e.what());
  }
  return std::make_shared<CppRestTransport>(config, std::move(user_agent), std::move(trust));
}

}  // namespace zkop::kube
