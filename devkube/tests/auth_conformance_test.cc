// The front door: ServiceAccount tokens (TokenRequest), RBAC authorization with the real 403
// Status, impersonation, access reviews and SelfSubjectReview. These run over plain HTTP
// (ApiServerOptions::secure = false), where a valid ServiceAccount token is still
// authenticated and authorized; HTTPS itself is covered with kubectl in auth_kubectl_test.cc.
#include <optional>
#include <sstream>

#include "auth.h"
#include "devkube_test_env.h"
#include "rbac.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {
namespace {

class AuthTest : public DevkubeTest {
 protected:
  // The real server's bootstrap policy (made at start in secure mode) is there too.
  void SetUp() override {
    DevkubeTest::SetUp();
    EnsureBootstrapPolicy(server_->store());
  }
  // A ServiceAccount, a Role with `rules` (YAML flow list) bound to it, and a token for it.
  std::string ServiceAccountWithRole(const std::string& sa, const std::string& rules) {
    CreateYaml("/api/v1/namespaces/default/serviceaccounts", "metadata: {name: " + sa + "}");
    CreateYaml("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
               "metadata: {name: " + sa + "-role}\nrules: " + rules);
    CreateYaml("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
               "metadata: {name: " + sa +
                   "-binding}\n"
                   "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: " +
                   sa +
                   "-role}\n"
                   "subjects: [{kind: ServiceAccount, name: " +
                   sa + "}]");
    Reply r = client().Post("/api/v1/namespaces/default/serviceaccounts/" + sa + "/token",
                            Yaml("apiVersion: authentication.k8s.io/v1\nkind: TokenRequest\n"
                                 "spec: {expirationSeconds: 3600}"));
    EXPECT_EQ(r.status, 201) << r.body;
    return GetString(r.json, {"status", "token"});
  }
  Client As(const std::string& token) {
    Client c(host_, server_->port());
    c.headers = {{"Authorization", "Bearer " + token}};
    return c;
  }
};

// k8s.io/apiserver RequestInfoFactory: the verb comes from the method and the path
// (collection GET = list, ?watch = watch, collection DELETE = deletecollection), namespaces
// and subresources are split out, everything else is a non-resource request.
TEST(RequestAttributesTest, VerbsAndResourcesAsTheRealServerParsesThem) {
  auto parse = [](const std::string& method, const std::string& path,
                  std::map<std::string, std::string> query = {}) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.query = std::move(query);
    return ParseRequestAttributes(r);
  };
  auto a = parse("GET", "/api/v1/namespaces/ns1/pods");
  EXPECT_EQ(a.verb, "list");
  EXPECT_EQ(a.ns, "ns1");
  EXPECT_EQ(a.resource, "pods");
  EXPECT_EQ(parse("GET", "/api/v1/namespaces/ns1/pods", {{"watch", "true"}}).verb, "watch");
  EXPECT_EQ(parse("GET", "/api/v1/pods", {{"watch", "1"}}).verb, "watch");
  a = parse("GET", "/api/v1/namespaces/ns1/pods/p/log");
  EXPECT_EQ(a.verb, "get");
  EXPECT_EQ(a.name, "p");
  EXPECT_EQ(a.subresource, "log");
  EXPECT_EQ(parse("DELETE", "/api/v1/namespaces/ns1/configmaps").verb, "deletecollection");
  EXPECT_EQ(parse("DELETE", "/api/v1/namespaces/ns1/configmaps/c").verb, "delete");
  EXPECT_EQ(parse("POST", "/api/v1/namespaces/ns1/configmaps").verb, "create");
  EXPECT_EQ(parse("PUT", "/apis/zkop.io/v1alpha1/namespaces/n/zookeeperclusters/z/status").verb,
            "update");
  a = parse("PATCH", "/apis/apps/v1/namespaces/n/deployments/d/scale");
  EXPECT_EQ(a.verb, "patch");
  EXPECT_EQ(a.api_group, "apps");
  EXPECT_EQ(a.subresource, "scale");
  a = parse("GET", "/api/v1/namespaces/ns1");  // the namespace object itself
  EXPECT_EQ(a.resource, "namespaces");
  EXPECT_EQ(a.name, "ns1");
  EXPECT_EQ(a.ns, "ns1");
  a = parse("GET", "/api/v1/namespaces/ns1/pods", {{"fieldSelector", "metadata.name=p1"}});
  EXPECT_EQ(a.name, "p1");  // a list of one name is authorized for that name
  a = parse("GET", "/apis");
  EXPECT_FALSE(a.resource_request);
  EXPECT_EQ(a.verb, "get");
  EXPECT_EQ(parse("POST", "/api").verb, "post");
}

// RBAC rules (rbac/v1 PolicyRule): verbs, apiGroups and resources with "*", subresources
// ("pods/log" is not "pods"), resourceNames; a denied request is 403 Forbidden worded like
// kube-apiserver's responsewriters.Forbidden.
TEST_F(AuthTest, ServiceAccountTokenIsAuthorizedByItsRole) {
  std::string token =
      ServiceAccountWithRole("reader",
                             "[{apiGroups: [\"\"], resources: [pods], verbs: [get, list, watch]},"
                             " {apiGroups: [\"\"], resources: [configmaps], verbs: [get],"
                             "  resourceNames: [allowed]}]");
  ASSERT_FALSE(token.empty());
  CreateYaml("/api/v1/namespaces/default/configmaps", "metadata: {name: allowed}");
  CreateYaml("/api/v1/namespaces/default/configmaps", "metadata: {name: other}");
  Client sa = As(token);
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/pods").status, 200);
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/configmaps/allowed").status, 200);
  Reply denied = sa.Get("/api/v1/namespaces/default/configmaps/other");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(GetString(denied.json, {"reason"}), "Forbidden");
  EXPECT_EQ(GetString(denied.json, {"message"}),
            "configmaps \"other\" is forbidden: User \"system:serviceaccount:default:reader\" "
            "cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\"");
  EXPECT_EQ(GetString(denied.json, {"details", "kind"}), "configmaps");
  EXPECT_EQ(GetString(denied.json, {"details", "name"}), "other");
  // A list is not allowed by a resourceNames rule; pods/log is not pods.
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/configmaps").status, 403);
  Reply log = sa.Get("/api/v1/namespaces/default/pods/p/log");
  EXPECT_EQ(log.status, 403);
  EXPECT_NE(GetString(log.json, {"message"}).find("cannot get resource \"pods/log\""),
            std::string::npos);
  // Cluster scope: a Role never grants it.
  Reply all = sa.Get("/api/v1/pods");
  EXPECT_EQ(GetString(all.json, {"message"}),
            "pods is forbidden: User \"system:serviceaccount:default:reader\" cannot list "
            "resource \"pods\" in API group \"\" at the cluster scope");
  Reply write = sa.Post("/api/v1/namespaces/default/pods", Yaml("metadata: {name: x}"));
  EXPECT_EQ(write.status, 403);
  // Non-resource paths beyond discovery (system:discovery) are denied too.
  Reply metrics = sa.Get("/metrics");
  EXPECT_EQ(GetString(metrics.json, {"message"}),
            "forbidden: User \"system:serviceaccount:default:reader\" cannot get path "
            "\"/metrics\"");
  EXPECT_EQ(sa.Get("/apis").status, 200);
}

// A ClusterRole bound by a RoleBinding grants only in the binding's namespace; a
// ClusterRoleBinding grants everywhere, "*/scale" matches every scale subresource, and
// nonResourceURLs allow paths (a trailing "*" is a prefix).
TEST_F(AuthTest, ClusterRolesBindingsAndNonResourceUrls) {
  CreateYaml("/api/v1/namespaces", "metadata: {name: other}");
  CreateYaml("/api/v1/namespaces/default/serviceaccounts", "metadata: {name: op}");
  CreateYaml("/apis/rbac.authorization.k8s.io/v1/clusterroles",
             "metadata: {name: scaler}\nrules:\n"
             "- {apiGroups: [\"*\"], resources: [\"*/scale\"], verbs: [\"*\"]}\n"
             "- {nonResourceURLs: [\"/metrics\", \"/debug/*\"], verbs: [get]}");
  CreateYaml("/apis/rbac.authorization.k8s.io/v1/clusterroles",
             "metadata: {name: secret-reader}\n"
             "rules: [{apiGroups: [\"\"], resources: [secrets], verbs: [list]}]");
  CreateYaml("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
             "metadata: {name: op-scaler}\n"
             "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: scaler}\n"
             "subjects: [{kind: ServiceAccount, name: op, namespace: default}]");
  CreateYaml("/apis/rbac.authorization.k8s.io/v1/namespaces/other/rolebindings",
             "metadata: {name: op-secrets}\n"
             "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, "
             "name: secret-reader}\n"
             "subjects: [{kind: ServiceAccount, name: op, namespace: default}]");
  Reply t = client().Post("/api/v1/namespaces/default/serviceaccounts/op/token", Yaml("spec: {}"));
  ASSERT_EQ(t.status, 201) << t.body;
  Client sa = As(GetString(t.json, {"status", "token"}));
  EXPECT_EQ(sa.Get("/api/v1/namespaces/other/secrets").status, 200);
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/secrets").status, 403);
  EXPECT_EQ(sa.Get("/metrics").status, 404);  // allowed; devkube serves no such page
  EXPECT_EQ(sa.Get("/debug/pprof/heap").status, 404);
  EXPECT_EQ(sa.Get("/logs").status, 403);
  CreateYaml("/apis/apps/v1/namespaces/other/deployments",
             "metadata: {name: d}\nspec: {replicas: 1, selector: {matchLabels: {a: b}},"
             " template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}");
  EXPECT_EQ(sa.Get("/apis/apps/v1/namespaces/other/deployments/d/scale").status, 200);
  EXPECT_EQ(sa.Get("/apis/apps/v1/namespaces/other/deployments/d").status, 403);
}

// TokenRequest (authentication.k8s.io/v1): 201 with status.token / expirationTimestamp, the
// 10-minute minimum, 404 for an unknown ServiceAccount; a token dies with its
// ServiceAccount (and a bound Pod); SelfSubjectReview answers the token's user.
TEST_F(AuthTest, TokenRequestAndSelfSubjectReview) {
  CreateYaml("/api/v1/namespaces/default/serviceaccounts", "metadata: {name: bot}");
  Reply short_lived = client().Post("/api/v1/namespaces/default/serviceaccounts/bot/token",
                                    Yaml("spec: {expirationSeconds: 60}"));
  EXPECT_EQ(short_lived.status, 422);
  EXPECT_EQ(GetString(short_lived.json, {"message"}),
            "TokenRequest.authentication.k8s.io \"bot\" is invalid: spec.expirationSeconds: "
            "Invalid value: 60: may not specify a duration less than 10 minutes");
  Reply missing =
      client().Post("/api/v1/namespaces/default/serviceaccounts/nobody/token", Yaml("spec: {}"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(GetString(missing.json, {"message"}), "serviceaccounts \"nobody\" not found");
  Reply t =
      client().Post("/api/v1/namespaces/default/serviceaccounts/bot/token",
                    Yaml("apiVersion: authentication.k8s.io/v1\nkind: TokenRequest\nspec: {}"));
  ASSERT_EQ(t.status, 201) << t.body;
  EXPECT_EQ(GetString(t.json, {"kind"}), "TokenRequest");
  EXPECT_FALSE(GetString(t.json, {"status", "expirationTimestamp"}).empty());
  const std::string token = GetString(t.json, {"status", "token"});
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);  // a JWT
  Reply who = As(token).Post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                             Yaml("apiVersion: authentication.k8s.io/v1\nkind: SelfSubjectReview"));
  ASSERT_EQ(who.status, 201) << who.body;
  EXPECT_EQ(GetString(who.json, {"status", "userInfo", "username"}),
            "system:serviceaccount:default:bot");
  EXPECT_EQ(
      who.json["status"]["userInfo"]["groups"].serialize(),
      R"(["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"])");
  EXPECT_EQ(client().Get("/apis/authentication.k8s.io/v1/selfsubjectreviews").status, 405);
  // Deleting the ServiceAccount invalidates its tokens (here: back to the insecure admin).
  client().Delete("/api/v1/namespaces/default/serviceaccounts/bot");
  Reply after = As(token).Post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                               Yaml("kind: SelfSubjectReview"));
  EXPECT_EQ(GetString(after.json, {"status", "userInfo", "username"}), "kubernetes-admin");
}

// SelfSubjectAccessReview / SubjectAccessReview answer allowed + the RBAC reason;
// impersonation headers act as the named user (the admin may impersonate anyone; a
// ServiceAccount needs the "impersonate" verb).
TEST_F(AuthTest, AccessReviewsAndImpersonation) {
  std::string token = ServiceAccountWithRole(
      "viewer", "[{apiGroups: [apps], resources: [deployments], verbs: [list]}]");
  auto ssar = [&](Client& c, const std::string& verb, const std::string& resource) {
    Reply r = c.Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                     Yaml("apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\n"
                          "spec: {resourceAttributes: {namespace: default, verb: " +
                          verb + ", group: apps, resource: " + resource + "}}"));
    EXPECT_EQ(r.status, 201) << r.body;
    return r;
  };
  Client sa = As(token);
  Reply yes = ssar(sa, "list", "deployments");
  EXPECT_TRUE(yes.json["status"]["allowed"].as_bool());
  EXPECT_EQ(GetString(yes.json, {"status", "reason"}),
            "RBAC: allowed by RoleBinding \"viewer-binding/default\" of Role \"viewer-role\" to "
            "ServiceAccount \"viewer/default\"");
  EXPECT_FALSE(ssar(sa, "delete", "deployments").json["status"]["allowed"].as_bool());
  // The admin asks for someone else.
  Reply sar = client().Post("/apis/authorization.k8s.io/v1/subjectaccessreviews",
                            Yaml("spec: {user: \"system:serviceaccount:default:viewer\","
                                 " resourceAttributes: {namespace: default, verb: list,"
                                 " group: apps, resource: deployments}}"));
  ASSERT_EQ(sar.status, 201) << sar.body;
  EXPECT_TRUE(sar.json["status"]["allowed"].as_bool());
  // ...which the ServiceAccount may not do, nor impersonate.
  EXPECT_EQ(sa.Post("/apis/authorization.k8s.io/v1/subjectaccessreviews", Yaml("spec: {}")).status,
            403);
  Client imp = As(token);
  imp.headers.emplace_back("Impersonate-User", "someone");
  Reply no_imp = imp.Get("/apis/apps/v1/namespaces/default/deployments");
  EXPECT_EQ(no_imp.status, 403);
  EXPECT_EQ(GetString(no_imp.json, {"message"}),
            "users \"someone\" is forbidden: User \"system:serviceaccount:default:viewer\" "
            "cannot impersonate resource \"users\" in API group \"\" at the cluster scope");
  // kubectl auth can-i --as=system:serviceaccount:default:viewer
  Client as_sa(host_, server_->port());
  as_sa.headers = {{"Impersonate-User", "system:serviceaccount:default:viewer"}};
  EXPECT_TRUE(ssar(as_sa, "list", "deployments").json["status"]["allowed"].as_bool());
  EXPECT_EQ(as_sa.Get("/api/v1/namespaces/default/secrets").status, 403);
}

// Discovery lists authorization.k8s.io and authentication.k8s.io (create-only resources) and
// the serviceaccounts/token subresource.
TEST_F(AuthTest, DiscoveryListsTheAuthGroups) {
  Reply authz = client().Get("/apis/authorization.k8s.io/v1");
  ASSERT_EQ(authz.status, 200);
  EXPECT_NE(authz.body.find("\"selfsubjectaccessreviews\""), std::string::npos);
  EXPECT_NE(authz.body.find("[\"create\"]"), std::string::npos);
  EXPECT_EQ(client().Get("/apis/authentication.k8s.io/v1").status, 200);
  Reply core = client().Get("/api/v1");
  EXPECT_NE(core.body.find("\"serviceaccounts/token\""), std::string::npos);
}

// The bootstrap policy (secure mode): cluster-admin for system:masters, discovery and
// self-reviews for every authenticated user.
TEST_F(AuthTest, BootstrapPolicyGrantsDiscoveryToAuthenticatedUsers) {
  CreateYaml("/api/v1/namespaces/default/serviceaccounts", "metadata: {name: plain}");
  Reply t =
      client().Post("/api/v1/namespaces/default/serviceaccounts/plain/token", Yaml("spec: {}"));
  Client sa = As(GetString(t.json, {"status", "token"}));
  EXPECT_EQ(sa.Get("/apis").status, 200);
  EXPECT_EQ(sa.Get("/version").status, 200);
  EXPECT_EQ(
      sa.Post("/apis/authentication.k8s.io/v1/selfsubjectreviews", Yaml("kind: SelfSubjectReview"))
          .status,
      201);
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/pods").status, 403);
}

// The audit log (ApiServerOptions::audit_log, --audit-log): one audit.k8s.io/v1 Event per
// request with the authenticated user, the RBAC verb, the objectRef and the response code —
// allowed and denied requests alike, watches at ResponseStarted.
TEST_F(AuthTest, AuditLogRecordsUserVerbResourceAndCode) {
  zkop::testing::TempDir dir("devkube-audit");
  ApiServerOptions options;
  options.audit_log = dir.Path("audit.jsonl");
  Start(options);
  EnsureBootstrapPolicy(server_->store());
  const std::string token = ServiceAccountWithRole(
      "auditor", "[{apiGroups: [\"\"], resources: [configmaps], verbs: [list, watch]}]");
  Client sa = As(token);
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/configmaps").status, 200);
  EXPECT_EQ(sa.Get("/api/v1/namespaces/default/secrets/s").status, 403);
  auto watch = std::make_unique<WatchStream>(
      host_, server_->port(), "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1");
  EXPECT_EQ(watch->status(), 200);
  watch.reset();
  std::vector<Json> records;    // the ServiceAccount's
  std::optional<Json> watched;  // WatchStream sends no token: the admin on plain HTTP
  std::istringstream lines(zkop::testing::ReadFile(options.audit_log));
  for (std::string line; std::getline(lines, line);) {
    std::string why;
    auto ev = ParseJson(line, &why);
    ASSERT_TRUE(ev) << why << ": " << line;
    if (GetString(*ev, {"user", "username"}) == "system:serviceaccount:default:auditor")
      records.push_back(*ev);
    if (GetString(*ev, {"verb"}) == "watch") watched = *ev;
  }
  ASSERT_EQ(records.size(), 2u) << zkop::testing::ReadFile(options.audit_log);
  EXPECT_EQ(GetString(records[0], {"apiVersion"}), "audit.k8s.io/v1");
  EXPECT_EQ(GetString(records[0], {"kind"}), "Event");
  EXPECT_EQ(GetString(records[0], {"verb"}), "list");
  EXPECT_EQ(GetString(records[0], {"objectRef", "resource"}), "configmaps");
  EXPECT_EQ(GetString(records[0], {"objectRef", "namespace"}), "default");
  EXPECT_EQ(records[0].at("responseStatus").at("code").as_integer(), 200);
  EXPECT_EQ(GetString(records[0], {"stage"}), "ResponseComplete");
  EXPECT_EQ(GetString(records[1], {"verb"}), "get");
  EXPECT_EQ(GetString(records[1], {"objectRef", "name"}), "s");
  EXPECT_EQ(records[1].at("responseStatus").at("code").as_integer(), 403);
  ASSERT_TRUE(watched) << zkop::testing::ReadFile(options.audit_log);
  EXPECT_EQ(GetString(*watched, {"stage"}), "ResponseStarted");
  EXPECT_EQ(watched->at("responseStatus").at("code").as_integer(), 200);
  EXPECT_EQ(GetString(*watched, {"user", "username"}), "kubernetes-admin");
  EXPECT_EQ(zkop::testing::ReadFile(options.audit_log).find(token), std::string::npos);
}

}  // namespace
}  // namespace zkop::devkube::testing
