#include "zkop/http/health_server.h"

#include <prometheus/text_serializer.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace zkop::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Probe {
  std::mutex mu;
  bool ok = false;
  std::string reason;
};

}  // namespace

bool ParseEndpoint(const std::string& text, Endpoint* out, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error)
      *error =
          "\"" + text + "\" is not an address: " + why + " (expected host:port, e.g. 0.0.0.0:9464)";
    return false;
  };
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("unterminated IPv6 address");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return fail("missing port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return fail("IPv6 hosts must be in brackets");
  }
  if (host.empty()) host = "0.0.0.0";
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoi(port) > 65535)
    return fail("port must be a number from 0 to 65535");
  out->host = host;
  out->port = static_cast<uint16_t>(std::stoi(port));
  return true;
}

class HealthServer::Impl {
 public:
  Impl(const std::string& address, std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)), acceptor_(io_) {
    ready_.reason = "starting";
    live_.ok = true;
    Endpoint ep;
    std::string error;
    if (!ParseEndpoint(address, &ep, &error)) throw std::runtime_error(error);
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(ep.host, ec);
    if (ec)
      throw std::runtime_error("\"" + address + "\": \"" + ep.host + "\" is not an IP address");
    tcp::endpoint endpoint(ip, ep.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::string why = ec == asio::error::address_in_use ? "is already in use by another process"
                                                          : "cannot be bound: " + ec.message();
      throw std::runtime_error("metrics/health address " + address + " " + why +
                               "; choose another address or stop the other process");
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    asio::post(io_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
    });
    io_.stop();
    if (thread_.joinable()) thread_.join();
    metrics_pool_.stop();  // a collection under way finishes (its answer is dropped)
    metrics_pool_.join();
  }

  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
    std::lock_guard<std::mutex> lock(collectables_mu_);
    collectables_.push_back(std::move(collectable));
  }

  bool IsMetricsScrape(const bhttp::request<bhttp::string_body>& req) const {
    std::string_view target(req.target().data(), req.target().size());
    return (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head) &&
           target.substr(0, target.find('?')) == "/metrics";
  }

  // Collects on the metrics thread, then calls `done` with the text on the I/O thread.
  void CollectMetrics(std::function<void(std::string)> done) {
    asio::post(metrics_pool_, [this, done = std::move(done)]() mutable {
      std::vector<prometheus::MetricFamily> families = registry_->Collect();
      std::vector<std::shared_ptr<prometheus::Collectable>> extra;
      {
        std::lock_guard<std::mutex> lock(collectables_mu_);
        extra = collectables_;
      }
      for (const auto& collectable : extra) {
        try {
          for (auto& family : collectable->Collect()) families.push_back(std::move(family));
        } catch (const std::exception&) {
          // A failing collectable costs its own families, never the scrape or the process.
        }
      }
      std::string text = prometheus::TextSerializer().Serialize(families);
      asio::post(io_, [done = std::move(done), text = std::move(text)]() mutable {
        done(std::move(text));
      });
    });
  }

  void MetricsResponse(const bhttp::request<bhttp::string_body>& req,
                       bhttp::response<bhttp::string_body>& res, std::string text) {
    res.version(req.version());
    res.set(bhttp::field::server, "zkop");
    res.result(bhttp::status::ok);
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = req.method() == bhttp::verb::head ? std::string() : std::move(text);
  }

  uint16_t port() const { return port_; }
  Probe& ready() { return ready_; }
  Probe& live() { return live_; }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket s, Impl* owner) : stream(std::move(s)), impl(owner) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    bhttp::response<bhttp::string_body> res;
    Impl* impl;

    void Read() {
      req = {};
      stream.expires_after(std::chrono::seconds(10));
      bhttp::async_read(stream, buffer, req,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return;
                          self->Respond();
                        });
    }
    void Respond() {
      if (impl->IsMetricsScrape(req)) {
        impl->CollectMetrics([self = shared_from_this()](std::string text) {
          self->impl->MetricsResponse(self->req, self->res, std::move(text));
          self->Write();
        });
        return;
      }
      impl->Handle(req, res);
      Write();
    }
    void Write() {
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::async_write(stream, res, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return;
        if (self->res.keep_alive()) {
          self->res = {};
          self->Read();
        } else {
          beast::error_code ignore;
          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignore);
        }
      });
    }
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed
      std::make_shared<Session>(std::move(socket), this)->Read();
      Accept();
    });
  }

  void ProbeResponse(Probe& p, bhttp::response<bhttp::string_body>& res) {
    std::lock_guard<std::mutex> lock(p.mu);
    res.result(p.ok ? bhttp::status::ok : bhttp::status::service_unavailable);
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = p.ok ? "ok\n" : (p.reason.empty() ? "not ok" : p.reason) + "\n";
  }

  void Handle(const bhttp::request<bhttp::string_body>& req,
              bhttp::response<bhttp::string_body>& res) {
    res.version(req.version());
    res.set(bhttp::field::server, "zkop");
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      res.result(bhttp::status::method_not_allowed);
      res.set(bhttp::field::allow, "GET, HEAD");
      res.body() = "method not allowed\n";
      return;
    }
    if (path == "/healthz" || path == "/livez") {
      ProbeResponse(live_, res);
    } else if (path == "/readyz") {
      ProbeResponse(ready_, res);
    } else {
      res.result(bhttp::status::not_found);
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = "not found; try /metrics, /healthz or /readyz\n";
    }
    if (req.method() == bhttp::verb::head) res.body().clear();
  }

  std::shared_ptr<prometheus::Registry> registry_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  Probe ready_;
  Probe live_;
  std::mutex collectables_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  asio::thread_pool metrics_pool_{1};  // /metrics collections, one at a time
};

HealthServer::HealthServer(const std::string& address,
                           std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>(address, std::move(registry))) {}

HealthServer::~HealthServer() = default;

uint16_t HealthServer::port() const { return impl_->port(); }

void HealthServer::AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  impl_->AddCollectable(std::move(collectable));
}

void HealthServer::SetReady(bool ready, const std::string& reason) {
  std::lock_guard<std::mutex> lock(impl_->ready().mu);
  impl_->ready().ok = ready;
  impl_->ready().reason = reason;
}

void HealthServer::SetLive(bool live, const std::string& reason) {
  std::lock_guard<std::mutex> lock(impl_->live().mu);
  impl_->live().ok = live;
  impl_->live().reason = reason;
}

}  // namespace zkop::http
