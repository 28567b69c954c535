#include "http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cpprest/json.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

#include "zkop/http/health_server.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

const log::Logger kLog("devkube.http");

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

int NativeHandle(tcp::socket& s) { return s.native_handle(); }
int NativeHandle(asio::ssl::stream<tcp::socket>& s) { return s.next_layer().native_handle(); }

template <typename Stream>
class ExchangeImpl : public Exchange {
 public:
  ExchangeImpl(Stream& socket, HttpRequest request, unsigned version, bool keep_alive,
               const std::atomic<bool>& stopping)
      : socket_(socket),
        request_(std::move(request)),
        version_(version),
        keep_alive_(keep_alive),
        stopping_(stopping) {}

  const HttpRequest& request() const override { return request_; }

  void Respond(const HttpResponse& response) override {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), version_};
    res.set(bhttp::field::server, "zkop-devkube");
    res.set(bhttp::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res.insert(k, v);
    res.body() = response.body;
    res.keep_alive(keep_alive_);
    res.prepare_payload();
    beast::error_code ec;
    bhttp::write(socket_, res, ec);
    responded_ = true;
    if (ec) keep_alive_ = false;
  }

  bool BeginStream(int status, const std::string& content_type) override {
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    res.set(bhttp::field::server, "zkop-devkube");
    res.set(bhttp::field::content_type, content_type);
    res.set(bhttp::field::cache_control, "no-cache, private");
    res.chunked(true);
    res.keep_alive(false);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::error_code ec;
    bhttp::write_header(socket_, sr, ec);
    responded_ = true;
    streaming_ = true;
    keep_alive_ = false;
    return !ec;
  }

  bool WriteChunk(const std::string& data) override {
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk(asio::buffer(data)), ec);
    return !ec;
  }

  void EndStream() {
    beast::error_code ec;
    asio::write(socket_, bhttp::make_chunk_last(), ec);
  }

  bool ClientClosed() override {
    pollfd p{NativeHandle(socket_), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    char c;
    return ::recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  bool Stopping() const override { return stopping_.load(); }

  bool responded() const { return responded_; }
  bool streaming() const { return streaming_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  Stream& socket_;
  HttpRequest request_;
  unsigned version_;
  bool keep_alive_;
  const std::atomic<bool>& stopping_;
  bool responded_ = false;
  bool streaming_ = false;
};

}  // namespace

std::vector<std::string> HttpRequest::HeaderValues(std::string_view lower_name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers)
    if (k == lower_name) out.push_back(v);
  return out;
}

HttpServer::HttpServer(const std::string& listen, HttpHandler handler, const TlsIdentity* tls)
    : handler_(std::move(handler)) {
  if (tls) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code tls_ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1,
                     tls_ec);
    ctx->use_certificate_chain(asio::buffer(tls->cert_pem), tls_ec);
    if (!tls_ec) ctx->use_private_key(asio::buffer(tls->key_pem), asio::ssl::context::pem, tls_ec);
    if (tls_ec) throw std::runtime_error("cannot use the serving certificate: " + tls_ec.message());
    tls_context_ = ctx;
  }
  http::Endpoint ep;
  std::string error;
  if (!http::ParseEndpoint(listen, &ep, &error)) throw std::runtime_error(error);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(ep.host, ec);
  if (ec) throw std::runtime_error("\"" + listen + "\": \"" + ep.host + "\" is not an IP address");
  // A plain socket: accept() is interrupted with shutdown() from the destructor.
  int fd = ::socket(ip.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot create a socket for " + listen);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  tcp::endpoint endpoint(ip, ep.port);
  if (::bind(fd, endpoint.data(), endpoint.size()) != 0 || ::listen(fd, 128) != 0) {
    int err = errno;
    ::close(fd);
    std::string why = err == EADDRINUSE ? "is already in use by another process"
                                        : std::string("cannot be bound: ") + std::strerror(err);
    throw std::runtime_error("API server address " + listen + " " + why +
                             "; choose another --listen address (port 0 picks a free one)");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  host_ = ep.host;
  listen_fd_ = fd;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

HttpServer::~HttpServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);
  std::list<std::unique_ptr<Connection>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& c : connections_)
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    all.swap(connections_);
  }
  for (auto& c : all)
    if (c->thread.joinable()) c->thread.join();
}

void HttpServer::ReapFinished() {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) c->thread.join();
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (!stopping_) kLog.Error("accept failed", {{"error", std::strerror(errno)}});
      return;
    }
    int one = 1;  // watch events are small writes: do not let Nagle hold them back
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ReapFinished();
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection* raw = conn.get();
    connections_.push_back(std::move(conn));
    raw->thread = std::thread([this, raw] { Serve(raw); });
  }
}

void HttpServer::Serve(Connection* conn) {
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(tcp::v4(), conn->fd, ec);
  if (ec) socket.assign(tcp::v6(), conn->fd, ec);
  if (!ec && tls_context_) {
    asio::ssl::stream<tcp::socket> tls(std::move(socket),
                                       *static_cast<asio::ssl::context*>(tls_context_.get()));
    tls.handshake(asio::ssl::stream_base::server, ec);
    if (!ec)
      ServeStream(tls);
    else
      kLog.Debug("TLS handshake failed", {{"error", ec.message()}});
    MarkDone(conn);
    // No TLS close_notify exchange: a gone peer would block it. The TCP close ends it.
    tls.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    tls.next_layer().close(ec);
    return;
  }
  if (!ec) ServeStream(socket);
  MarkDone(conn);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

template <typename Stream>
void HttpServer::ServeStream(Stream& socket) {
  boost::system::error_code ec;
  beast::flat_buffer buffer;
  while (!stopping_ && !ec) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.header_limit(1024 * 1024);
    bhttp::read(socket, buffer, parser, ec);
    if (ec) break;
    auto& req = parser.get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    r.path = PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) {
      std::string_view qs = target.substr(q + 1);
      while (!qs.empty()) {
        size_t amp = qs.find('&');
        std::string_view kv = qs.substr(0, amp);
        size_t eq = kv.find('=');
        r.query[PercentDecode(kv.substr(0, eq), true)] =
            eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        qs = qs.substr(amp + 1);
      }
    }
    r.body = std::move(req.body());
    r.content_type = std::string(req[bhttp::field::content_type]);
    r.accept = std::string(req[bhttp::field::accept]);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    ExchangeImpl<Stream> ex(socket, std::move(r), req.version(), req.keep_alive(), stopping_);
    try {
      handler_(ex);
    } catch (const std::exception& e) {
      // A handler bug must not take the whole server down: answer 500 and keep serving.
      kLog.Error(
          "request failed",
          {{"method", ex.request().method}, {"path", ex.request().path}, {"error", e.what()}});
      if (!ex.responded()) {
        std::string msg =
            web::json::value::string(std::string("internal error: ") + e.what()).serialize();
        ex.Respond({500,
                    "application/json",
                    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                    "\"Failure\",\"message\":" +
                        msg + ",\"reason\":\"InternalError\",\"code\":500}",
                    {}});
      }
    }
    if (!ex.responded()) ex.Respond({500, "application/json", "{}", {}});
    if (ex.streaming()) ex.EndStream();
    if (!ex.keep_alive()) break;
  }
}

void HttpServer::MarkDone(Connection* conn) {
  // Once done, the destructor no longer touches this descriptor.
  std::lock_guard<std::mutex> lock(mu_);
  conn->fd = -1;
  conn->done = true;
}

}  // namespace zkop::devkube
