// zkop-devkube as "a real cluster" for unmodified kubectl: HTTPS with the generated CA, the
// admin's token, ServiceAccount tokens and RBAC, a Pod that talks to the API with its
// in-cluster ServiceAccount view, and Deployments rolled out by the in-process controllers
// with Pods the local pod runtime really runs. Every process is a Subprocess (reaped by the
// fixture); all traffic goes to 127.0.0.0/8.
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include "gtest/gtest.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::ReadFile;
using zkop::testing::Subprocess;
using zkop::testing::TempDir;

class DevkubeClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    devkube_ = std::make_unique<Subprocess>(
        std::vector<std::string>{ZKOP_DEVKUBE_BIN, "--listen", "127.0.0.1:0", "--kubeconfig-out",
                                 dir_.Path("kubeconfig"), "--pod-state-dir", dir_.Path("pods"),
                                 "--pod-backoff", "200ms"},
        dir_.Path("devkube.log"));
    for (int i = 0; i < 250 && ReadFile(dir_.Path("devkube.log")).find("zkop-devkube: serving") ==
                                   std::string::npos;
         ++i)
      std::this_thread::sleep_for(20ms);
  }
  void TearDown() override {
    devkube_->Signal(SIGTERM);
    auto status = devkube_->Wait(20s);
    EXPECT_TRUE(status && *status == 0) << ReadFile(dir_.Path("devkube.log"));
  }

  // Runs kubectl (fresh cache dir per test); its exit status, its output in Out().
  int Kubectl(std::vector<std::string> args, std::chrono::seconds timeout = 90s) {
    std::remove(dir_.Path("kubectl.log").c_str());
    std::vector<std::string> argv = {"/usr/bin/kubectl", "--kubeconfig", dir_.Path("kubeconfig"),
                                     "--cache-dir", dir_.Path("kube-cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess k(argv, dir_.Path("kubectl.log"));
    auto status = k.Wait(timeout);
    return status ? *status : -1;
  }
  std::string Out() { return ReadFile(dir_.Path("kubectl.log")); }
  std::string Apply(const std::string& yaml) {
    const std::string file = dir_.Write("manifest.yaml", yaml);
    EXPECT_EQ(Kubectl({"apply", "-f", file}), 0) << Out();
    return Out();
  }

  TempDir dir_{"devkube-cluster"};
  std::unique_ptr<Subprocess> devkube_;
};

// A real cluster's front door: `server: https://...` with certificate-authority-data (kubectl
// verifies the serving certificate against it), the admin authenticated by its token
// (`kubectl auth whoami`: SelfSubjectReview), an unknown token 401 Unauthorized, the
// kubeconfig readable by its owner only.
TEST_F(DevkubeClusterTest, KubectlOverHttpsWithTheGeneratedCa) {
  const std::string kubeconfig = ReadFile(dir_.Path("kubeconfig"));
  EXPECT_NE(kubeconfig.find("server: https://127.0.0.1:"), std::string::npos) << kubeconfig;
  EXPECT_NE(kubeconfig.find("certificate-authority-data: "), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(dir_.Path("kubeconfig").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(Kubectl({"get", "namespaces"}), 0) << Out();
  EXPECT_NE(Out().find("kube-system"), std::string::npos);
  ASSERT_EQ(Kubectl({"auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"}), 0) << Out();
  EXPECT_EQ(Out(), "kubernetes-admin");
  EXPECT_EQ(Kubectl({"--token", "not-a-token", "get", "pods"}), 1);
  EXPECT_NE(Out().find("Unauthorized"), std::string::npos) << Out();
  // Without the CA kubectl refuses the server, as with any real cluster.
  EXPECT_NE(Kubectl({"--certificate-authority", "/dev/null", "get", "pods"}), 0);
}

const char kReaderRbac[] = R"(apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-reads-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: default}
)";

// RBAC for a ServiceAccount: `kubectl auth can-i` (SelfSubjectAccessReview with
// Impersonate-User), and a Pod that reads its in-cluster view — KUBERNETES_SERVICE_HOST/PORT,
// /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace} — lists what its
// Role allows and gets the real 403 for the rest.
TEST_F(DevkubeClusterTest, PodSeesOnlyWhatItsRoleAllows) {
  Apply(kReaderRbac);
  ASSERT_EQ(Kubectl({"auth", "can-i", "list", "pods", "--as=system:serviceaccount:default:reader"}),
            0)
      << Out();
  EXPECT_EQ(Out(), "yes\n");
  EXPECT_EQ(
      Kubectl({"auth", "can-i", "list", "secrets", "--as=system:serviceaccount:default:reader"}),
      1);
  EXPECT_EQ(Out(), "no\n");
  const std::string sa = "/var/run/secrets/kubernetes.io/serviceaccount";
  const std::string kubectl_in_pod =
      "kubectl --server=https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT "
      "--certificate-authority=" +
      sa + "/ca.crt --token=\"$(cat " + sa +
      "/token)\" "
      "--cache-dir=\"$HOME/kube-cache\" -n \"$(cat " +
      sa + "/namespace)\"";
  const std::string mode_line = "      echo \"mode=$(stat -L -c %a " + sa + "/token)\"\n";
  Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: in-cluster}
spec:
  serviceAccountName: reader
  restartPolicy: Never
  containers:
  - name: main
    image: zkop.io/local-exec
    command:
    - sh
    - -c
    - |
      )" +
        kubectl_in_pod + R"( get pods -o name; echo "pods rc=$?"
      )" +
        kubectl_in_pod + R"( get secrets; echo "secrets rc=$?"
)" + mode_line);
  ASSERT_EQ(Kubectl({"wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/in-cluster",
                     "--timeout=60s"}),
            0)
      << Out() << ReadFile(dir_.Path("devkube.log"));
  ASSERT_EQ(Kubectl({"logs", "in-cluster"}), 0) << Out();
  const std::string log = Out();
  EXPECT_NE(log.find("pod/in-cluster\npods rc=0"), std::string::npos) << log;
  EXPECT_NE(log.find("Error from server (Forbidden): secrets is forbidden: User "
                     "\"system:serviceaccount:default:reader\" cannot list resource \"secrets\" "
                     "in API group \"\" in the namespace \"default\"\nsecrets rc=1"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("mode=600\n"), std::string::npos) << log;  // the token file's mode
  // automountServiceAccountToken: false — no files, but the service variables stay.
  Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: no-token}
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
  - name: main
    image: zkop.io/local-exec
    command: ["sh", "-c", "test -e /var/run/secrets/kubernetes.io/serviceaccount/token; echo token=$? host=$KUBERNETES_SERVICE_HOST"]
)");
  ASSERT_EQ(Kubectl({"wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/no-token",
                     "--timeout=60s"}),
            0)
      << Out();
  ASSERT_EQ(Kubectl({"logs", "no-token"}), 0);
  EXPECT_EQ(Out(), "token=1 host=127.0.0.1\n");
}

const char kWeb[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: zkop.io/local-exec
        command: ["sh", "-c", "echo version $VERSION; exec sleep 300"]
        env: [{name: VERSION, value: "1"}]
        readinessProbe: {exec: {command: ["true"]}, initialDelaySeconds: 1, periodSeconds: 1}
)";

// kubectl rollout status|history|undo|restart over a rolling update that the pod runtime
// really performs (RollingUpdate maxSurge 1, maxUnavailable 0: availability never drops below
// 2 while the old Pods are replaced), and the real `kubectl get deploy` columns.
TEST_F(DevkubeClusterTest, RolloutsWithRealPods) {
  Apply(kWeb);
  ASSERT_EQ(Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"}), 0) << Out();
  EXPECT_NE(Out().find("deployment \"web\" successfully rolled out"), std::string::npos);
  ASSERT_EQ(Kubectl({"get", "deploy", "web"}), 0);
  EXPECT_EQ(Out().substr(0, Out().find('\n')), "NAME   READY   UP-TO-DATE   AVAILABLE   AGE");
  EXPECT_NE(Out().find("web    2/2     2            2"), std::string::npos) << Out();
  ASSERT_EQ(Kubectl({"set", "env", "deploy/web", "VERSION=2"}), 0) << Out();
  Subprocess status({"/usr/bin/kubectl", "--kubeconfig", dir_.Path("kubeconfig"), "--cache-dir",
                     dir_.Path("kube-cache-2"), "rollout", "status", "deploy/web", "--timeout=90s"},
                    dir_.Path("rollout.log"));
  int min_available = 2, samples = 0;
  while (status.Running() && samples < 400) {
    if (Kubectl({"get", "deploy", "web", "-o", "jsonpath={.status.availableReplicas}"}) == 0 &&
        !Out().empty()) {
      min_available = std::min(min_available, std::stoi(Out()));
      ++samples;
    }
  }
  auto rc = status.Wait(90s);
  ASSERT_TRUE(rc && *rc == 0) << ReadFile(dir_.Path("rollout.log"));
  const std::string progress = ReadFile(dir_.Path("rollout.log"));
  EXPECT_NE(progress.find("Waiting for deployment \"web\" rollout to finish"), std::string::npos)
      << progress;
  EXPECT_NE(progress.find("deployment \"web\" successfully rolled out"), std::string::npos);
  EXPECT_GT(samples, 0);
  EXPECT_EQ(min_available, 2);  // maxUnavailable 0
  // Only new Pods are left, and they run the new environment.
  ASSERT_EQ(Kubectl({"get", "pods", "-l", "app=web", "-o", "name"}), 0);
  std::string pods = Out();
  EXPECT_EQ(std::count(pods.begin(), pods.end(), '\n'), 2) << pods;
  ASSERT_EQ(Kubectl({"logs", "deploy/web"}), 0) << Out();  // "Found 2 pods, using pod/..."
  EXPECT_NE(Out().find("\nversion 2\n"), std::string::npos) << Out();
  ASSERT_EQ(Kubectl({"rollout", "history", "deploy/web"}), 0);
  EXPECT_NE(Out().find("1         <none>\n2         <none>"), std::string::npos) << Out();
  // Undo: back to revision 1's ReplicaSet, which becomes revision 3.
  ASSERT_EQ(Kubectl({"rollout", "undo", "deploy/web"}), 0) << Out();
  ASSERT_EQ(Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"}), 0) << Out();
  ASSERT_EQ(Kubectl({"rollout", "history", "deploy/web"}), 0);
  EXPECT_NE(Out().find("2         <none>\n3         <none>"), std::string::npos) << Out();
  ASSERT_EQ(Kubectl({"logs", "deploy/web"}), 0) << Out();
  EXPECT_NE(Out().find("\nversion 1\n"), std::string::npos) << Out();
  ASSERT_EQ(Kubectl({"get", "rs", "-l", "app=web"}), 0);
  EXPECT_EQ(Out().substr(0, Out().find('\n')), "NAME             DESIRED   CURRENT   READY   AGE");
  // Restart: a new template (kubectl.kubernetes.io/restartedAt), revision 4.
  ASSERT_EQ(Kubectl({"rollout", "restart", "deploy/web"}), 0) << Out();
  ASSERT_EQ(Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"}), 0) << Out();
  ASSERT_EQ(Kubectl({"rollout", "history", "deploy/web"}), 0);
  EXPECT_NE(Out().find("4         <none>"), std::string::npos) << Out();
  // kubectl scale deploy goes through the scale subresource.
  ASSERT_EQ(Kubectl({"scale", "deploy/web", "--replicas=1"}), 0) << Out();
  ASSERT_EQ(Kubectl({"rollout", "status", "deploy/web", "--timeout=60s"}), 0) << Out();
  ASSERT_EQ(Kubectl({"get", "deploy", "web", "-o", "jsonpath={.status.replicas}"}), 0);
  EXPECT_EQ(Out(), "1");
}

}  // namespace
}  // namespace zkop::devkube::pods::testing
