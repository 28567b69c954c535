// Who is asking and what for: the emulator's authentication (bearer tokens) and the request
// attributes its authorizer judges, as kube-apiserver computes them.
//
//  - Users: the admin (the kubeconfig's token; groups system:masters, system:authenticated),
//    ServiceAccounts (signed tokens from TokenRequest: user
//    system:serviceaccount:<ns>:<sa>, groups system:serviceaccounts,
//    system:serviceaccounts:<ns>, system:authenticated) and, without a token,
//    system:anonymous (group system:unauthenticated).
//  - ServiceAccount tokens are JWTs (HS256 under a key made at start; the real server signs
//    RS256) carrying the real claims (iss, sub, aud, exp, iat, nbf, kubernetes.io.{namespace,
//    serviceaccount, pod}). A token is valid while it is unexpired and its ServiceAccount
//    (and bound Pod) still exist with the uid it names.
//  - RequestAttributes follow k8s.io/apiserver's RequestInfoFactory: verb from the method
//    (get/list/watch/create/update/patch/delete/deletecollection), namespace, resource,
//    subresource, name; other paths are non-resource requests (verb = lower-case method).
//
// Contract: thread-safe; nothing throws (except TokenAuthority's constructor when the
// system CSPRNG fails). Tokens are never logged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http_server.h"
#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool InGroup(const std::string& group) const;
  Json ToJson() const;  // authentication.k8s.io/v1 UserInfo
};

UserInfo AdminUser();
UserInfo AnonymousUser();
// The user a ServiceAccount's tokens authenticate as.
UserInfo ServiceAccountUser(const std::string& ns, const std::string& name, const std::string& uid);
// "system:serviceaccount:ns:sa" -> {ns, sa}; nullopt for other names.
std::optional<std::pair<std::string, std::string>> SplitServiceAccountName(
    const std::string& username);

struct RequestAttributes {
  UserInfo user;
  std::string verb;
  bool resource_request = false;
  std::string path;  // non-resource requests
  std::string api_group, api_version, ns, resource, subresource, name;
};

// The attributes of `req` (user left empty).
RequestAttributes ParseRequestAttributes(const HttpRequest& req);

struct IssuedToken {
  std::string token;
  std::chrono::system_clock::time_point expires;
};

class TokenAuthority {
 public:
  TokenAuthority();  // makes the signing key and the admin token
  const std::string& admin_token() const { return admin_token_; }

  // A token for ServiceAccount `sa` (its object), optionally bound to a Pod (its object).
  IssuedToken Issue(const Json& service_account, const Json* pod,
                    std::vector<std::string> audiences, std::chrono::seconds lifetime) const;
  // The user behind `token`, checking signature, expiry and the bound objects in `store`;
  // nullopt when it is not valid.
  std::optional<UserInfo> Authenticate(const std::string& token, const Store& store) const;

 private:
  std::string key_;
  std::string admin_token_;
};

}  // namespace zkop::devkube
