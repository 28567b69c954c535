#include "security.h"

#include <algorithm>

#include "rbac.h"
#include "review_protobuf.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

const log::Logger kLog("devkube.auth");
constexpr size_t kMaxReviewBody = 64 * 1024;

void Reply(Exchange& ex, int code, const Json& body) {
  ex.Respond({code, "application/json", body.serialize(), {}});
}

void ReplyStatus(Exchange& ex, const ApiStatus& s) { Reply(ex, s.code, s.ToJson()); }

ApiStatus Unauthorized() { return ApiStatus::Error(401, "Unauthorized", "Unauthorized"); }

ApiStatus MethodNotAllowed() {
  return ApiStatus::Error(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource");
}

std::string BearerToken(const HttpRequest& req, bool* present) {
  auto values = req.HeaderValues("authorization");
  *present = !values.empty();
  if (values.empty()) return "";
  const std::string& v = values.front();
  if (v.size() > 7 && (v.rfind("Bearer ", 0) == 0 || v.rfind("bearer ", 0) == 0)) {
    std::string t = v.substr(7);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
    return t;
  }
  return "";
}

std::vector<std::string> StringList(const Json* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const Json& s : v->as_array())
      if (s.is_string()) out.push_back(s.as_string());
  return out;
}

}  // namespace

std::optional<UserInfo> Security::Identify(Exchange& ex) {
  const HttpRequest& req = ex.request();
  bool has_auth = false;
  std::string token = BearerToken(req, &has_auth);
  std::optional<UserInfo> user;
  if (!token.empty()) user = tokens_.Authenticate(token, store_);
  if (!user && !enforce_) user = AdminUser();
  if (!user) {
    if (has_auth) {
      kLog.Debug("rejected credentials", {{"path", req.path}});
      ReplyStatus(ex, Unauthorized());
      return std::nullopt;
    }
    user = AnonymousUser();
  }
  // Impersonation (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go).
  auto imp_users = req.HeaderValues("impersonate-user");
  auto imp_groups = req.HeaderValues("impersonate-group");
  auto imp_uids = req.HeaderValues("impersonate-uid");
  std::map<std::string, std::vector<std::string>> imp_extra;
  for (const auto& [k, v] : req.headers)
    if (k.rfind("impersonate-extra-", 0) == 0) imp_extra[k.substr(18)].push_back(v);
  if (imp_users.empty() && imp_groups.empty() && imp_uids.empty() && imp_extra.empty()) return user;
  if (imp_users.size() != 1) {
    ReplyStatus(ex,
                ApiStatus::Error(500, "InternalError",
                                 "Internal error occurred: requested " +
                                     std::string(imp_users.empty() ? "groups or extra" : "users") +
                                     " without impersonating a single user"));
    return std::nullopt;
  }
  UserInfo target;
  target.name = imp_users.front();
  auto check = [&](RequestAttributes a) {
    a.user = *user;
    a.verb = "impersonate";
    a.resource_request = true;
    if (Authorize(store_, a).allowed) return true;
    ReplyStatus(ex, ForbiddenStatus(a));
    return false;
  };
  RequestAttributes a;
  if (auto sa = SplitServiceAccountName(target.name)) {
    a.resource = "serviceaccounts";
    a.ns = sa->first;
    a.name = sa->second;
    if (imp_groups.empty())
      target.groups = {"system:serviceaccounts", "system:serviceaccounts:" + sa->first};
  } else {
    a.resource = "users";
    a.name = target.name;
  }
  if (!check(a)) return std::nullopt;
  for (const auto& g : imp_groups) {
    RequestAttributes ga;
    ga.resource = "groups";
    ga.name = g;
    if (!check(ga)) return std::nullopt;
    target.groups.push_back(g);
  }
  for (const auto& u : imp_uids) {
    RequestAttributes ua;
    ua.api_group = "authentication.k8s.io";
    ua.resource = "uids";
    ua.name = u;
    if (!check(ua)) return std::nullopt;
    target.uid = u;
  }
  for (const auto& [k, values] : imp_extra) {
    for (const auto& v : values) {
      RequestAttributes ea;
      ea.api_group = "authentication.k8s.io";
      ea.resource = "userextras";
      ea.subresource = k;
      ea.name = v;
      if (!check(ea)) return std::nullopt;
    }
    target.extra[k] = values;
  }
  if (target.name != "system:anonymous" && !target.InGroup("system:authenticated"))
    target.groups.push_back("system:authenticated");
  return target;
}

bool Security::Intercept(Exchange& ex, RequestAttributes* seen) {
  std::optional<UserInfo> user = Identify(ex);
  if (!user) return true;
  RequestAttributes a = ParseRequestAttributes(ex.request());
  a.user = *user;
  if (seen) *seen = a;
  Decision d = Authorize(store_, a);
  if (!d.allowed) {
    kLog.Debug("forbidden", {{"user", a.user.name}, {"verb", a.verb}, {"path", a.path}});
    ReplyStatus(ex, ForbiddenStatus(a));
    return true;
  }
  return HandleVirtual(ex, a);
}

bool Security::HandleVirtual(Exchange& ex, const RequestAttributes& a) {
  if (!a.resource_request) return false;
  const bool token = a.api_group.empty() && a.api_version == "v1" &&
                     a.resource == "serviceaccounts" && a.subresource == "token";
  const bool authz =
      a.api_group == "authorization.k8s.io" && a.api_version == "v1" &&
      (a.resource == "selfsubjectaccessreviews" || a.resource == "subjectaccessreviews" ||
       a.resource == "localsubjectaccessreviews");
  const bool authn = a.api_group == "authentication.k8s.io" && a.api_version == "v1" &&
                     (a.resource == "selfsubjectreviews" || a.resource == "tokenreviews");
  if (!token && !authz && !authn) return false;
  if (a.verb != "create" || (!token && !a.name.empty())) {
    ReplyStatus(ex, MethodNotAllowed());
    return true;
  }
  const HttpRequest& req = ex.request();
  std::string why = "the request body is larger than 64 KiB";
  std::optional<Json> body;
  const bool protobuf =
      req.content_type.rfind("application/vnd.kubernetes.protobuf", 0) == 0;  // kubectl's choice
  if (req.body.size() <= kMaxReviewBody)
    body = protobuf ? DecodeReviewProtobuf(req.body, &why) : ParseJson(req.body, &why);
  if (!body || !body->is_object()) {
    ReplyStatus(ex, ApiStatus::BadRequest("the body of the request could not be decoded as JSON: " +
                                          (body ? std::string("expected an object") : why)));
    return true;
  }
  if (token) {
    TokenRequest(ex, a, *body);
  } else if (authz) {
    AccessReview(ex, a, *body);
  } else if (a.resource == "selfsubjectreviews") {
    Json out = Json::object();
    out["apiVersion"] = Json::string("authentication.k8s.io/v1");
    out["kind"] = Json::string("SelfSubjectReview");
    out["metadata"] = Json::object();
    out["metadata"]["creationTimestamp"] =
        Json::string(FormatTime(std::chrono::system_clock::now()));
    out["status"] = Json::object();
    out["status"]["userInfo"] = a.user.ToJson();
    Reply(ex, 201, out);
  } else {  // tokenreviews
    Json out = *body;
    out["status"] = Json::object();
    auto who = tokens_.Authenticate(GetString(*body, {"spec", "token"}), store_);
    out["status"]["authenticated"] = Json::boolean(who.has_value());
    if (who) {
      out["status"]["user"] = who->ToJson();
      out["status"]["audiences"] =
          Json::array({Json::string("https://kubernetes.default.svc.cluster.local")});
    }
    Reply(ex, 201, out);
  }
  return true;
}

void Security::TokenRequest(Exchange& ex, const RequestAttributes& a, const Json& body) {
  ResourceType tr_type;
  tr_type.group = "authentication.k8s.io";
  tr_type.kind = "TokenRequest";
  auto sa = store_.Get({"", "v1", "serviceaccounts", a.ns, a.name, ""});
  if (!sa.ok()) return ReplyStatus(ex, sa.status);
  int64_t seconds = 3600;
  if (const Json* e = Find(body, {"spec", "expirationSeconds"}); e && e->is_integer())
    seconds = e->as_number().to_int64();
  if (seconds < 600)
    return ReplyStatus(ex,
                       ApiStatus::Invalid(tr_type, a.name,
                                          {{"FieldValueInvalid",
                                            "Invalid value: " + std::to_string(seconds) +
                                                ": may not specify a duration less than 10 minutes",
                                            "spec.expirationSeconds"}}));
  if (seconds > (int64_t{1} << 32))
    return ReplyStatus(
        ex, ApiStatus::Invalid(tr_type, a.name,
                               {{"FieldValueTooLong",
                                 "Invalid value: " + std::to_string(seconds) +
                                     ": may not specify a duration larger than 2^32 seconds",
                                 "spec.expirationSeconds"}}));
  std::optional<Json> pod;
  if (const Json* ref = Find(body, {"spec", "boundObjectRef"}); ref && ref->is_object()) {
    const std::string kind = GetString(*ref, {"kind"});
    const std::string name = GetString(*ref, {"name"});
    if (kind != "Pod")
      return ReplyStatus(
          ex, ApiStatus::Invalid(tr_type, a.name,
                                 {{"FieldValueNotSupported",
                                   "Unsupported value: \"" + kind + "\": supported values: \"Pod\"",
                                   "spec.boundObjectRef.kind"}}));
    auto live = store_.Get({"", "v1", "pods", a.ns, name, ""});
    if (!live.ok()) return ReplyStatus(ex, live.status);
    const std::string uid = GetString(*ref, {"uid"});
    if (!uid.empty() && uid != GetString(live.value, {"metadata", "uid"}))
      return ReplyStatus(ex, ApiStatus::Error(409, "Conflict",
                                              "the UID in the bound object reference (" + uid +
                                                  ") does not match the UID in record"));
    pod = live.value;
  }
  auto issued =
      tokens_.Issue(sa.value, pod ? &*pod : nullptr, StringList(Find(body, {"spec", "audiences"})),
                    std::chrono::seconds(seconds));
  Json out = body;
  out["apiVersion"] = Json::string("authentication.k8s.io/v1");
  out["kind"] = Json::string("TokenRequest");
  Json& meta = Child(out, "metadata");
  meta["name"] = Json::string(a.name);
  meta["namespace"] = Json::string(a.ns);
  meta["creationTimestamp"] = Json::string(FormatTime(std::chrono::system_clock::now()));
  Json& spec = Child(out, "spec");
  spec["expirationSeconds"] = Json::number(seconds);
  if (!HasKey(spec, "audiences"))
    spec["audiences"] = Json::array({Json::string("https://kubernetes.default.svc.cluster.local")});
  out["status"] = Json::object();
  out["status"]["token"] = Json::string(issued.token);
  out["status"]["expirationTimestamp"] = Json::string(FormatTime(issued.expires));
  Reply(ex, 201, out);
}

void Security::AccessReview(Exchange& ex, const RequestAttributes& a, const Json& body) {
  RequestAttributes q;
  if (a.resource == "selfsubjectaccessreviews") {
    q.user = a.user;
  } else {
    q.user.name = GetString(body, {"spec", "user"});
    q.user.uid = GetString(body, {"spec", "uid"});
    q.user.groups = StringList(Find(body, {"spec", "groups"}));
    if (q.user.name.empty() && q.user.groups.empty()) {
      ResourceType t;
      t.group = "authorization.k8s.io";
      t.kind =
          a.resource == "subjectaccessreviews" ? "SubjectAccessReview" : "LocalSubjectAccessReview";
      return ReplyStatus(ex, ApiStatus::Invalid(t, "",
                                                {{"FieldValueRequired",
                                                  "Required value: at least one of user or "
                                                  "group must be specified",
                                                  "spec.user"}}));
    }
  }
  if (const Json* ra = Find(body, {"spec", "resourceAttributes"}); ra && ra->is_object()) {
    q.resource_request = true;
    q.ns = GetString(*ra, {"namespace"});
    q.verb = GetString(*ra, {"verb"});
    q.api_group = GetString(*ra, {"group"});
    q.api_version = GetString(*ra, {"version"});
    q.resource = GetString(*ra, {"resource"});
    q.subresource = GetString(*ra, {"subresource"});
    q.name = GetString(*ra, {"name"});
    if (a.resource == "localsubjectaccessreviews" && q.ns != a.ns) {
      ResourceType t;
      t.group = "authorization.k8s.io";
      t.kind = "LocalSubjectAccessReview";
      return ReplyStatus(
          ex, ApiStatus::Invalid(t, "",
                                 {{"FieldValueInvalid",
                                   "Invalid value: \"" + q.ns + "\": must match metadata.namespace",
                                   "spec.resourceAttributes.namespace"}}));
    }
  } else {
    q.path = GetString(body, {"spec", "nonResourceAttributes", "path"});
    q.verb = GetString(body, {"spec", "nonResourceAttributes", "verb"});
  }
  Decision d = Authorize(store_, q);
  Json out = body;
  Json& meta = Child(out, "metadata");
  meta["creationTimestamp"] = Json::null();
  if (a.resource == "localsubjectaccessreviews") meta["namespace"] = Json::string(a.ns);
  out["status"] = Json::object();
  out["status"]["allowed"] = Json::boolean(d.allowed);
  if (!d.reason.empty()) out["status"]["reason"] = Json::string(d.reason);
  Reply(ex, 201, out);
}

}  // namespace zkop::devkube
