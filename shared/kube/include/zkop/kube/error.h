// Errors of Kubernetes API calls, decoded from the API's `Status` object, and
// `Result<T>`, the value-or-error every client call returns.
//
// Contract: client calls never throw; a failed call returns an Error whose
// kind() a caller branches on. Exceptions are reserved for configuration
// errors (see config.h).
#pragma once

#include <cpprest/json.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace zkop::kube {

enum class ErrorKind {
  kBadRequest,        // 400 (not Invalid)
  kUnauthorized,      // 401: no or bad credentials
  kForbidden,         // 403: RBAC denied
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
  kAlreadyExists,     // 409, reason AlreadyExists
  kConflict,          // 409: stale resourceVersion or failed precondition
  kGone,              // 410: the requested resourceVersion is too old (watch/list)
  kInvalid,           // 422: see causes()
  kTooManyRequests,   // 429: see retry_after()
  kServerError,       // 5xx other than 504
  kTimeout,           // 504 / reason Timeout, or the request timed out on the client
  kConnection,        // no HTTP answer: refused, reset, DNS, TLS handshake
  kDecode,            // the answer was not the JSON it should have been
  kCancelled,         // the caller stopped the call
  kOther,             // any other HTTP status
};

std::string_view ErrorKindName(ErrorKind kind);

// One entry of Status.details.causes (Invalid errors name their fields here).
struct Cause {
  std::string reason;   // "FieldValueRequired", ...
  std::string message;  // "Required value"
  std::string field;    // "spec.replicas"
};

class Error {
 public:
  Error(ErrorKind kind, int http_status, std::string message)
      : kind_(kind), http_status_(http_status), message_(std::move(message)) {}

  // Decodes an HTTP error answer: a `Status` body when there is one, else the
  // status code alone. `retry_after` is the Retry-After header, if any.
  static Error FromResponse(int http_status, const std::string& body,
                            std::optional<std::chrono::seconds> retry_after);
  // Decodes a `Status` object (as carried by a watch ERROR event).
  static Error FromStatus(const web::json::value& status);

  ErrorKind kind() const { return kind_; }
  int http_status() const { return http_status_; }       // 0 when there was no HTTP answer
  const std::string& reason() const { return reason_; }  // Status.reason, e.g. "NotFound"
  const std::string& message() const { return message_; }
  const std::vector<Cause>& causes() const { return causes_; }
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

  bool Is(ErrorKind k) const { return kind_ == k; }
  // "NotFound (404): configmaps \"x\" not found [spec.a: Required value]".
  std::string ToString() const;

 private:
  ErrorKind kind_;
  int http_status_;
  std::string reason_;
  std::string message_;
  std::vector<Cause> causes_;
  std::optional<std::chrono::seconds> retry_after_;
};

// A value or an Error. Accessing the wrong side is a programming error (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  bool Is(ErrorKind k) const { return !ok() && error().kind() == k; }

 private:
  std::variant<T, Error> v_;
};

using Json = web::json::value;

}  // namespace zkop::kube
