#include "connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>

#include <boost/asio/error.hpp>

#include "zkop/config/yaml_reader.h"

namespace zkop::kube::detail {

namespace {

using Clock = std::chrono::steady_clock;

// The reason of the first queued OpenSSL error ("certificate verify failed"), clearing the queue.
std::string OpenSslReason() {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "";
  const char* reason = ERR_reason_error_string(first);
  return reason ? reason : "error " + std::to_string(first);
}

bool IsIpLiteral(const std::string& host) {
  in6_addr scratch;
  return inet_pton(AF_INET, host.c_str(), &scratch) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &scratch) == 1;
}

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the server has gone; a
// library must not kill its program for that, nor change the process's signal disposition.
// While a guard lives, SIGPIPE is blocked on this thread, and one it caused is discarded.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

void LoadClientCertificate(SSL_CTX* ctx, const TlsConfig& tls) {
  if (tls.client_key_pem.empty()) throw std::runtime_error("a client certificate without a key");
  BIO* certs =
      BIO_new_mem_buf(tls.client_cert_pem.data(), static_cast<int>(tls.client_cert_pem.size()));
  X509* leaf = PEM_read_bio_X509_AUX(certs, nullptr, nullptr, nullptr);
  bool ok = leaf != nullptr && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  while (ok) {  // the rest of the chain, if any
    X509* issuer = PEM_read_bio_X509(certs, nullptr, nullptr, nullptr);
    if (issuer == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx, issuer) != 1) {
      X509_free(issuer);
      ok = false;
    }
  }
  BIO_free(certs);
  ERR_clear_error();  // the PEM end-of-input "error" that ends the loop
  if (!ok) throw std::runtime_error("the client certificate is not a PEM certificate");
  BIO* key_bio =
      BIO_new_mem_buf(tls.client_key_pem.data(), static_cast<int>(tls.client_key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  ok = key != nullptr && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("the client key is not a PEM private key: " + OpenSslReason());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw std::runtime_error("the client key does not match the client certificate");
  }
}

void LoadTrustedCas(SSL_CTX* ctx, const std::string& ca_pem) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) throw std::runtime_error("out of memory for the CA store");
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    const int ok = X509_STORE_add_cert(store, cert);
    X509_free(cert);
    if (ok != 1) break;
    ++added;
  }
  BIO_free(bio);
  ERR_clear_error();
  if (added == 0) {
    X509_STORE_free(store);
    throw std::runtime_error("no PEM certificate in the certificate authority data");
  }
  SSL_CTX_set_cert_store(ctx, store);  // the context owns it now
}

std::string ErrnoText(int e) { return std::strerror(e); }

// A connected TCP socket (still non-blocking) to one of `server`'s addresses within `timeout`,
// or -1 with *failure and *message set. Waits in slices, so that a stop requested meanwhile
// ends the wait.
int ConnectTcp(const ServerAddress& server, std::chrono::milliseconds timeout,
               const std::stop_token& cancel, TransportFailure* failure, std::string* message) {
  auto fail = [&](TransportFailure f, std::string m) {
    *failure = f;
    *message = std::move(m);
    return -1;
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(server.host.c_str(), server.port.c_str(), &hints, &found); rc != 0) {
    return fail(TransportFailure::kConnection,
                "cannot resolve " + server.host + ": " + gai_strerror(rc));
  }
  const auto deadline = Clock::now() + timeout;
  std::string last_error = "no address";
  bool timed_out = false;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int s =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (s < 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    int err = ::connect(s, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    while (err == EINPROGRESS) {
      if (cancel.stop_requested()) {
        ::close(s);
        freeaddrinfo(found);
        return fail(TransportFailure::kCancelled, "request cancelled");
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        err = ETIMEDOUT;
        break;
      }
      pollfd p{s, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 50))) > 0) {
        socklen_t len = sizeof(err);
        getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err == 0) {
      freeaddrinfo(found);
      return s;
    }
    last_error = ErrnoText(err);
    ::close(s);
  }
  freeaddrinfo(found);
  return fail(timed_out ? TransportFailure::kTimeout : TransportFailure::kConnection,
              "connect to " + server.host + ":" + server.port + ": " + last_error);
}

}  // namespace

ServerAddress ServerAddress::Parse(const std::string& url, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return zkop::config::ConfigError(
        source, 0, 0, "server",
        what + ", found \"" + url + "\" (expected https://host[:port][/path] or http://...)");
  };
  ServerAddress a;
  std::string rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    a.tls = false;
    rest = url.substr(7);
  } else {
    throw bad("expected a URL starting with https:// or http://");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) a.path_prefix = rest.substr(slash);
  while (a.path_prefix.ends_with('/')) a.path_prefix.pop_back();
  std::string port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string::npos) throw bad("an IPv6 address without its closing ']'");
    a.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw bad("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    a.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (a.host.empty()) throw bad("no host");
  const std::string default_port = a.tls ? "443" : "80";
  if (port.empty()) port = default_port;
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
      std::stoi(port) == 0 || std::stoi(port) > 65535) {
    throw bad("the port is not a number from 1 to 65535");
  }
  a.port = port;
  const bool v6 = a.host.find(':') != std::string::npos;
  a.host_header = (v6 ? "[" + a.host + "]" : a.host) + (port == default_port ? "" : ":" + port);
  return a;
}

TlsContext::TlsContext(const TlsConfig& tls)
    : ctx_(SSL_CTX_new(TLS_client_method())), verify_(!tls.insecure_skip_verify) {
  if (ctx_ == nullptr) throw std::runtime_error("cannot create a TLS context: " + OpenSslReason());
  try {
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    // An idle connection gives its record buffers back (~34 KiB each).
    SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_verify(ctx_, verify_ ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    if (!tls.ca_pem.empty()) {
      LoadTrustedCas(ctx_, tls.ca_pem);
    } else if (verify_ && SSL_CTX_set_default_verify_paths(ctx_) != 1) {
      throw std::runtime_error("cannot load the system's certificate authorities: " +
                               OpenSslReason());
    }
    if (!tls.client_cert_pem.empty()) LoadClientCertificate(ctx_, tls);
  } catch (...) {
    SSL_CTX_free(ctx_);
    throw;
  }
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<Connection> Connection::Open(const ServerAddress& server, const TlsContext* tls,
                                             std::chrono::milliseconds timeout,
                                             const std::stop_token& cancel,
                                             TransportFailure* failure, std::string* message) {
  const std::string where = server.host + ":" + server.port;
  auto fail = [&](TransportFailure f, std::string m) -> std::unique_ptr<Connection> {
    *failure = f;
    *message = std::move(m);
    return nullptr;
  };
  const int fd = ConnectTcp(server, timeout, cancel, failure, message);
  if (fd < 0) return nullptr;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  std::unique_ptr<Connection> c(new Connection(fd, nullptr));
  c->SetTimeout(timeout);
  if (tls == nullptr) return c;

  c->ssl_ = SSL_new(tls->get());
  if (c->ssl_ == nullptr) return fail(TransportFailure::kConnection, "TLS: " + OpenSslReason());
  SSL_set_fd(c->ssl_, fd);
  const bool ip = IsIpLiteral(server.host);
  if (!ip) SSL_set_tlsext_host_name(c->ssl_, server.host.c_str());
  if (tls->verify()) {
    // The server's certificate must name the host the URL names (as client-go checks).
    const int named =
        ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl_), server.host.c_str())
           : SSL_set1_host(c->ssl_, server.host.c_str());
    if (named != 1) return fail(TransportFailure::kConnection, "TLS: " + OpenSslReason());
  }
  std::stop_callback on_stop(cancel, [conn = c.get()] { conn->Interrupt(); });
  int rc;
  int saved;  // errno right after the call
  do {
    SigpipeGuard guard;
    ERR_clear_error();
    errno = 0;
    rc = SSL_connect(c->ssl_);
    saved = errno;
  } while (rc != 1 && c->Interrupted(rc, saved));
  if (rc != 1) {
    const long verify = SSL_get_verify_result(c->ssl_);
    c->Fail(rc, saved, ("TLS handshake with " + where).c_str());
    std::string m = c->failure_message_;
    if (verify != X509_V_OK && c->failure_ == TransportFailure::kConnection) {
      m += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
    return fail(c->failure_, m);
  }
  return c;
}

Connection::~Connection() {
  if (ssl_ != nullptr) {
    if (failure_ == TransportFailure::kNone && !interrupted_) {
      SigpipeGuard guard;
      SSL_shutdown(ssl_);  // our close_notify only: no wait for the server's
    }
    SSL_free(ssl_);
  }
  ::close(fd_);
}

void Connection::SetTimeout(std::chrono::milliseconds timeout) {
  const int64_t ms = std::max<int64_t>(timeout.count(), 1);
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void Connection::Interrupt() {
  interrupted_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

size_t Connection::Read(void* data, size_t size, boost::system::error_code& ec) {
  ec = {};
  if (interrupted_) {
    ec = Fail(0, 0, "read");
    return 0;
  }
  const int want = static_cast<int>(std::min<size_t>(size, INT_MAX));
  while (true) {
    int n;
    int err;  // errno right after the call, before the guard's own calls
    if (ssl_ != nullptr) {
      SigpipeGuard guard;  // reading may answer a key update
      ERR_clear_error();
      errno = 0;
      n = SSL_read(ssl_, data, want);
      err = errno;
    } else {
      n = static_cast<int>(::recv(fd_, data, static_cast<size_t>(want), 0));
      err = errno;
    }
    if (n > 0) {
      bytes_read_ += static_cast<size_t>(n);
      return static_cast<size_t>(n);
    }
    if (Interrupted(n, err)) continue;
    ec = Fail(n, err, "read");
    return 0;
  }
}

size_t Connection::Write(const void* data, size_t size, boost::system::error_code& ec) {
  ec = {};
  const char* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    if (interrupted_) {
      ec = Fail(0, 0, "write");
      return done;
    }
    const int chunk = static_cast<int>(std::min<size_t>(size - done, INT_MAX));
    int n;
    int err;
    if (ssl_ != nullptr) {
      SigpipeGuard guard;
      ERR_clear_error();
      errno = 0;
      n = SSL_write(ssl_, p + done, chunk);
      err = errno;
    } else {
      n = static_cast<int>(::send(fd_, p + done, static_cast<size_t>(chunk), MSG_NOSIGNAL));
      err = errno;
    }
    if (n <= 0) {
      if (Interrupted(n, err)) continue;
      ec = Fail(n, err, "write");
      return done;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

bool Connection::Interrupted(int result, int saved_errno) const {
  // A signal handler ran during the socket call. OpenSSL reports that as "try again", as it
  // does a timeout; errno tells them apart. (Interrupt() is no signal: it shuts the socket
  // down, and the call fails for good.)
  if (saved_errno != EINTR || interrupted_) return false;
  if (ssl_ == nullptr) return result < 0;
  const int e = SSL_get_error(ssl_, result);
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_SYSCALL;
}

bool Connection::Idle() const {
  if (failure_ != TransportFailure::kNone || interrupted_) return false;
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return false;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;  // readable would mean closed, or bytes nobody asked for
}

boost::system::error_code Connection::Fail(int result, int saved_errno, const char* what) {
  namespace error = boost::asio::error;
  auto record = [&](TransportFailure f, std::string m, boost::system::error_code code) {
    failure_ = f;
    failure_message_ = std::move(m);
    return code;
  };
  if (interrupted_) {
    return record(TransportFailure::kCancelled, "request cancelled", error::operation_aborted);
  }
  const std::string verb = what;
  auto timed_out = [&] {
    return record(TransportFailure::kTimeout, verb + ": no progress within the request's timeout",
                  error::timed_out);
  };
  auto closed = [&] {
    return record(TransportFailure::kConnection, verb + ": the server closed the connection",
                  error::eof);
  };
  if (ssl_ == nullptr) {
    if (result == 0) return closed();
    if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) return timed_out();
    return record(TransportFailure::kConnection, verb + ": " + ErrnoText(saved_errno),
                  error::connection_reset);
  }
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_ZERO_RETURN:
      return closed();
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return timed_out();  // a blocking socket only says so when SO_RCVTIMEO / SO_SNDTIMEO ran out
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) return timed_out();
      if (saved_errno == 0) return closed();
      return record(TransportFailure::kConnection, verb + ": " + ErrnoText(saved_errno),
                    error::connection_reset);
    case SSL_ERROR_SSL: {
      const unsigned long code = ERR_peek_error();
      if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return closed();
      }
      return record(TransportFailure::kConnection, verb + ": TLS: " + OpenSslReason(),
                    error::connection_reset);
    }
    default:
      ERR_clear_error();
      return record(TransportFailure::kConnection, verb + ": TLS failed", error::connection_reset);
  }
}

}  // namespace zkop::kube::detail
