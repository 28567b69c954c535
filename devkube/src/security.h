// The emulator's front door, run before a request reaches the REST handlers — what
// kube-apiserver's filter chain does: authentication (bearer token), impersonation
// (Impersonate-User / -Group / -Uid / -Extra-*, itself authorized with the "impersonate" verb),
// authorization (rbac.h), and the endpoints that have no stored objects: TokenRequest
// (serviceaccounts/<sa>/token), SelfSubjectAccessReview, SubjectAccessReview,
// LocalSubjectAccessReview, SelfSubjectReview and TokenReview.
//
// Modes: `enforce` (HTTPS) — a missing token is system:anonymous, an unknown one 401
// Unauthorized, every request is authorized. Not enforcing (plain HTTP, the old insecure
// port) — a valid ServiceAccount token still authenticates and is authorized as above, any
// other request acts as the admin.
//
// Contract: Intercept() is called concurrently from connection threads; it answers (and
// returns true) for rejected requests and the endpoints above, and returns false to let the
// request through. `seen` (optional) gets the request's attributes with the authenticated user
// before anything is answered (for the audit log). Nothing throws; tokens are never logged.
#pragma once

#include <optional>
#include <string>

#include "auth.h"
#include "http_server.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

class Security {
 public:
  Security(Store& store, bool enforce) : store_(store), enforce_(enforce) {}

  bool Intercept(Exchange& ex, RequestAttributes* seen = nullptr);
  const TokenAuthority& tokens() const { return tokens_; }

 private:
  // The requester after authentication and impersonation; nullopt when answered already.
  std::optional<UserInfo> Identify(Exchange& ex);
  bool HandleVirtual(Exchange& ex, const RequestAttributes& a);
  void TokenRequest(Exchange& ex, const RequestAttributes& a, const Json& body);
  void AccessReview(Exchange& ex, const RequestAttributes& a, const Json& body);

  Store& store_;
  const bool enforce_;
  TokenAuthority tokens_;
};

}  // namespace zkop::devkube
