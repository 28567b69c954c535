// The HTTP transport under the client, behind an interface so tests can inject
// faults (refused connections, 429/5xx answers, a blocked network) the way
// leveldb's Env lets tests fail file operations.
//
// Contract: implementations never throw; failures without an HTTP answer are
// reported in HttpResponse::failure. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stop_token>
#include <string>

#include "zkop/kube/config.h"

namespace zkop::kube {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string target;  // path + query, already encoded: "/api/v1/pods?limit=5"
  std::string content_type;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // no progress for this long = failure
  std::stop_token cancel;                    // requesting stop aborts the call
};

enum class TransportFailure { kNone, kConnection, kTimeout, kCancelled };

struct HttpResponse {
  int status = 0;                              // 0 when there was no HTTP answer (see failure)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  TransportFailure failure = TransportFailure::kNone;
  std::string failure_message;  // what went wrong (from the OS / TLS library)
};

// The body of a streamed answer (a watch), read one line at a time as it arrives.
class LineStream {
 public:
  virtual ~LineStream() = default;
  // Blocks until a whole line arrives. Returns false at the end of the stream,
  // setting *error to "" on a clean end and to what failed otherwise
  // (including cancellation through the request's stop token).
  virtual bool ReadLine(std::string* line, std::string* error) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // A complete request/response exchange.
  virtual HttpResponse Send(const HttpRequest& request) = 0;
  // Starts a streamed exchange. On a 2xx answer *stream receives the body
  // reader and the returned response has an empty body; otherwise *stream is
  // left null and the response carries the whole (error) body.
  virtual HttpResponse Open(const HttpRequest& request, std::unique_ptr<LineStream>* stream) = 0;
};

// The real transport: HTTP/1.1 (Boost.Beast's parser) over blocking sockets with OpenSSL, a
// pool of at most a few idle connections, one TLS context for all of them:
// server URL, CA, client certificate and key, bearer token (re-read from its
// source for every request) from `config`.
// Throws zkop::config::ConfigError when the TLS material does not load.
std::shared_ptr<Transport> NewHttpTransport(const ClientConfig& config,
                                            std::string user_agent = "zkop");

}  // namespace zkop::kube
