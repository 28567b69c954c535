// A small blocking HTTP/1.1 server (Boost.Beast): one thread per connection, keep-alive, and
// chunked streaming for watches.
//
// Contract:
//  - The constructor binds and starts accepting; it throws std::runtime_error naming the
//    address when binding fails. Nothing else throws.
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

class HttpServer {
 public:
  HttpServer(const std::string& listen, HttpHandler handler);
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
  void ReapFinished();

  HttpHandler handler_;
  std::string host_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace zkop::devkube
