// Real Helm (3.17, installed by scripts/install-deps.sh; CMake passes its path) against
// zkop-devkube: install, upgrade, rollback and uninstall of fixtures/helm-chart (ConfigMap,
// Secret, Service, ServiceAccount, Role + RoleBinding, a Deployment without --wait, a CRD in
// crds/), with the Secrets storage driver and with HELM_DRIVER=configmap. Helm's typed client
// writes its release records as protobuf and deletes them with protobuf DeleteOptions.
// Helm runs with --kubeconfig and its own HELM_*_HOME directories in a temporary dir.
#include <unistd.h>

#include "cli_tool.h"
#include "devkube_test_env.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {
namespace {

const std::string kHelm = ZKOP_HELM;
const char* kNs = "default";

class HelmTest : public DevkubeTest {
 protected:
  void SetUp() override {
    // install-deps.sh guarantees Helm: its absence is a failure, not a skip.
    ASSERT_FALSE(kHelm.empty()) << "helm was not found at configure time: run "
                                   "scripts/install-deps.sh and re-run cmake";
    ASSERT_EQ(::access(kHelm.c_str(), X_OK), 0) << kHelm
                                                << " is missing: run "
                                                   "scripts/install-deps.sh";
    DevkubeTest::SetUp();
    server_->WriteKubeconfig(dir_.Path("kubeconfig"));
  }

  ToolRun Helm(std::vector<std::string> args, const std::string& driver = "secret") {
    std::vector<std::string> argv = {kHelm, "--kubeconfig", dir_.Path("kubeconfig"), "--namespace",
                                     kNs};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = {"HELM_CACHE_HOME=" + dir_.Path("helm/cache"),
                                    "HELM_CONFIG_HOME=" + dir_.Path("helm/config"),
                                    "HELM_DATA_HOME=" + dir_.Path("helm/data"),
                                    "HELM_DRIVER=" + driver,
                                    // No network: nothing may reach a registry or repository.
                                    "HELM_NO_PLUGINS=1"};
    return RunTool(argv, env, dir_.Path("helm" + std::to_string(++runs_) + ".txt"),
                   std::chrono::seconds(120));
  }

  Result<Json> Get(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& ns = kNs) {
    return server_->store().Get({group, "v1", resource, ns, name, ""});
  }

  // Names of the objects of `resource` in the namespace.
  std::vector<std::string> Names(const std::string& group, const std::string& resource,
                                 const std::string& label_selector = "") {
    ListOptions o;
    o.label_selector = label_selector;
    Result<Json> list = server_->store().List({group, "v1", resource, kNs, "", ""}, o);
    std::vector<std::string> out;
    if (list.ok())
      for (const Json& item : list.value["items"].as_array())
        out.push_back(GetString(item, {"metadata", "name"}));
    return out;
  }

  std::string Message() {
    Result<Json> cm = Get("", "configmaps", "probe-config");
    return cm.ok() ? GetString(cm.value, {"data", "message"}) : "<no configmap>";
  }

  // Every object the chart's templates make (the CRD in crds/ is Helm's to keep).
  void ExpectReleaseObjects(bool present) {
    for (auto [group, resource, name] :
         {std::tuple<std::string, std::string, std::string>{"", "configmaps", "probe-config"},
          {"", "secrets", "probe-secret"},
          {"", "services", "probe-client"},
          {"", "serviceaccounts", "probe-sa"},
          {"rbac.authorization.k8s.io", "roles", "probe-role"},
          {"rbac.authorization.k8s.io", "rolebindings", "probe-rolebinding"},
          {"apps", "deployments", "probe-app"}})
      EXPECT_EQ(Get(group, resource, name).ok(), present) << resource << "/" << name;
  }

  static std::string Chart() {
    return std::string(ZKOP_SOURCE_DIR) + "/devkube/tests/fixtures/helm-chart";
  }

  zkop::testing::TempDir dir_{"devkube-helm"};
  int runs_ = 0;
};

TEST_F(HelmTest, InstallUpgradeRollbackUninstallWithSecretsDriver) {
  ToolRun install = Helm({"install", "probe", Chart()});
  ASSERT_EQ(install.exit, 0) << install.output;
  EXPECT_NE(install.output.find("STATUS: deployed"), std::string::npos) << install.output;
  ExpectReleaseObjects(true);
  EXPECT_EQ(Message(), "hello");
  Result<Json> secret = Get("", "secrets", "probe-secret");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(GetString(secret.value, {"data", "password"}), "czNjcjN0");
  Result<Json> svc = Get("", "services", "probe-client");
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(svc.value["spec"]["ports"][0]["targetPort"].as_string(), "client");
  EXPECT_TRUE(server_->store()
                  .Get({"apiextensions.k8s.io", "v1", "customresourcedefinitions", "",
                        "widgets.probe.zkop.io", ""})
                  .ok());
  // The release record: a protobuf-written Secret with Helm's labels and its gzip+base64
  // payload (base64 again in `data`).
  Result<Json> record = Get("", "secrets", "sh.helm.release.v1.probe.v1");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(GetString(record.value, {"type"}), "helm.sh/release.v1");
  EXPECT_EQ(GetString(record.value, {"metadata", "labels", "status"}), "deployed");
  EXPECT_FALSE(GetString(record.value, {"data", "release"}).empty());

  ToolRun upgrade = Helm({"upgrade", "probe", Chart(), "--set", "message=bye"});
  ASSERT_EQ(upgrade.exit, 0) << upgrade.output;
  EXPECT_EQ(Message(), "bye");
  // The superseded record was updated (PUT with a protobuf body).
  Result<Json> v1 = Get("", "secrets", "sh.helm.release.v1.probe.v1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(GetString(v1.value, {"metadata", "labels", "status"}), "superseded");

  ToolRun rollback = Helm({"rollback", "probe", "1"});
  ASSERT_EQ(rollback.exit, 0) << rollback.output;
  EXPECT_EQ(Message(), "hello");
  ToolRun history = Helm({"history", "probe"});
  ASSERT_EQ(history.exit, 0) << history.output;
  EXPECT_NE(history.output.find("Rollback to 1"), std::string::npos) << history.output;
  EXPECT_EQ(Names("", "secrets", "owner=helm").size(), 3u);

  ToolRun uninstall = Helm({"uninstall", "probe"});
  ASSERT_EQ(uninstall.exit, 0) << uninstall.output;
  EXPECT_NE(uninstall.output.find("release \"probe\" uninstalled"), std::string::npos);
  ExpectReleaseObjects(false);
  EXPECT_TRUE(Names("", "secrets", "owner=helm").empty());  // no release records left
  EXPECT_TRUE(Names("", "secrets").empty());
  EXPECT_TRUE(Names("", "configmaps").empty());
  ToolRun list = Helm({"list", "--all"});
  EXPECT_EQ(list.exit, 0) << list.output;
  EXPECT_EQ(list.output.find("probe"), std::string::npos) << list.output;
  // Helm never deletes what crds/ installed (its documented CRD policy).
  EXPECT_TRUE(server_->store()
                  .Get({"apiextensions.k8s.io", "v1", "customresourcedefinitions", "",
                        "widgets.probe.zkop.io", ""})
                  .ok());
}

TEST_F(HelmTest, ConfigMapDriverLeavesNothingBehind) {
  ToolRun install = Helm({"install", "probe", Chart(), "--set", "deployment=false"}, "configmap");
  ASSERT_EQ(install.exit, 0) << install.output;
  EXPECT_EQ(Names("", "configmaps", "owner=helm"),
            std::vector<std::string>{"sh.helm.release.v1.probe.v1"});
  ToolRun upgrade =
      Helm({"upgrade", "probe", Chart(), "--set", "deployment=false,message=bye"}, "configmap");
  ASSERT_EQ(upgrade.exit, 0) << upgrade.output;
  EXPECT_EQ(Message(), "bye");
  ToolRun rollback = Helm({"rollback", "probe", "1"}, "configmap");
  ASSERT_EQ(rollback.exit, 0) << rollback.output;
  EXPECT_EQ(Message(), "hello");
  EXPECT_EQ(Names("", "configmaps", "owner=helm").size(), 3u);
  ToolRun uninstall = Helm({"uninstall", "probe"}, "configmap");
  ASSERT_EQ(uninstall.exit, 0) << uninstall.output;
  EXPECT_TRUE(Names("", "configmaps").empty());
  EXPECT_TRUE(Names("", "secrets").empty());
  EXPECT_TRUE(Names("", "services").empty());
}

}  // namespace
}  // namespace zkop::devkube::testing
