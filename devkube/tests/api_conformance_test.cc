// Emulator conformance: CRUD, Status bodies, lists, selectors, pagination, patches and
// discovery, each checked against the Kubernetes API convention named in its comment
// (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md
// and https://kubernetes.io/docs/reference/using-api/api-concepts/).
#include "devkube_test_env.h"

namespace zkop::devkube::testing {
namespace {

const char* kCm = "/api/v1/namespaces/default/configmaps";

Json ConfigMap(const std::string& name, const std::string& labels_yaml = "{}") {
  return DevkubeTest::Yaml("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
                           "\n  labels: " + labels_yaml + "\ndata: {k: v}\n");
}

using ApiConformance = DevkubeTest;

// api-concepts "Resource versions": one counter; every write returns a larger value, and a
// list's resourceVersion is at least that of each item.
TEST_F(ApiConformance, ResourceVersionIsMonotonicAcrossResources) {
  Reply a = client().Post(kCm, ConfigMap("a"));
  ASSERT_EQ(a.status, 201) << a.body;
  Reply s = client().Post("/api/v1/namespaces/default/secrets",
                          Yaml("metadata: {name: s}\nstringData: {password: hunter2}"));
  ASSERT_EQ(s.status, 201) << s.body;
  EXPECT_GT(Rv(s.json), Rv(a.json));
  EXPECT_EQ(GetString(s.json, {"data", "password"}), "aHVudGVyMg==");  // stringData folded
  Json changed = a.json;
  changed["data"]["k"] = Json::string("w");
  Reply u = client().Put(std::string(kCm) + "/a", changed);
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_GT(Rv(u.json), Rv(s.json));
  Reply list = client().Get(kCm);
  EXPECT_GE(std::stoll(GetString(list.json, {"metadata", "resourceVersion"})), Rv(u.json));
  EXPECT_EQ(GetString(list.json, {"kind"}), "ConfigMapList");
  // api-conventions "Metadata": uid and creationTimestamp are set by the server.
  EXPECT_EQ(GetString(u.json, {"metadata", "uid"}).size(), 36u);
  EXPECT_FALSE(GetString(u.json, {"metadata", "creationTimestamp"}).empty());
}

// api-conventions "Concurrency Control and Consistency": an update carrying a stale
// resourceVersion fails with 409 Conflict and a Status naming the object.
TEST_F(ApiConformance, StaleUpdateIsConflict) {
  Reply a = client().Post(kCm, ConfigMap("a"));
  Json first = a.json, second = a.json;
  first["data"]["k"] = Json::string("1");
  ASSERT_EQ(client().Put(std::string(kCm) + "/a", first).status, 200);
  second["data"]["k"] = Json::string("2");
  Reply r = client().Put(std::string(kCm) + "/a", second);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.json.serialize(),
            Yaml(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
              "message":"Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again",
              "reason":"Conflict","details":{"name":"a","kind":"configmaps"},"code":409})")
                .serialize());
  // Without a resourceVersion the update is unconditional.
  Json blind = ConfigMap("a");
  EXPECT_EQ(client().Put(std::string(kCm) + "/a", blind).status, 200);
}

// api-conventions "Response Status Kind": NotFound / AlreadyExists bodies as the real server
// sends them (details.kind is the resource, details.group omitted for the core group).
TEST_F(ApiConformance, StatusBodiesForNotFoundAndAlreadyExists) {
  Reply nf = client().Get(std::string(kCm) + "/missing");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.json.serialize(),
            Yaml(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
              "message":"configmaps \"missing\" not found","reason":"NotFound",
              "details":{"name":"missing","kind":"configmaps"},"code":404})")
                .serialize());
  ASSERT_EQ(client().Post(kCm, ConfigMap("a")).status, 201);
  Reply ae = client().Post(kCm, ConfigMap("a"));
  EXPECT_EQ(ae.status, 409);
  EXPECT_EQ(GetString(ae.json, {"reason"}), "AlreadyExists");
  EXPECT_EQ(GetString(ae.json, {"message"}), "configmaps \"a\" already exists");
  Reply dep = client().Get("/apis/apps/v1/namespaces/default/deployments/x");
  EXPECT_EQ(GetString(dep.json, {"message"}), "deployments.apps \"x\" not found");
  EXPECT_EQ(GetString(dep.json, {"details", "group"}), "apps");
  // An unknown namespace is itself NotFound (NamespaceLifecycle).
  Reply ns = client().Post("/api/v1/namespaces/nowhere/configmaps", ConfigMap("a"));
  EXPECT_EQ(ns.status, 404);
  EXPECT_EQ(GetString(ns.json, {"message"}), "namespaces \"nowhere\" not found");
  // Invalid names are 422 with the field path.
  Reply bad = client().Post(kCm, ConfigMap("Bad_Name"));
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json["details"]["causes"][0]["field"].as_string(), "metadata.name");
}

// api-conventions "Idempotency": generateName gets a random 5-character suffix.
TEST_F(ApiConformance, GenerateName) {
  Json obj = Yaml("metadata: {generateName: job-}");
  Reply r = client().Post(kCm, obj);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string name = GetString(r.json, {"metadata", "name"});
  EXPECT_EQ(name.size(), 9u);
  EXPECT_EQ(name.rfind("job-", 0), 0u);
}

// api-concepts / labels docs "Label selectors": equality-based (=, ==, !=) and set-based
// (in, notin, exists, !key) requirements, ANDed; field selectors on metadata.name/namespace.
TEST_F(ApiConformance, LabelAndFieldSelectors) {
  client().Post(kCm, ConfigMap("a", "{app: zk, tier: db}"));
  client().Post(kCm, ConfigMap("b", "{app: zk, tier: web}"));
  client().Post(kCm, ConfigMap("c", "{app: dubbo}"));
  client().Post(kCm, ConfigMap("d"));
  auto names = [&](const std::string& query) {
    Reply r = client().Get(std::string(kCm) + "?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::string out;
    if (r.status == 200)
      for (const Json& item : r.json["items"].as_array())
        out += GetString(item, {"metadata", "name"});
    return out;
  };
  EXPECT_EQ(names("labelSelector=app%3Dzk"), "ab");
  EXPECT_EQ(names("labelSelector=app%3D%3Dzk,tier!%3Ddb"), "b");
  EXPECT_EQ(names("labelSelector=app!%3Dzk"), "cd");
  EXPECT_EQ(names("labelSelector=tier%20in%20(db,cache)"), "a");
  EXPECT_EQ(names("labelSelector=app%20notin%20(zk)"), "cd");
  EXPECT_EQ(names("labelSelector=tier"), "ab");
  EXPECT_EQ(names("labelSelector=!tier"), "cd");
  EXPECT_EQ(names("fieldSelector=metadata.name%3Dc"), "c");
  EXPECT_EQ(names("fieldSelector=metadata.name!%3Dc,metadata.namespace%3Ddefault"), "abd");
  Reply bad = client().Get(std::string(kCm) + "?fieldSelector=spec.foo%3Dx");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(GetString(bad.json, {"message"}),
            "\"spec.foo\" is not a known field selector: only \"metadata.name\", "
            "\"metadata.namespace\"");
  EXPECT_EQ(client().Get(std::string(kCm) + "?labelSelector=a%20in%20x").status, 400);
}

// api-concepts "Retrieving large results sets in chunks": limit + continue, with
// remainingItemCount, pages in a stable order, no item twice.
TEST_F(ApiConformance, PaginationWithContinue) {
  for (const char* n : {"e", "a", "d", "b", "c"}) client().Post(kCm, ConfigMap(n));
  std::string seen, token;
  int pages = 0;
  do {
    Reply r =
        client().Get(std::string(kCm) + "?limit=2" + (token.empty() ? "" : "&continue=" + token));
    ASSERT_EQ(r.status, 200) << r.body;
    for (const Json& item : r.json["items"].as_array())
      seen += GetString(item, {"metadata", "name"});
    token = GetString(r.json, {"metadata", "continue"});
    if (pages == 0) {
      EXPECT_EQ(r.json["metadata"]["remainingItemCount"].as_integer(), 3);
    }
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen, "abcde");
  EXPECT_EQ(pages, 3);
}

// api-concepts "Resource URIs": namespaced resources listed across all namespaces at
// /api/v1/<resource>.
TEST_F(ApiConformance, ClusterWideListOfNamespacedResource) {
  ASSERT_EQ(client().Post("/api/v1/namespaces", Yaml("metadata: {name: other}")).status, 201);
  client().Post(kCm, ConfigMap("a"));
  client().Post("/api/v1/namespaces/other/configmaps", ConfigMap("b"));
  Reply all = client().Get("/api/v1/configmaps");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.json["items"].size(), 2u);
  Reply other = client().Get("/api/v1/configmaps?fieldSelector=metadata.namespace%3Dother");
  EXPECT_EQ(other.json["items"].size(), 1u);
}

// api-conventions "Patch operations": JSON merge patch (RFC 7386), JSON patch (RFC 6902,
// failing "test" → error, nothing changed) and strategic merge patch (lists merged by key).
TEST_F(ApiConformance, PatchFlavours) {
  client().Post(kCm, ConfigMap("a"));
  Reply m = client().Patch(std::string(kCm) + "/a", "application/merge-patch+json",
                           R"({"data":{"k":null,"x":"1"}})");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.json["data"].serialize(), R"({"x":"1"})");
  Reply j = client().Patch(
      std::string(kCm) + "/a", "application/json-patch+json",
      R"([{"op":"add","path":"/data/y","value":"2"},{"op":"remove","path":"/data/x"}])");
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(j.json["data"].serialize(), R"({"y":"2"})");
  Reply t = client().Patch(
      std::string(kCm) + "/a", "application/json-patch+json",
      R"([{"op":"test","path":"/data/y","value":"3"},{"op":"add","path":"/data/z","value":"1"}])");
  EXPECT_EQ(t.status, 422);
  EXPECT_EQ(client().Get(std::string(kCm) + "/a").json["data"].serialize(), R"({"y":"2"})");

  const std::string deploy = "/apis/apps/v1/namespaces/default/deployments";
  CreateYaml(deploy, R"(
metadata: {name: d}
spec:
  replicas: 1
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      containers:
      - {name: main, image: a:1, env: [{name: A, value: "1"}], ports: [{containerPort: 80}]}
      - {name: side, image: b:1}
)");
  Reply s = client().Patch(deploy + "/d", "application/strategic-merge-patch+json", R"({
    "spec":{"template":{"spec":{"containers":[
      {"name":"main","image":"a:2","env":[{"name":"B","value":"2"}]},
      {"name":"side","$patch":"delete"}]}}}})");
  ASSERT_EQ(s.status, 200) << s.body;
  const Json& containers = s.json["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 1u);
  EXPECT_EQ(GetString(containers.at(0), {"image"}), "a:2");
  EXPECT_EQ(containers.at(0).at("env").serialize(),
            R"([{"name":"A","value":"1"},{"name":"B","value":"2"}])");
  EXPECT_EQ(containers.at(0).at("ports").size(), 1u);
  // metadata.generation follows spec changes of a Deployment.
  EXPECT_EQ(s.json["metadata"]["generation"].as_integer(), 2);
  Reply bad = client().Patch(std::string(kCm) + "/a", "text/plain", "x");
  EXPECT_EQ(bad.status, 415);
}

// api-concepts "Discovery API": /api, /apis, group-version resource lists with verbs and
// subresources; the server version.
TEST_F(ApiConformance, Discovery) {
  Reply v = client().Get("/version");
  EXPECT_EQ(GetString(v.json, {"minor"}), "32");
  Reply api = client().Get("/api");
  EXPECT_EQ(api.json["versions"].serialize(), R"(["v1"])");
  Reply core = client().Get("/api/v1");
  bool pods = false, pod_status = false;
  for (const Json& r : core.json["resources"].as_array()) {
    pods = pods || (GetString(r, {"name"}) == "pods" && GetString(r, {"kind"}) == "Pod");
    pod_status = pod_status || GetString(r, {"name"}) == "pods/status";
  }
  EXPECT_TRUE(pods && pod_status);
  Reply groups = client().Get("/apis");
  std::string names;
  for (const Json& g : groups.json["groups"].as_array()) names += GetString(g, {"name"}) + " ";
  for (const char* g : {"apps", "policy", "coordination.k8s.io", "rbac.authorization.k8s.io",
                        "apiextensions.k8s.io"})
    EXPECT_NE(names.find(g), std::string::npos) << g;
  EXPECT_EQ(client().Get("/apis/zkop.io/v1alpha1").status, 404);
  EXPECT_EQ(client().Get("/apis/nothing.io/v1/widgets").status, 404);
}

// api-concepts "Receiving resources as Tables": NAME plus the type's columns, AGE last.
TEST_F(ApiConformance, TableForBuiltins) {
  client().Post(kCm, ConfigMap("a"));
  Reply t = client().Get(kCm, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  ASSERT_EQ(t.status, 200);
  EXPECT_EQ(GetString(t.json, {"kind"}), "Table");
  EXPECT_EQ(t.json["columnDefinitions"].size(), 2u);
  EXPECT_EQ(GetString(t.json["columnDefinitions"][1], {"name"}), "Age");
  EXPECT_EQ(t.json["rows"][0]["cells"][0].as_string(), "a");
  EXPECT_EQ(GetString(t.json["rows"][0]["object"], {"kind"}), "PartialObjectMetadata");
  // Pods get kubectl's computed READY / STATUS / RESTARTS.
  const std::string pods = "/api/v1/namespaces/default/pods";
  client().Post(pods, Yaml("metadata: {name: p}\nspec: {containers: [{name: a, image: i}, "
                           "{name: b, image: i}]}"));
  client().Patch(pods + "/p/status", "application/merge-patch+json",
                 R"({"status":{"phase":"Running","containerStatuses":[
                     {"name":"a","ready":true,"restartCount":2,"state":{"running":{}}},
                     {"name":"b","ready":false,"restartCount":1,
                      "state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})");
  Reply pt = client().Get(pods, "application/json;as=Table;v=v1;g=meta.k8s.io");
  ASSERT_EQ(pt.status, 200);
  const Json& cells = pt.json["rows"][0]["cells"];
  EXPECT_EQ(cells.at(1).as_string() + " " + cells.at(2).as_string() + " " + cells.at(3).serialize(),
            "1/2 CrashLoopBackOff 3");
}

}  // namespace
}  // namespace zkop::devkube::testing
