// One connection to the API server: a TCP socket, with TLS over it when the server URL says
// https, read and written with blocking calls by the one thread that holds it. Private to
// the HTTP transport (http_transport.cc).
//
// Why blocking sockets and not an event loop: every caller of the transport already blocks on
// its answer (a worker waiting for a write, an informer reading its watch), so a thread per
// exchange is what the operator has anyway; and a TLS socket read directly (SSL_set_fd) costs
// ~10 KiB when idle, against ~100 KiB for one behind Boost.Asio's SSL stream (its own record
// buffers and a BIO pair, on top of OpenSSL's own) — the connections were the operator's
// second largest use of memory after its caches.
//
// Contract: a Connection is used by one thread at a time, except Interrupt(), which any thread
// may call while another reads or writes. Reads and writes fail after `timeout` without
// progress. Failures are reported as the error codes Beast's algorithms expect (eof at the end
// of the stream), with what went wrong kept in failure() / failure_message().
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include "zkop/kube/config.h"
#include "zkop/kube/transport.h"

namespace zkop::kube::detail {

// Where the API server is, from ClientConfig::server: "https://host:port/prefix".
struct ServerAddress {
  bool tls = true;
  std::string host;         // without the brackets of an IPv6 literal
  std::string port;         // "443" / "80" when the URL has none
  std::string host_header;  // what the Host header says
  std::string path_prefix;  // "" or "/prefix" (no trailing slash)

  // Throws zkop::config::ConfigError (naming `source`) for a URL that is not http(s).
  static ServerAddress Parse(const std::string& url, const std::string& source);
};

// The TLS settings every connection shares: one SSL_CTX, built once from the kubeconfig's
// CA (which then replaces the system's trust store, as in client-go), client certificate and
// key, and insecure-skip-verify.
class TlsContext {
 public:
  // Throws std::runtime_error naming what did not load.
  explicit TlsContext(const TlsConfig& tls);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  bool verify() const { return verify_; }

 private:
  SSL_CTX* ctx_;
  bool verify_;
};

class Connection {
 public:
  // Connects (and shakes hands, when `tls` is not null) within `timeout`. On failure returns
  // null with *failure and *message set; a stop requested through `cancel` while connecting
  // ends it as kCancelled.
  static std::unique_ptr<Connection> Open(const ServerAddress& server, const TlsContext* tls,
                                          std::chrono::milliseconds timeout,
                                          const std::stop_token& cancel, TransportFailure* failure,
                                          std::string* message);
  ~Connection();  // sends TLS close_notify (best effort) and closes the socket
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The inactivity limit of each following read or write.
  void SetTimeout(std::chrono::milliseconds timeout);
  // Makes a blocked or later read or write fail as cancelled; callable from any thread.
  void Interrupt();

  // Reads at least one byte (blocking); 0 with ec set on failure (eof: the peer closed).
  size_t Read(void* data, size_t size, boost::system::error_code& ec);
  // Writes all of `data` or fails.
  size_t Write(const void* data, size_t size, boost::system::error_code& ec);

  // For a pooled connection: false when the server has closed it (or sent something unasked).
  bool Idle() const;
  // Bytes received so far: a reused connection that failed before its answer's first byte
  // was closed by the server while pooled, and the request may be sent again.
  size_t bytes_read() const { return bytes_read_; }

  TransportFailure failure() const { return failure_; }
  const std::string& failure_message() const { return failure_message_; }

 private:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  // True when a read or write returned only because a signal interrupted it (call it again).
  bool Interrupted(int ssl_result, int saved_errno) const;
  // Records the failure of a read or write; returns the error code to hand to Beast.
  boost::system::error_code Fail(int ssl_result, int saved_errno, const char* what);

  int fd_;
  SSL* ssl_;
  std::atomic<bool> interrupted_{false};
  size_t bytes_read_ = 0;
  TransportFailure failure_ = TransportFailure::kNone;
  std::string failure_message_;
};

// Beast's SyncReadStream / SyncWriteStream over a Connection.
class ConnectionStream {
 public:
  explicit ConnectionStream(Connection& c) : c_(c) {}

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size() > 0) return c_.Read(b.data(), b.size(), ec);
    }
    ec = {};
    return 0;
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    return OrThrow([&](boost::system::error_code& ec) { return read_some(buffers, ec); });
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    size_t total = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer b(*it);
      total += c_.Write(b.data(), b.size(), ec);
      if (ec) break;
    }
    return total;
  }
  template <class ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    return OrThrow([&](boost::system::error_code& ec) { return write_some(buffers, ec); });
  }

 private:
  template <class Op>
  static size_t OrThrow(Op op) {
    boost::system::error_code ec;
    const size_t n = op(ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  Connection& c_;
};

}  // namespace zkop::kube::detail
