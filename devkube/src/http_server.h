// A small blocking HTTP/1.1 server (Boost.Beast): one thread per connection, keep-alive, and
// chunked streaming for watches.
//
// Contract:
//  - The constructor binds and starts accepting; it throws std::runtime_error naming the
//    address when binding fails. Nothing else throws.
//  - With a TlsIdentity it serves HTTPS only (TLS 1.2+; no client certificates are asked for).
//  - The handler runs on the connection's thread; several handlers run concurrently.
//  - The destructor stops accepting, shuts every connection down (streaming handlers see
//    Stopping() or a failed write), and joins all threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace zkop::devkube {

struct HttpRequest {
  std::string method;                        // "GET", "PATCH", ...
  std::string path;                          // decoded, without the query
  std::map<std::string, std::string> query;  // decoded
  std::string body;
  std::string content_type;
  std::string accept;
  // Every request header as (lower-case name, value), in order (bounded by the header limit).
  std::vector<std::pair<std::string, std::string>> headers;
  // The values of header `lower_name` ("authorization", "impersonate-group", ...).
  std::vector<std::string> HeaderValues(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request and its response, on its connection's thread.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const HttpRequest& request() const = 0;
  virtual void Respond(const HttpResponse& response) = 0;
  // Starts a chunked response; the connection closes after the stream ends. Writes return
  // false once the client is gone.
  virtual bool BeginStream(int status, const std::string& content_type) = 0;
  virtual bool WriteChunk(const std::string& data) = 0;
  // True when the peer has closed its side (checked without blocking).
  virtual bool ClientClosed() = 0;
  virtual bool Stopping() const = 0;
};

using HttpHandler = std::function<void(Exchange&)>;

// The server's certificate chain and key (PEM) for HTTPS.
struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;
};

class HttpServer {
 public:
  // `tls` null: plain HTTP. Throws std::runtime_error when the identity is unusable.
  HttpServer(const std::string& listen, HttpHandler handler,
             const TlsIdentity* tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void AcceptLoop();
  void Serve(Connection* conn);
  template <typename Stream>
  void ServeStream(Stream& stream);
  void MarkDone(Connection* conn);
  void ReapFinished();

  HttpHandler handler_;
  std::shared_ptr<void> tls_context_;  // boost::asio::ssl::context when serving HTTPS
  std::string host_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace zkop::devkube
