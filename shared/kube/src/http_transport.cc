// Transport on cpprestsdk's http_client. One http_client per distinct timeout
// (cpprestsdk fixes the timeout per client); each stream gets its own client so
// a long watch never holds a pooled connection others wait for.
#include <cpprest/http_client.h>
#include <cpprest/rawptrstream.h>

#include <openssl/err.h>

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

void ApplyTls(const TlsConfig& tls, boost::asio::ssl::context& ctx) {
  if (!tls.ca_pem.empty()) {
    ctx.add_certificate_authority(boost::asio::buffer(tls.ca_pem));
  }
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
  CppRestTransport(ClientConfig config, std::string user_agent)
      : config_(std::move(config)), user_agent_(std::move(user_agent)) {}

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
    TlsConfig tls = config_.tls;
    c.set_ssl_context_callback([tls](boost::asio::ssl::context& ctx) { ApplyTls(tls, ctx); });
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
  try {
    boost::asio::ssl::context probe(boost::asio::ssl::context::sslv23);
    ApplyTls(config.tls, probe);
  } catch (const std::exception& e) {
    throw zkop::config::ConfigError(config.source, 0, 0, "tls",
                                    std::string("the CA / client certificate / key does not "
                                                "load: ") +
                                        e.what());
  }
  return std::make_shared<CppRestTransport>(config, std::move(user_agent));
}

}  // namespace zkop::kube
