// Real Helm 3.17 (scripts/install-deps.sh; CMake passes its path) with `--wait` against
// zkop-devkube as a program, whose controllers turn the chart's Deployment into ReplicaSets and
// Pods and whose pod runtime really runs them (image zkop.io/local-exec, an exec readiness
// probe). Chart: devkube/tests/fixtures/helm-chart-wait — Deployment, Service, ConfigMap,
// ServiceAccount + Role + RoleBinding, a CRD in crds/.
//
// What Helm 3's --wait reads (pkg/kube/ready.go): a Deployment is ready when
// status.observedGeneration == metadata.generation and its *new* ReplicaSet (the one whose
// template equals the Deployment's, ignoring pod-template-hash) has readyReplicas >= replicas -
// maxUnavailable; a ClusterIP Service when it has a clusterIP; a CRD when Established.
// `uninstall --wait` polls until every release object is NotFound. The chart uses
// maxUnavailable 0, so when helm returns every replica of the new ReplicaSet must be Ready.
//
// Helm runs with --kubeconfig (HTTPS, the generated CA, the admin token) and its own
// HELM_*_HOME directories in the test's temporary dir; nothing leaves 127.0.0.0/8.
#include <unistd.h>

#include <sstream>

#include "devkube_program_fixture.h"

namespace zkop::devkube::testing {
namespace {

using namespace std::chrono_literals;

const std::string kHelm = ZKOP_HELM;
const std::string kChart = std::string(ZKOP_SOURCE_DIR) + "/devkube/tests/fixtures/helm-chart-wait";
const std::string kInstance = "app.kubernetes.io/instance=wait";

struct ReplicaSet {
  std::string name, replicas, ready, revision;
};
struct Pod {
  std::string name, ready, deleting;
};

std::vector<std::vector<std::string>> Rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> row;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '|');) row.push_back(cell);
    row.resize(4);
    rows.push_back(row);
  }
  return rows;
}

class HelmWaitTest : public DevkubeProgramFixture {
 protected:
  HelmWaitTest() : DevkubeProgramFixture("devkube-helm-wait") {}

  void SetUp() override {
    // install-deps.sh guarantees Helm: its absence is a failure, not a skip.
    ASSERT_FALSE(kHelm.empty()) << "helm was not found at configure time: run "
                                   "scripts/install-deps.sh and re-run cmake";
    ASSERT_EQ(::access(kHelm.c_str(), X_OK), 0) << kHelm
                                                << " is missing: run "
                                                   "scripts/install-deps.sh";
    DevkubeProgramFixture::SetUp();
  }

  // Runs helm (≤ 150 s: every --wait below is bounded by --timeout 120s); exit status or -1.
  int Helm(std::vector<std::string> args) {
    const std::string log = dir_.Path("helm" + std::to_string(++helm_runs_) + ".log");
    zkop::testing::SubprocessOptions o;
    o.argv = {kHelm, "--kubeconfig", Kubeconfig(), "--namespace", "default"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {"HELM_CACHE_HOME=" + dir_.Path("helm/cache"),
             "HELM_CONFIG_HOME=" + dir_.Path("helm/config"),
             "HELM_DATA_HOME=" + dir_.Path("helm/data"), "HELM_DRIVER=secret", "HELM_NO_PLUGINS=1"};
    o.output_file = log;
    zkop::testing::Subprocess helm(o);
    auto status = helm.Wait(150s);
    helm_out_ = zkop::testing::ReadFile(log);
    return status ? *status : -1;
  }

  std::vector<ReplicaSet> ReplicaSets() {
    std::vector<ReplicaSet> out;
    for (auto& r : Rows(KubectlOut(
             {"get", "rs", "-o",
              "jsonpath={range .items[*]}{.metadata.name}|{.spec.replicas}|{.status.readyReplicas}|"
              "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}{\"\\n\"}{end}"})))
      out.push_back({r[0], r[1], r[2], r[3]});
    return out;
  }
  std::vector<Pod> Pods() {
    std::vector<Pod> out;
    for (auto& r : Rows(KubectlOut(
             {"get", "pods", "-l", kInstance, "-o",
              "jsonpath={range .items[*]}{.metadata.name}|{.status.conditions[?(@.type==\"Ready\")]"
              ".status}|{.metadata.deletionTimestamp}{\"\\n\"}{end}"})))
      out.push_back({r[0], r[1], r[2]});
    return out;
  }
  // The ReplicaSet scaled to `replicas` with that many Ready, named in the result.
  std::string ActiveReplicaSet(const std::vector<ReplicaSet>& sets) {
    std::string active;
    for (const ReplicaSet& rs : sets)
      if (rs.replicas != "0") {
        EXPECT_TRUE(active.empty()) << "two active ReplicaSets: " << active << ", " << rs.name;
        EXPECT_EQ(rs.replicas, "2") << rs.name;
        EXPECT_EQ(rs.ready, "2") << rs.name;
        active = rs.name;
      }
    return active;
  }
  // Exactly two Pods, both owned by `rs` (named <rs>-xxxxx), Ready and not terminating.
  bool OnlyReadyPodsOf(const std::string& rs) {
    std::vector<Pod> pods = Pods();
    if (pods.size() != 2) return false;
    for (const Pod& p : pods)
      if (p.name.rfind(rs + "-", 0) != 0 || p.ready != "True" || !p.deleting.empty()) return false;
    return true;
  }
  std::string PodsText() {
    std::string s;
    for (const Pod& p : Pods())
      s += p.name + " ready=" + p.ready + " deleting=" + p.deleting + "\n";
    return s;
  }
  std::string Available() {
    return KubectlOut({"get", "deploy", "wait-app", "-o",
                       "jsonpath={.status.conditions[?(@.type==\"Available\")].status}"});
  }
  bool Exists(const std::string& what) { return Kubectl({"get", what, "-o", "name"}) == 0; }

  // After helm returned: every replica of the active ReplicaSet is Ready (what --wait waited
  // for), the old Pods go within their grace period (helm does not wait for them, nor does a
  // real cluster's rollout: they terminate after the new ones are available), the Deployment
  // reports Available, and its Pods run the version and message they were given.
  void ExpectRolledOutTo(const std::string& rs, const std::string& log_line) {
    for (const Pod& p : Pods())
      if (p.name.rfind(rs + "-", 0) == 0) {
        EXPECT_EQ(p.ready, "True") << p.name;
      }
    EXPECT_TRUE(WaitFor([&] { return OnlyReadyPodsOf(rs); }, 30s)) << PodsText();
    // The Deployment controller writes the Deployment's status right after the ReplicaSet's
    // (which is what helm read): allow it that moment.
    EXPECT_TRUE(WaitFor([&] { return Available() == "True"; }, 5s)) << Available();
    EXPECT_EQ(KubectlOut({"get", "deploy", "wait-app", "-o",
                          "jsonpath={.status.updatedReplicas}/{.status.readyReplicas}/"
                          "{.status.availableReplicas}"}),
              "2/2/2");
    std::string logs = KubectlOut({"logs", "deploy/wait-app"});
    EXPECT_NE(logs.find(log_line), std::string::npos) << logs;
  }

  std::string helm_out_;
  int helm_runs_ = 0;
};

TEST_F(HelmWaitTest, InstallUpgradeRollbackUninstallWaitForRealPods) {
  // install --wait: Helm creates the CRD (and waits for Established), then the templates, then
  // polls until the Deployment's new ReplicaSet has every replica Ready.
  ASSERT_EQ(Helm({"install", "wait", kChart, "--wait", "--timeout", "120s"}), 0)
      << helm_out_ << DevkubeLog();
  EXPECT_NE(helm_out_.find("STATUS: deployed"), std::string::npos) << helm_out_;
  std::vector<ReplicaSet> sets = ReplicaSets();
  ASSERT_EQ(sets.size(), 1u) << KubectlOut({"get", "rs"});
  const std::string first = ActiveReplicaSet(sets);
  EXPECT_EQ(sets[0].revision, "1");
  ASSERT_FALSE(first.empty());
  ExpectRolledOutTo(first, "version 1 says hello");
  EXPECT_NE(KubectlOut({"get", "svc", "wait-svc", "-o", "jsonpath={.spec.clusterIP}"}), "");
  for (const char* object : {"configmap/wait-config", "serviceaccount/wait-sa", "role/wait-role",
                             "rolebinding/wait-rolebinding", "crd/gadgets.wait.zkop.io"})
    EXPECT_TRUE(Exists(object)) << object << ": " << Out();
  EXPECT_EQ(KubectlOut({"get", "pods", "-l", kInstance, "-o",
                        "jsonpath={.items[0].spec.serviceAccountName}"}),
            "wait-sa");

  // upgrade --wait with a new version: a new ReplicaSet (revision 2) rolled out, the first
  // scaled to 0 and its Pods gone.
  ASSERT_EQ(Helm({"upgrade", "wait", kChart, "--set", "version=2,message=bye", "--wait",
                  "--timeout", "120s"}),
            0)
      << helm_out_ << DevkubeLog();
  sets = ReplicaSets();
  ASSERT_EQ(sets.size(), 2u) << KubectlOut({"get", "rs"});
  const std::string second = ActiveReplicaSet(sets);
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  for (const ReplicaSet& rs : sets) EXPECT_EQ(rs.revision, rs.name == first ? "1" : "2");
  ExpectRolledOutTo(second, "version 2 says bye");
  EXPECT_EQ(KubectlOut({"get", "configmap", "wait-config", "-o", "jsonpath={.data.message}"}),
            "bye");

  // rollback --wait to revision 1: the first ReplicaSet's template again, so the Deployment
  // controller scales that ReplicaSet back up (its revision becomes 3) and the second down.
  ASSERT_EQ(Helm({"rollback", "wait", "1", "--wait", "--timeout", "120s"}), 0)
      << helm_out_ << DevkubeLog();
  sets = ReplicaSets();
  ASSERT_EQ(sets.size(), 2u) << KubectlOut({"get", "rs"});
  EXPECT_EQ(ActiveReplicaSet(sets), first);
  for (const ReplicaSet& rs : sets) EXPECT_EQ(rs.revision, rs.name == first ? "3" : "2");
  ExpectRolledOutTo(first, "version 1 says hello");
  ASSERT_EQ(Helm({"history", "wait"}), 0) << helm_out_;
  EXPECT_NE(helm_out_.find("Rollback to 1"), std::string::npos) << helm_out_;
  EXPECT_EQ(KubectlOut({"get", "secrets", "-l", "owner=helm,name=wait", "-o", "name"}),
            "secret/sh.helm.release.v1.wait.v1\nsecret/sh.helm.release.v1.wait.v2\n"
            "secret/sh.helm.release.v1.wait.v3\n");

  // uninstall --wait: helm polls until every release object is NotFound. The ReplicaSets and
  // Pods are the garbage collector's (owner references), and Pods take their grace period.
  ASSERT_EQ(Helm({"uninstall", "wait", "--wait", "--timeout", "120s"}), 0)
      << helm_out_ << DevkubeLog();
  EXPECT_NE(helm_out_.find("release \"wait\" uninstalled"), std::string::npos) << helm_out_;
  for (const char* object :
       {"deployment/wait-app", "service/wait-svc", "configmap/wait-config",
        "serviceaccount/wait-sa", "role/wait-role", "rolebinding/wait-rolebinding"})
    EXPECT_FALSE(Exists(object)) << object << " survived: " << Out();
  EXPECT_EQ(KubectlOut({"get", "secrets", "-o", "name", "--ignore-not-found"}),
            "");  // no release records
  EXPECT_TRUE(WaitFor(
      [&] {
        return KubectlOut({"get", "pods", "-o", "name", "--ignore-not-found"}).empty();
      },
      30s))
      << KubectlOut({"get", "pods"});
  EXPECT_EQ(KubectlOut({"get", "rs", "-o", "name", "--ignore-not-found"}), "");
  EXPECT_EQ(KubectlOut({"get", "roles,rolebindings,services", "-o", "name", "--ignore-not-found"}),
            "");
  // What the cluster itself keeps in every namespace, and nothing else.
  EXPECT_EQ(KubectlOut({"get", "configmaps,serviceaccounts", "-o", "name"}),
            "configmap/kube-root-ca.crt\nserviceaccount/default\n");
  ASSERT_EQ(Helm({"list", "--all", "-q"}), 0) << helm_out_;
  EXPECT_EQ(helm_out_, "");
  // Helm never deletes what crds/ installed (its documented CRD policy).
  EXPECT_TRUE(Exists("crd/gadgets.wait.zkop.io")) << Out();
}

}  // namespace
}  // namespace zkop::devkube::testing
