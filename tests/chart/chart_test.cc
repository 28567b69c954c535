// The zkop chart without a cluster: its files (CRD copy, version, every value documented and
// typed), `helm lint --strict`, the values schema, and what `helm template` renders.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <cpprest/json.h>

#include "chart_tools.h"

namespace zkop::chart::testing {
namespace {

using zkop::testing::ReadFile;
using zkop::testing::TempDir;

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> Strings(const YAML::Node& n) {
  return n ? n.as<std::vector<std::string>>() : std::vector<std::string>{};
}

// A YAML node as text with map keys sorted (key order is not meaning).
std::string Canonical(const YAML::Node& n) {
  if (n.IsMap()) {
    std::map<std::string, std::string> entries;
    for (const auto& kv : n) entries[kv.first.as<std::string>()] = Canonical(kv.second);
    std::string out = "{";
    for (const auto& [k, v] : entries) out += k + ":" + v + ",";
    return out + "}";
  }
  if (n.IsSequence()) {
    std::string out = "[";
    for (const auto& item : n) out += Canonical(item) + ",";
    return out + "]";
  }
  return n.IsScalar() ? "'" + n.Scalar() + "'" : "~";
}

class ChartTest : public ::testing::Test {
 protected:
  void SetUp() override { RequireHelm(); }
  std::vector<YAML::Node> Render(std::vector<std::string> args = {}) {
    return testing::Render(dir_, std::move(args));
  }
  TempDir dir_{"zkop-chart"};
};

// --- files ----------------------------------------------------------------------------------

TEST(ChartFilesTest, CrdsAreByteIdenticalToTheRepositoryCrds) {
  for (const char* dir : {"/crds", "/charts/zkop/crds"}) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(kSourceDir + dir))
      names.push_back(e.path().filename());
    EXPECT_EQ(names, std::vector<std::string>{"zookeeperclusters.zkop.io.yaml"}) << dir;
  }
  const std::string repo = ReadFile(kSourceDir + "/crds/zookeeperclusters.zkop.io.yaml");
  const std::string chart = ReadFile(kChart + "/crds/zookeeperclusters.zkop.io.yaml");
  ASSERT_FALSE(repo.empty());
  EXPECT_TRUE(repo == chart) << "charts/zkop/crds/zookeeperclusters.zkop.io.yaml differs from "
                                "crds/: copy it (cp crds/*.yaml charts/zkop/crds/)";
}

TEST(ChartFilesTest, VersionAndAppVersionAreTheProjectVersion) {
  const std::string cmake = ReadFile(kSourceDir + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(zkop VERSION ([0-9.]+))")));
  const YAML::Node chart = YAML::LoadFile(kChart + "/Chart.yaml");
  EXPECT_EQ(chart["apiVersion"].as<std::string>(), "v2");
  EXPECT_EQ(chart["version"].as<std::string>(), m[1].str()) << "Chart.yaml version";
  EXPECT_EQ(chart["appVersion"].as<std::string>(), m[1].str()) << "Chart.yaml appVersion";
}

// Every leaf of values.yaml (a scalar, a list, or a map the schema leaves free-form) is typed
// in values.schema.json, whose every object refuses unknown keys, and documented in README.md.
void CheckValues(const YAML::Node& values, const web::json::value& schema, const std::string& path,
                 const std::string& readme, std::vector<std::string>* leaves) {
  ASSERT_TRUE(schema.has_field("additionalProperties")) << "schema of " << path;
  ASSERT_TRUE(schema.at("additionalProperties").is_boolean() &&
              !schema.at("additionalProperties").as_bool())
      << "schema of " << (path.empty() ? "(root)" : path)
      << " must set additionalProperties: false";
  for (const auto& kv : values) {
    const std::string key = kv.first.as<std::string>();
    const std::string leaf = path.empty() ? key : path + "." + key;
    ASSERT_TRUE(schema.has_field("properties") && schema.at("properties").has_field(key))
        << leaf << " is in values.yaml but not in values.schema.json";
    const web::json::value& sub = schema.at("properties").at(key);
    if (kv.second.IsMap() && sub.has_field("properties")) {
      CheckValues(kv.second, sub, leaf, readme, leaves);
      continue;
    }
    if (kv.second.IsMap() && sub.has_field("patternProperties")) {  // resources.requests
      ASSERT_FALSE(sub.at("additionalProperties").as_bool()) << leaf;
      for (const auto& entry : kv.second) {
        const std::string name = leaf + "." + entry.first.as<std::string>();
        leaves->push_back(name);
        EXPECT_NE(readme.find("| `" + name + "` |"), std::string::npos)
            << name << " is not documented in charts/zkop/README.md";
      }
      continue;
    }
    leaves->push_back(leaf);
    EXPECT_NE(readme.find("| `" + leaf + "` |"), std::string::npos)
        << leaf << " is not documented in charts/zkop/README.md";
  }
}

TEST(ChartFilesTest, EveryValueIsTypedAndDocumented) {
  const YAML::Node values = YAML::LoadFile(kChart + "/values.yaml");
  const web::json::value schema = web::json::value::parse(ReadFile(kChart + "/values.schema.json"));
  EXPECT_EQ(schema.at("$schema").as_string(), "http://json-schema.org/draft-07/schema#");
  std::vector<std::string> leaves;
  CheckValues(values, schema, "", ReadFile(kChart + "/README.md"), &leaves);
  EXPECT_GT(leaves.size(), 40u);
  EXPECT_TRUE(Contains(leaves, "image.digest"));
  EXPECT_TRUE(Contains(leaves, "podMonitor.agents.podLabels"));
}

// --- lint -----------------------------------------------------------------------------------

TEST_F(ChartTest, LintStrictIsCleanWithDefaultAndNonDefaultValues) {
  const std::string custom = dir_.Path("custom.yaml");
  std::ofstream(custom) << R"(replicaCount: 2
image: {repository: registry.example/zkop/operator, digest: "sha256:)"
                        << std::string(64, 'b') << R"(", pullPolicy: Always}
imagePullSecrets: [{name: regcred}]
watchNamespaces: [team-a, team-b]
logFormat: text
logLevel: debug
serviceMonitor: {enabled: true, labels: {release: prom}}
podMonitor: {members: {enabled: true}, agents: {enabled: true}}
prometheusRule: {enabled: true}
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]
affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: []}}
priorityClassName: system-cluster-critical
extraArgs: ["--qps=50"]
extraEnv: [{name: TZ, value: UTC}]
)";
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"-f", custom}}) {
    std::vector<std::string> args = {"lint", "--strict", kChart};
    args.insert(args.end(), extra.begin(), extra.end());
    const HelmRun run = Helm(dir_, args);
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("1 chart(s) linted, 0 chart(s) failed"), std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("[WARNING]"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("[ERROR]"), std::string::npos) << run.output;
  }
}

// --- schema ---------------------------------------------------------------------------------

TEST_F(ChartTest, SchemaRefusesWrongTypesAndUnknownKeysNamingTheField) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--set", "replicaCount=three"},
       "- replicaCount: Invalid type. Expected: integer, given: string"},
      {{"--set", "replicaCount=3"}, "- replicaCount: Must be less than or equal to 2"},
      {{"--set", "replicas=2"}, "- (root): Additional property replicas is not allowed"},
      {{"--set", "image.tga=1.0"}, "- image: Additional property tga is not allowed"},
      {{"--set", "image.digest=sha256:xyz"}, "- image.digest: Does not match pattern"},
      {{"--set", "logFormat=xml"}, "- logFormat: logFormat must be one of the following"},
      {{"--set", "serviceMonitor.enabled=yes"},
       "- serviceMonitor.enabled: Invalid type. Expected: boolean, given: string"},
      {{"--set-json", R"(watchNamespaces=["Team_A"])"}, "- watchNamespaces.0: Does not match"},
      {{"--set-json", R"(tolerations=[{"key":"a","efect":"NoSchedule"}])"},
       "- tolerations.0: Additional property efect is not allowed"},
      {{"--set-json", R"(resources={"requests":{"gpu":1}})"},
       "- resources.requests: Additional property gpu is not allowed"},
      {{"--set-json", R"(extraEnv=[{"value":"x"}])"}, "- extraEnv.0: name is required"},
      {{"--set-json", R"(nodeSelector={"disk":1})"},
       "- nodeSelector.disk: Invalid type. Expected: string, given: integer"},
      {{"--set", "leaderElection.leaseDuration=15"},
       "- leaderElection.leaseDuration: Invalid type. Expected: string, given: integer"},
      {{"--set", "podMonitor.agents.podLabel=x"},
       "- podMonitor.agents: Additional property podLabel is not allowed"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = {"template", "zkop", kChart};
    argv.insert(argv.end(), args.begin(), args.end());
    const HelmRun run = Helm(dir_, argv);
    EXPECT_NE(run.status, 0) << args.back();
    EXPECT_NE(run.output.find("values don't meet the specifications of the schema"),
              std::string::npos)
        << args.back() << ": " << run.output;
    EXPECT_NE(run.output.find(message), std::string::npos) << args.back() << ": " << run.output;
  }
}

// --- render ---------------------------------------------------------------------------------

TEST_F(ChartTest, DefaultsRenderANonRootOperatorWithLeaderElectionAndClusterRbac) {
  const auto docs = Render();
  std::multiset<std::string> kinds;
  for (const auto& d : docs) kinds.insert(d["kind"].as<std::string>());
  EXPECT_EQ(kinds,
            (std::multiset<std::string>{"ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                        "Role", "RoleBinding", "Service", "Deployment"}));
  const auto deploys = OfKind(docs, "Deployment", "zkop");
  ASSERT_EQ(deploys.size(), 1u);
  const YAML::Node d = deploys[0];
  EXPECT_EQ(d["metadata"]["namespace"].as<std::string>(), "zkop-system");
  EXPECT_EQ(d["spec"]["replicas"].as<int>(), 1);
  const YAML::Node pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["serviceAccountName"].as<std::string>(), "zkop");
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
  EXPECT_EQ(pod["securityContext"]["runAsUser"].as<int>(), 65532);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"].as<std::string>(), "RuntimeDefault");
  ASSERT_EQ(pod["containers"].size(), 1u);
  const YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["image"].as<std::string>(), "zkop/operator:0.1.0");
  const YAML::Node sc = c["securityContext"];
  EXPECT_TRUE(sc["runAsNonRoot"].as<bool>());
  EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  EXPECT_EQ(Strings(sc["capabilities"]["drop"]), std::vector<std::string>{"ALL"});
  EXPECT_EQ(sc["seccompProfile"]["type"].as<std::string>(), "RuntimeDefault");
  const auto args = Strings(c["args"]);
  ASSERT_FALSE(args.empty());
  EXPECT_EQ(args[0], "run");
  for (const char* want : {"--leader-elect=true", "--leader-election-namespace=zkop-system",
                           "--log-format=json", "--metrics-address=[$(POD_IP)]:8080"})
    EXPECT_TRUE(Contains(args, want)) << want;
  for (const auto& a : args) EXPECT_NE(a.rfind("--namespace=", 0), 0u) << a;
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"].as<std::string>(), "metrics");
  EXPECT_EQ(c["ports"][0]["name"].as<std::string>(), "metrics");
  EXPECT_EQ(c["resources"]["limits"]["memory"].as<std::string>(), "256Mi");
  // RBAC: bound to the chart's ServiceAccount; nothing cluster-scoped, no wildcard, no
  // secrets beyond create/list/watch; the Lease rule only in the release namespace.
  const auto crb = OfKind(docs, "ClusterRoleBinding", "zkop");
  ASSERT_EQ(crb.size(), 1u);
  EXPECT_EQ(crb[0]["subjects"][0]["name"].as<std::string>(), "zkop");
  EXPECT_EQ(crb[0]["subjects"][0]["namespace"].as<std::string>(), "zkop-system");
  const auto rows = RuleRows(OfKind(docs, "ClusterRole", "zkop").at(0));
  for (const std::string& row : rows) {
    EXPECT_EQ(row.find('*'), std::string::npos) << row;
    EXPECT_EQ(row.find("leases"), std::string::npos) << row;
  }
  EXPECT_TRUE(Contains(rows, "|secrets|create|"));
  EXPECT_FALSE(Contains(rows, "|secrets|get|"));
  EXPECT_FALSE(Contains(rows, "|secrets|update|"));
  const auto le = OfKind(docs, "Role", "zkop-leader-election");
  ASSERT_EQ(le.size(), 1u);
  EXPECT_EQ(le[0]["metadata"]["namespace"].as<std::string>(), "zkop-system");
  EXPECT_EQ(RuleRows(le[0]),
            (std::vector<std::string>{"coordination.k8s.io|leases|create|",
                                      "coordination.k8s.io|leases|get|zkop-operator",
                                      "coordination.k8s.io|leases|update|zkop-operator"}));
  // The metrics Service selects exactly the operator's Pods.
  const auto svc = OfKind(docs, "Service", "zkop-metrics");
  ASSERT_EQ(svc.size(), 1u);
  for (const auto& kv : svc[0]["spec"]["selector"])
    EXPECT_EQ(
        d["spec"]["template"]["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>(""),
        kv.second.as<std::string>());
  EXPECT_EQ(svc[0]["spec"]["ports"][0]["targetPort"].as<std::string>(), "metrics");
}

TEST_F(ChartTest, WatchNamespacesGetOneRoleEachAndNoClusterRbac) {
  const auto cluster = Render();
  const auto docs = Render({"--set-json", R"(watchNamespaces=["team-a","team-b"])"});
  EXPECT_TRUE(OfKind(docs, "ClusterRole").empty());
  EXPECT_TRUE(OfKind(docs, "ClusterRoleBinding").empty());
  const auto cluster_rows = RuleRows(OfKind(cluster, "ClusterRole", "zkop").at(0));
  std::set<std::string> role_namespaces, binding_namespaces;
  for (const auto& role : OfKind(docs, "Role", "zkop")) {
    role_namespaces.insert(role["metadata"]["namespace"].as<std::string>());
    EXPECT_EQ(RuleRows(role), cluster_rows) << "the same rules as the ClusterRole";
  }
  for (const auto& b : OfKind(docs, "RoleBinding", "zkop")) {
    binding_namespaces.insert(b["metadata"]["namespace"].as<std::string>());
    EXPECT_EQ(b["roleRef"]["kind"].as<std::string>(), "Role");
    EXPECT_EQ(b["subjects"][0]["namespace"].as<std::string>(), "zkop-system");
  }
  EXPECT_EQ(role_namespaces, (std::set<std::string>{"team-a", "team-b"}));
  EXPECT_EQ(binding_namespaces, role_namespaces);
  EXPECT_EQ(OfKind(docs, "Role", "zkop-leader-election").size(), 1u);
  const auto args = Strings(
      OfKind(docs, "Deployment").at(0)["spec"]["template"]["spec"]["containers"][0]["args"]);
  EXPECT_TRUE(Contains(args, "--namespace=team-a"));
  EXPECT_TRUE(Contains(args, "--namespace=team-b"));
}

TEST_F(ChartTest, MonitorsAndRulesOnlyWhenEnabled) {
  const auto off = Render();
  for (const char* kind : {"ServiceMonitor", "PodMonitor", "PrometheusRule"})
    EXPECT_TRUE(OfKind(off, kind).empty()) << kind;
  const auto on =
      Render({"--set", "serviceMonitor.enabled=true", "--set", "podMonitor.members.enabled=true",
              "--set", "podMonitor.agents.enabled=true", "--set", "prometheusRule.enabled=true",
              "--set", "serviceMonitor.labels.release=prom"});
  const auto sm = OfKind(on, "ServiceMonitor", "zkop");
  ASSERT_EQ(sm.size(), 1u);
  EXPECT_EQ(sm[0]["metadata"]["labels"]["release"].as<std::string>(), "prom");
  const YAML::Node svc = OfKind(on, "Service", "zkop-metrics").at(0);
  for (const auto& kv : sm[0]["spec"]["selector"]["matchLabels"])
    EXPECT_EQ(svc["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>(""),
              kv.second.as<std::string>())
        << "the ServiceMonitor selects the metrics Service";
  EXPECT_EQ(sm[0]["spec"]["endpoints"][0]["port"].as<std::string>(),
            svc["spec"]["ports"][0]["name"].as<std::string>());
  EXPECT_TRUE(sm[0]["spec"]["endpoints"][0]["honorLabels"].as<bool>(false))
      << "the member series' namespace label must survive the scrape (the alerts read it)";
  const auto members = OfKind(on, "PodMonitor", "zkop-members");
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(
      members[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].as<std::string>(),
      "zookeeper");
  EXPECT_EQ(members[0]["spec"]["podMetricsEndpoints"][0]["targetPort"].as<int>(), 7000);
  EXPECT_TRUE(members[0]["spec"]["namespaceSelector"]["any"].as<bool>());
  const auto agents = OfKind(on, "PodMonitor", "zkop-agents");
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(
      agents[0]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"].as<std::string>(),
      "zkop-agent");
  EXPECT_EQ(agents[0]["spec"]["podMetricsEndpoints"][0]["port"].as<std::string>(), "metrics");
  // The PrometheusRule carries files/alerts.yaml's groups unchanged.
  const auto rule = OfKind(on, "PrometheusRule", "zkop");
  ASSERT_EQ(rule.size(), 1u);
  const YAML::Node file = YAML::LoadFile(kChart + "/files/alerts.yaml");
  EXPECT_EQ(Canonical(rule[0]["spec"]["groups"]), Canonical(file["groups"]));
  EXPECT_GT(rule[0]["spec"]["groups"].size(), 0u);
  // Watched namespaces confine the PodMonitors too.
  const auto scoped = Render(
      {"--set", "podMonitor.agents.enabled=true", "--set-json", R"(watchNamespaces=["team-a"])"});
  EXPECT_EQ(Strings(OfKind(scoped, "PodMonitor").at(0)["spec"]["namespaceSelector"]["matchNames"]),
            std::vector<std::string>{"team-a"});
}

TEST_F(ChartTest, DigestOverridesTagAndPodSettingsPassThrough) {
  auto image = [&](std::vector<std::string> args) {
    const auto docs = Render(std::move(args));
    return OfKind(docs, "Deployment")
        .at(0)["spec"]["template"]["spec"]["containers"][0]["image"]
        .as<std::string>("");
  };
  const std::string digest = "sha256:" + std::string(64, 'c');
  EXPECT_EQ(image({"--set", "image.tag=9.9.9"}), "zkop/operator:9.9.9");
  EXPECT_EQ(image({"--set", "image.tag=9.9.9", "--set", "image.digest=" + digest}),
            "zkop/operator@" + digest);
  const auto docs = Render(
      {"--set",
       "replicaCount=2",
       "--set",
       "priorityClassName=system-cluster-critical",
       "--set",
       "nodeSelector.disk=ssd",
       "--set-json",
       R"(imagePullSecrets=[{"name":"regcred"}])",
       "--set-json",
       R"(tolerations=[{"key":"dedicated","operator":"Exists"}])",
       "--set-json",
       R"(affinity={"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[]}})",
       "--set-json",
       R"(extraArgs=["--qps=50"])",
       "--set-json",
       R"(extraEnv=[{"name":"TZ","value":"UTC"}])",
       "--set",
       "serviceAccount.name=ops",
       "--set",
       "logFormat=text"});
  const YAML::Node d = OfKind(docs, "Deployment").at(0);
  EXPECT_EQ(d["spec"]["replicas"].as<int>(), 2);
  const YAML::Node pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["priorityClassName"].as<std::string>(), "system-cluster-critical");
  EXPECT_EQ(pod["nodeSelector"]["disk"].as<std::string>(), "ssd");
  EXPECT_EQ(pod["imagePullSecrets"][0]["name"].as<std::string>(), "regcred");
  EXPECT_EQ(pod["tolerations"][0]["key"].as<std::string>(), "dedicated");
  EXPECT_TRUE(pod["affinity"]["podAntiAffinity"].IsMap());
  EXPECT_EQ(pod["serviceAccountName"].as<std::string>(), "ops");
  EXPECT_EQ(OfKind(docs, "ServiceAccount").at(0)["metadata"]["name"].as<std::string>(), "ops");
  const YAML::Node c = pod["containers"][0];
  const auto args = Strings(c["args"]);
  EXPECT_TRUE(Contains(args, "--qps=50"));
  EXPECT_TRUE(Contains(args, "--log-format=text"));
  bool tz = false;
  for (const auto& e : c["env"]) tz |= e["name"].as<std::string>() == "TZ";
  EXPECT_TRUE(tz);
  // No ServiceAccount of its own: the binding names the one given, which must be set.
  const auto byo =
      Render({"--set", "serviceAccount.create=false", "--set", "serviceAccount.name=existing"});
  EXPECT_TRUE(OfKind(byo, "ServiceAccount").empty());
  EXPECT_EQ(OfKind(byo, "ClusterRoleBinding").at(0)["subjects"][0]["name"].as<std::string>(),
            "existing");
  const HelmRun missing =
      Helm(dir_, {"template", "zkop", kChart, "--set", "serviceAccount.create=false"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("serviceAccount.name is required"), std::string::npos)
      << missing.output;
}

}  // namespace
}  // namespace zkop::chart::testing
