// The HTTP/1.1 transport to the API server: Boost.Beast's message parser and serializer over
// blocking connections (connection.h), one shared TLS context, and a small pool of idle
// connections.
//
// Pool: a request takes the most recently used idle connection (or opens one) and gives it
// back when the answer was read whole and the server keeps it open. At most kMaxIdle wait,
// each for at most kIdleTimeout; an idle TLS connection costs ~10 KiB (its record buffers are
// released). One the server has closed is seen before use (it reads as ready) and dropped; if
// the server closes it just as a request goes out, the request fails before the answer's
// first byte, and a GET or HEAD is then sent once more on a new connection (as Go's net/http
// does; other methods fail, for the caller to decide). A watch holds its connection for as
// long as it runs and closes it at the end.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <limits>
#include <mutex>

#include "connection.h"
#include "zkop/config/yaml_reader.h"
#include "zkop/kube/transport.h"

namespace zkop::kube {

namespace {

namespace http = boost::beast::http;
using detail::Connection;
using detail::ConnectionStream;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxIdle = 4;
constexpr auto kIdleTimeout = std::chrono::seconds(30);
// Connecting and the TLS handshake get at most this, whatever the request's own timeout (a
// watch's runs to an hour).
constexpr auto kConnectTimeout = std::chrono::milliseconds(30000);
// Bounds on what the server may send: a header block, a whole answer (a LIST page), one line
// of a watch (one event: an object, which etcd caps at 1.5 MiB by default).
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr uint64_t kBodyLimit = 256ull * 1024 * 1024;
constexpr size_t kLineLimit = 64 * 1024 * 1024;
constexpr size_t kReadChunk = 16 * 1024;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

template <class Fields>
void CopyHeaders(const Fields& fields, HttpResponse* out) {
  for (const auto& f : fields)
    out->headers[Lower(std::string(f.name_string()))] = std::string(f.value());
}

// What a failed exchange tells the caller: the connection's own failure when it has one
// (timeout, reset, TLS), else Beast's reading of a malformed or oversized answer.
HttpResponse Failure(const Connection& c, const boost::system::error_code& ec,
                     const std::stop_token& cancel) {
  HttpResponse r;
  if (cancel.stop_requested()) {
    r.failure = TransportFailure::kCancelled;
    r.failure_message = "request cancelled";
  } else if (c.failure() != TransportFailure::kNone) {
    r.failure = c.failure();
    r.failure_message = c.failure_message();
  } else {
    r.failure = TransportFailure::kConnection;
    r.failure_message =
        ec == http::error::body_limit || ec == http::error::header_limit
            ? "the server's answer exceeds the client's limit (" + ec.message() + ")"
            : "the server's answer is not valid HTTP: " + ec.message();
  }
  return r;
}

class HttpLineStream : public LineStream {
 public:
  HttpLineStream(std::unique_ptr<Connection> c, boost::beast::flat_buffer buffer,
                 std::unique_ptr<http::response_parser<http::buffer_body>> parser,
                 std::stop_token cancel)
      : conn_(std::move(c)),
        buffer_(std::move(buffer)),
        parser_(std::move(parser)),
        cancel_(std::move(cancel)),
        on_stop_(cancel_, [c = conn_.get()] { c->Interrupt(); }) {}

  bool ReadLine(std::string* line, std::string* error) override {
    error->clear();
    while (true) {
      if (cancel_.stop_requested()) {
        *error = "watch cancelled";
        return false;
      }
      const size_t nl = pending_.find('\n', scanned_);
      if (nl != std::string::npos) {
        line->assign(pending_, 0, nl);
        if (line->ends_with('\r')) line->pop_back();
        pending_.erase(0, nl + 1);
        scanned_ = 0;
        if (pending_.empty() && pending_.capacity() > 4 * kReadChunk) std::string().swap(pending_);
        return true;
      }
      scanned_ = pending_.size();
      if (parser_->is_done()) {
        if (pending_.empty()) return false;  // the server ended the stream
        line->swap(pending_);                // a last line without its newline
        pending_.clear();
        scanned_ = 0;
        return true;
      }
      if (pending_.size() > kLineLimit) {
        *error = "a watch event longer than " + std::to_string(kLineLimit) + " bytes";
        return false;
      }
      char chunk[kReadChunk];
      parser_->get().body().data = chunk;
      parser_->get().body().size = sizeof(chunk);
      boost::system::error_code ec;
      ConnectionStream s(*conn_);
      http::read_some(s, buffer_, *parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        *error = cancel_.stop_requested() ? "watch cancelled"
                                          : Failure(*conn_, ec, cancel_).failure_message;
        return false;
      }
      pending_.append(chunk, sizeof(chunk) - parser_->get().body().size);
    }
  }

 private:
  std::unique_ptr<Connection> conn_;
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  std::string pending_;  // received, not yet returned
  size_t scanned_ = 0;   // pending_[0, scanned_) holds no newline
  std::stop_token cancel_;
  std::stop_callback<std::function<void()>> on_stop_;  // last: goes first, before conn_
};

class BeastTransport : public Transport {
 public:
  BeastTransport(detail::ServerAddress server, std::shared_ptr<TokenSource> token,
                 std::string user_agent, std::unique_ptr<detail::TlsContext> tls)
      : server_(std::move(server)),
        token_(std::move(token)),
        user_agent_(std::move(user_agent)),
        tls_(std::move(tls)) {}

  HttpResponse Send(const HttpRequest& request) override {
    std::unique_ptr<http::response_parser<http::string_body>> parser;
    boost::beast::flat_buffer buffer;
    HttpResponse out;
    std::unique_ptr<Connection> c = Exchange(
        request, &parser, &buffer, &out,
        [&](auto& p) {
          p.body_limit(kBodyLimit);
          if (request.method == "HEAD") p.skip(true);
        },
        [](ConnectionStream& s, boost::beast::flat_buffer& b, auto& p,
           boost::system::error_code& ec) { http::read(s, b, p, ec); });
    if (!c) return out;
    out.body = std::move(parser->get().body());
    if (parser->get().keep_alive() && buffer.size() == 0) Release(std::move(c));
    return out;
  }

  HttpResponse Open(const HttpRequest& request, std::unique_ptr<LineStream>* stream) override {
    std::unique_ptr<http::response_parser<http::buffer_body>> parser;
    boost::beast::flat_buffer buffer;
    HttpResponse out;
    std::unique_ptr<Connection> c = Exchange(
        request, &parser, &buffer, &out,
        // A watch has no end; each line is bounded instead. (Not boost::none: Beast 1.74 then
        // refuses any Content-Length, comparing it against the empty optional.)
        [](auto& p) { p.body_limit(std::numeric_limits<uint64_t>::max()); },
        [](ConnectionStream& s, boost::beast::flat_buffer& b, auto& p,
           boost::system::error_code& ec) { http::read_header(s, b, p, ec); });
    if (!c) return out;
    auto lines = std::make_unique<HttpLineStream>(std::move(c), std::move(buffer),
                                                  std::move(parser), request.cancel);
    if (out.status >= 200 && out.status < 300) {
      *stream = std::move(lines);
      return out;
    }
    // An error answer (a Status object): read it whole, bounded like any answer.
    std::string line, error;
    while (out.body.size() <= kBodyLimit && lines->ReadLine(&line, &error)) {
      out.body += line;
      out.body += '\n';
    }
    return out;
  }

 private:
  // Sends `request` on a pooled or new connection and reads its answer (or the answer's head)
  // with `read` into a new parser set up by `configure`; once more on a new connection when a
  // pooled one turns out closed (ClosedWhilePooled). Returns the connection with *out's status
  // and headers set, or null with *out saying what failed.
  template <class Parser, class Configure, class Read>
  std::unique_ptr<Connection> Exchange(const HttpRequest& request, std::unique_ptr<Parser>* parser,
                                       boost::beast::flat_buffer* buffer, HttpResponse* out,
                                       Configure configure, Read read) {
    const http::request<http::string_body> message = Build(request);
    for (int attempt = 1;; ++attempt) {
      *out = HttpResponse();
      bool reused = false;
      std::unique_ptr<Connection> c = Acquire(request, &reused, out);
      if (!c) return nullptr;
      c->SetTimeout(request.timeout);
      *parser = std::make_unique<Parser>();
      (*parser)->header_limit(kHeaderLimit);
      configure(**parser);
      buffer->clear();
      boost::system::error_code ec;
      const size_t before = c->bytes_read();
      {
        std::stop_callback on_stop(request.cancel, [conn = c.get()] { conn->Interrupt(); });
        ConnectionStream s(*c);
        http::write(s, message, ec);
        if (!ec) read(s, *buffer, **parser, ec);
      }
      if (ec) {
        if (ClosedWhilePooled(*c, reused, before, request, attempt)) continue;
        *out = Failure(*c, ec, request.cancel);
        return nullptr;
      }
      out->status = static_cast<int>((*parser)->get().result_int());
      CopyHeaders((*parser)->get(), out);
      return c;
    }
  }

  std::unique_ptr<Connection> Acquire(const HttpRequest& request, bool* reused, HttpResponse* out) {
    std::vector<std::unique_ptr<Connection>> closing;  // closed outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = Clock::now();
      while (!idle_.empty()) {
        Pooled last = std::move(idle_.back());
        idle_.pop_back();
        if (now - last.since < kIdleTimeout && last.conn->Idle()) {
          *reused = true;
          return std::move(last.conn);
        }
        closing.push_back(std::move(last.conn));
      }
    }
    closing.clear();
    return Connection::Open(server_, tls_.get(), std::min(request.timeout, kConnectTimeout),
                            request.cancel, &out->failure, &out->failure_message);
  }

  void Release(std::unique_ptr<Connection> c) {
    std::unique_ptr<Connection> oldest;
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back({std::move(c), Clock::now()});
    if (idle_.size() > kMaxIdle) {
      oldest = std::move(idle_.front().conn);
      idle_.pop_front();
    }
  }

  // True when `c` came from the pool and failed before any byte of its answer (the server
  // closed it as the request went out) and the request may safely go out once more.
  static bool ClosedWhilePooled(const Connection& c, bool reused, size_t bytes_before,
                                const HttpRequest& request, int attempt) {
    const bool safe = request.method == "GET" || request.method == "HEAD";
    return safe && reused && attempt == 1 && c.bytes_read() == bytes_before &&
           c.failure() == TransportFailure::kConnection && !request.cancel.stop_requested();
  }

  http::request<http::string_body> Build(const HttpRequest& request) const {
    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(server_.path_prefix + request.target);
    req.version(11);
    req.set(http::field::host, server_.host_header);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, user_agent_);
    if (token_) {
      const std::string token = token_->Token();
      if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }
    if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
    req.body() = request.body;
    req.prepare_payload();
    req.keep_alive(true);
    return req;
  }

  struct Pooled {
    std::unique_ptr<Connection> conn;
    Clock::time_point since;  // when it was given back
  };

  const detail::ServerAddress server_;
  const std::shared_ptr<TokenSource> token_;
  const std::string user_agent_;
  const std::unique_ptr<detail::TlsContext> tls_;  // null for http://
  std::mutex mu_;
  std::deque<Pooled> idle_;  // most recently used last
};

}  // namespace

std::shared_ptr<Transport> NewHttpTransport(const ClientConfig& config, std::string user_agent) {
  detail::ServerAddress server = detail::ServerAddress::Parse(config.server, config.source);
  std::unique_ptr<detail::TlsContext> tls;
  if (server.tls) {
    try {
      tls = std::make_unique<detail::TlsContext>(config.tls);
    } catch (const std::exception& e) {
      throw zkop::config::ConfigError(
          config.source, 0, 0, "tls",
          std::string("the CA / client certificate / key does not load: ") + e.what());
    }
  }
  return std::make_shared<BeastTransport>(std::move(server), config.token, std::move(user_agent),
                                          std::move(tls));
}

}  // namespace zkop::kube
