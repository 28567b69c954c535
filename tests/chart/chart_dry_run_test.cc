// The rendered chart against the API's own validation: `kubectl apply --dry-run=server` of
// `helm template` output on zkop-devkube (HTTPS, RBAC, no pod runtime needed). The monitors'
// kinds need prometheus-operator's CRDs, which are not available offline: minimal stand-ins
// (fixtures/monitoring-crds.yaml) with the same group, names and typed fields are registered.
#include <fstream>

#include "chart_tools.h"
#include "devkube_program_fixture.h"

namespace zkop::chart::testing {
namespace {

class ChartDryRunTest : public zkop::devkube::testing::DevkubeProgramFixture {
 protected:
  ChartDryRunTest() : DevkubeProgramFixture("zkop-chart-dry-run", {"--no-pods"}) {}
  void SetUp() override {
    RequireHelm();
    DevkubeProgramFixture::SetUp();
  }
  // `helm template` with `args` into a file; its path.
  std::string RenderToFile(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {"template", "zkop", kChart, "--namespace", "zkop-system"};
    argv.insert(argv.end(), args.begin(), args.end());
    const HelmRun run = Helm(dir_, argv);
    EXPECT_EQ(run.status, 0) << run.output;
    const std::string file = dir_.Path(name);
    std::ofstream(file) << run.output;
    return file;
  }
};

TEST_F(ChartDryRunTest, RenderedManifestsPassServerSideDryRun) {
  ASSERT_EQ(Kubectl({"apply", "-f", kChart + "/crds/"}), 0) << Out();
  ASSERT_EQ(Kubectl({"apply", "-f", kSourceDir + "/tests/chart/fixtures/monitoring-crds.yaml"}), 0)
      << Out();
  for (const char* ns : {"zkop-system", "team-a", "team-b"})
    ASSERT_EQ(Kubectl({"create", "namespace", ns}), 0) << Out();
  const std::vector<std::string> monitoring = {
      "--set", "serviceMonitor.enabled=true",    "--set", "podMonitor.members.enabled=true",
      "--set", "podMonitor.agents.enabled=true", "--set", "prometheusRule.enabled=true"};
  std::vector<std::string> scoped = monitoring;
  scoped.insert(scoped.end(), {"--set-json", R"(watchNamespaces=["team-a","team-b"])", "--set",
                               "replicaCount=2"});
  for (const auto& [name, args] :
       {std::pair<std::string, std::vector<std::string>>{"cluster.yaml", monitoring},
        {"scoped.yaml", scoped}}) {
    const std::string file = RenderToFile(name, args);
    ASSERT_EQ(Kubectl({"apply", "--dry-run=server", "-f", file}), 0) << name << ": " << Out();
    const std::string out = Out();
    for (const char* object :
         {"serviceaccount/zkop created (server dry run)", "deployment.apps/zkop created",
          "service/zkop-metrics created", "role.rbac.authorization.k8s.io/zkop-leader-election",
          "servicemonitor.monitoring.coreos.com/zkop created",
          "podmonitor.monitoring.coreos.com/zkop-agents created",
          "prometheusrule.monitoring.coreos.com/zkop created"})
      EXPECT_NE(out.find(object), std::string::npos) << name << ": " << object << "\n" << out;
  }
  // A dry run stores nothing.
  ASSERT_EQ(Kubectl({"get", "deploy,sa,svc,role", "-n", "zkop-system", "-o", "name"}), 0) << Out();
  EXPECT_EQ(Out().find("zkop"), std::string::npos) << Out();
  // The stand-in CRDs are strict where they type a field: a monitor the API must refuse is
  // refused (the dry run above is not vacuous).
  const std::string bad = dir_.Path("bad.yaml");
  std::ofstream(bad) << "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n"
                        "  name: bad\n  namespace: zkop-system\nspec:\n  selector: {}\n"
                        "  endpoints: [{port: metrics, interval: soon}]\n";
  EXPECT_NE(Kubectl({"apply", "--dry-run=server", "-f", bad}), 0);
  EXPECT_NE(Out().find("spec.endpoints[0].interval"), std::string::npos) << Out();
}

}  // namespace
}  // namespace zkop::chart::testing
