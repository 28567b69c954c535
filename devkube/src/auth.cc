#include "auth.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "tls.h"

namespace zkop::devkube {
namespace {

using Clock = std::chrono::system_clock;

const char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const char kIssuer[] = "https://kubernetes.default.svc.cluster.local";

std::string Base64Url(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kB64Url[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kB64Url[(n >> 18) & 63];
    out += kB64Url[(n >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    for (int s : {18, 12, 6}) out += kB64Url[(n >> s) & 63];
  }
  return out;
}

std::optional<std::string> FromBase64Url(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::find(kB64Url, kB64Url + 64, c);
    if (p == kB64Url + 64) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

int64_t Unix(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Json Strings(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (size_t i = 0; i < v.size(); ++i) out[i] = Json::string(v[i]);
  return out;
}

}  // namespace

bool UserInfo::InGroup(const std::string& group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

Json UserInfo::ToJson() const {
  Json u = Json::object();
  u["username"] = Json::string(name);
  if (!uid.empty()) u["uid"] = Json::string(uid);
  u["groups"] = Strings(groups);
  if (!extra.empty()) {
    Json e = Json::object();
    for (const auto& [k, v] : extra) e[k] = Strings(v);
    u["extra"] = e;
  }
  return u;
}

UserInfo AdminUser() {
  return {"kubernetes-admin", "", {"system:masters", "system:authenticated"}, {}};
}

UserInfo AnonymousUser() { return {"system:anonymous", "", {"system:unauthenticated"}, {}}; }

UserInfo ServiceAccountUser(const std::string& ns, const std::string& name,
                            const std::string& uid) {
  return {"system:serviceaccount:" + ns + ":" + name,
          uid,
          {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
          {}};
}

std::optional<std::pair<std::string, std::string>> SplitServiceAccountName(
    const std::string& username) {
  const std::string prefix = "system:serviceaccount:";
  if (username.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = username.substr(prefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size() ||
      rest.find(':', colon + 1) != std::string::npos)
    return std::nullopt;
  return std::make_pair(rest.substr(0, colon), rest.substr(colon + 1));
}

RequestAttributes ParseRequestAttributes(const HttpRequest& req) {
  RequestAttributes a;
  std::string method = req.method;
  for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  a.path = req.path;
  a.verb = method;
  std::vector<std::string> parts;
  for (size_t i = 0; i < req.path.size();) {
    size_t j = req.path.find('/', i);
    if (j == std::string::npos) j = req.path.size();
    if (j > i) parts.push_back(req.path.substr(i, j - i));
    i = j + 1;
  }
  // /api/<v>/... and /apis/<g>/<v>/... with at least a resource; everything else is a
  // non-resource request (discovery, /version, /healthz, /openapi).
  size_t at;
  if (parts.size() >= 3 && parts[0] == "api") {
    a.api_version = parts[1];
    at = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    a.api_group = parts[1];
    a.api_version = parts[2];
    at = 3;
  } else {
    return a;
  }
  a.resource_request = true;
  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(at), parts.end());
  bool legacy_watch = false;
  if (!rest.empty() && rest[0] == "watch") {  // the deprecated /watch/ paths
    legacy_watch = true;
    rest.erase(rest.begin());
  }
  if (method == "post")
    a.verb = "create";
  else if (method == "get" || method == "head")
    a.verb = "get";
  else if (method == "put")
    a.verb = "update";
  else if (method == "patch")
    a.verb = "patch";
  else if (method == "delete")
    a.verb = "delete";
  if (!rest.empty() && rest[0] == "namespaces" && rest.size() > 1) {
    a.ns = rest[1];
    // namespaces/<ns>/status and /finalize are the namespace's own subresources.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize")
      rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (!rest.empty()) a.resource = rest[0];
  if (rest.size() >= 2) a.name = rest[1];
  if (rest.size() >= 3) a.subresource = rest[2];
  if (a.name.empty()) {
    auto watch = req.query.find("watch");
    bool watching = legacy_watch;
    if (watch != req.query.end()) {
      std::string v = watch->second;
      watching =
          watching || v == "true" || v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "True";
    }
    if (a.verb == "get") a.verb = watching ? "watch" : "list";
    if (a.verb == "delete") a.verb = "deletecollection";
    // A list or watch of one name (fieldSelector=metadata.name=x) is authorized for it.
    auto fs = req.query.find("fieldSelector");
    if ((a.verb == "list" || a.verb == "watch") && fs != req.query.end()) {
      const std::string prefix = "metadata.name=";
      if (fs->second.rfind(prefix, 0) == 0 && fs->second.find(',') == std::string::npos)
        a.name = fs->second.substr(prefix.size());
    }
  } else if (legacy_watch && a.verb == "get") {
    a.verb = "watch";
  }
  return a;
}

TokenAuthority::TokenAuthority()
    : key_(RandomBytes(32)), admin_token_("devkube-admin-" + Base64Url(RandomBytes(24))) {}

IssuedToken TokenAuthority::Issue(const Json& sa, const Json* pod,
                                  std::vector<std::string> audiences,
                                  std::chrono::seconds lifetime) const {
  const auto now = Clock::now();
  const std::string ns = GetString(sa, {"metadata", "namespace"});
  const std::string name = GetString(sa, {"metadata", "name"});
  if (audiences.empty()) audiences.push_back(kIssuer);
  Json claims = Json::object();
  claims["aud"] = Strings(audiences);
  claims["exp"] = Json::number(Unix(now + lifetime));
  claims["iat"] = Json::number(Unix(now));
  claims["iss"] = Json::string(kIssuer);
  claims["jti"] = Json::string(NewUid());
  Json k8s = Json::object();
  k8s["namespace"] = Json::string(ns);
  k8s["serviceaccount"] = Json::object();
  k8s["serviceaccount"]["name"] = Json::string(name);
  k8s["serviceaccount"]["uid"] = Json::string(GetString(sa, {"metadata", "uid"}));
  if (pod) {
    k8s["pod"] = Json::object();
    k8s["pod"]["name"] = Json::string(GetString(*pod, {"metadata", "name"}));
    k8s["pod"]["uid"] = Json::string(GetString(*pod, {"metadata", "uid"}));
    k8s["node"] = Json::object();
    k8s["node"]["name"] = Json::string(GetString(*pod, {"spec", "nodeName"}));
  }
  claims["kubernetes.io"] = k8s;
  claims["nbf"] = Json::number(Unix(now));
  claims["sub"] = Json::string("system:serviceaccount:" + ns + ":" + name);
  const std::string signing_input = Base64Url(R"({"alg":"HS256","kid":"devkube","typ":"JWT"})") +
                                    "." + Base64Url(claims.serialize());
  return {signing_input + "." + Base64Url(HmacSha256(key_, signing_input)), now + lifetime};
}

std::optional<UserInfo> TokenAuthority::Authenticate(const std::string& token,
                                                     const Store& store) const {
  if (token.size() > 16 * 1024) return std::nullopt;
  if (SameSecret(token, admin_token_)) return AdminUser();
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string::npos) return std::nullopt;
  auto sig = FromBase64Url(token.substr(dot2 + 1));
  if (!sig || !SameSecret(*sig, HmacSha256(key_, token.substr(0, dot2)))) return std::nullopt;
  auto payload = FromBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  std::string why;
  auto claims = payload ? ParseJson(*payload, &why) : std::nullopt;
  if (!claims || !claims->is_object()) return std::nullopt;
  const Json* exp = Find(*claims, {"exp"});
  if (!exp || !exp->is_number() || exp->as_number().to_int64() <= Unix(Clock::now()))
    return std::nullopt;
  const std::string ns = GetString(*claims, {"kubernetes.io", "namespace"});
  const std::string name = GetString(*claims, {"kubernetes.io", "serviceaccount", "name"});
  const std::string uid = GetString(*claims, {"kubernetes.io", "serviceaccount", "uid"});
  auto sa = store.Get({"", "v1", "serviceaccounts", ns, name, ""});
  if (!sa.ok() || GetString(sa.value, {"metadata", "uid"}) != uid) return std::nullopt;
  UserInfo user = ServiceAccountUser(ns, name, uid);
  user.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + GetString(*claims, {"jti"})};
  if (const Json* pod = Find(*claims, {"kubernetes.io", "pod"})) {
    const std::string pod_name = GetString(*pod, {"name"});
    auto live = store.Get({"", "v1", "pods", ns, pod_name, ""});
    if (!live.ok() || GetString(live.value, {"metadata", "uid"}) != GetString(*pod, {"uid"}))
      return std::nullopt;
    user.extra["authentication.kubernetes.io/pod-name"] = {pod_name};
    user.extra["authentication.kubernetes.io/pod-uid"] = {GetString(*pod, {"uid"})};
  }
  return user;
}

}  // namespace zkop::devkube
