// `kubectl create <kind>` generators send protobuf bodies (client-go's typed clients): each
// runs against zkop-devkube with a fresh --kubeconfig and --cache-dir, and the stored object
// is compared field by field with the object kubectl itself prints for the same command
// (`--dry-run=client -o json`, zero values omitted). `-v=8` shows that the request really was
// application/vnd.kubernetes.protobuf.
#include <unistd.h>

#include "cli_tool.h"
#include "devkube_test_env.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {
namespace {

const char* kKubectl = "/usr/bin/kubectl";

struct CreateCase {
  const char* label;
  std::vector<std::string> args;  // after "create"
  ResourceRef stored;
};

std::vector<CreateCase> Cases() {
  return {
      {"secret-generic",
       {"secret", "generic", "creds", "--from-literal=user=admin", "--from-literal=password=s3cr3t",
        "--type=zkop.io/digest"},
       {"", "v1", "secrets", "default", "creds", ""}},
      {"secret-docker-registry",
       {"secret", "docker-registry", "regcred", "--docker-server=registry.test",
        "--docker-username=u", "--docker-password=p"},
       {"", "v1", "secrets", "default", "regcred", ""}},
      {"configmap",
       {"configmap", "zoo", "--from-literal=zoo.cfg=tickTime=2000", "--from-literal=empty="},
       {"", "v1", "configmaps", "default", "zoo", ""}},
      {"namespace", {"namespace", "team-a"}, {"", "v1", "namespaces", "", "team-a", ""}},
      {"serviceaccount",
       {"serviceaccount", "zkop-operator"},
       {"", "v1", "serviceaccounts", "default", "zkop-operator", ""}},
      {"deployment",
       {"deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=8080"},
       {"apps", "v1", "deployments", "default", "web", ""}},
      {"role",
       {"role", "pod-reader", "--verb=get,list,watch", "--resource=pods,configmaps",
        "--resource-name=x"},
       {"rbac.authorization.k8s.io", "v1", "roles", "default", "pod-reader", ""}},
      {"rolebinding",
       {"rolebinding", "read-pods", "--role=pod-reader", "--serviceaccount=default:zkop-operator",
        "--user=alice"},
       {"rbac.authorization.k8s.io", "v1", "rolebindings", "default", "read-pods", ""}},
      {"clusterrole",
       {"clusterrole", "crd-reader", "--verb=get",
        "--resource=customresourcedefinitions.apiextensions.k8s.io", "--non-resource-url=/healthz"},
       {"rbac.authorization.k8s.io", "v1", "clusterroles", "", "crd-reader", ""}},
      {"clusterrolebinding",
       {"clusterrolebinding", "crd-read", "--clusterrole=crd-reader", "--group=devs"},
       {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "", "crd-read", ""}},
      {"pdb",
       {"poddisruptionbudget", "demo", "--selector=app.kubernetes.io/instance=demo",
        "--max-unavailable=1"},
       {"policy", "v1", "poddisruptionbudgets", "default", "demo", ""}},
      {"pdb-percent",
       {"poddisruptionbudget", "half", "--selector=app=zk", "--min-available=50%"},
       {"policy", "v1", "poddisruptionbudgets", "default", "half", ""}},
      {"service",
       {"service", "clusterip", "zk", "--tcp=2181:2181", "--tcp=80:http"},
       {"", "v1", "services", "default", "zk", ""}},
  };
}

class KubectlCreate : public DevkubeTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kKubectl, X_OK), 0)
        << kKubectl << " is missing: run scripts/install-deps.sh";
    DevkubeTest::SetUp();
    server_->WriteKubeconfig(dir_.Path("kubeconfig"));
  }

  ToolRun Kubectl(std::vector<std::string> args) {
    std::vector<std::string> argv = {kKubectl, "--kubeconfig", dir_.Path("kubeconfig"),
                                     "--cache-dir", dir_.Path("cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunTool(argv, {}, dir_.Path("run" + std::to_string(++runs_) + ".txt"));
  }

  zkop::testing::TempDir dir_{"devkube-kubectl-create"};
  int runs_ = 0;
};

TEST_F(KubectlCreate, GeneratorsStoreWhatKubectlMeant) {
  for (const CreateCase& c : Cases()) {
    SCOPED_TRACE(c.label);
    std::vector<std::string> dry = {"create"};
    dry.insert(dry.end(), c.args.begin(), c.args.end());
    std::vector<std::string> real = dry;
    dry.insert(dry.end(), {"--dry-run=client", "-o", "json"});
    real.push_back("-v=8");
    ToolRun printed = Kubectl(dry);
    ASSERT_EQ(printed.exit, 0) << printed.output;
    std::string error;
    std::optional<Json> meant = ParseJson(printed.output, &error);
    ASSERT_TRUE(meant) << error << "\n" << printed.output;

    ToolRun created = Kubectl(real);
    ASSERT_EQ(created.exit, 0) << created.output;
    EXPECT_NE(created.output.find(" created"), std::string::npos) << created.output;
    EXPECT_NE(created.output.find("Content-Type: application/vnd.kubernetes.protobuf"),
              std::string::npos)
        << "kubectl did not send protobuf:\n"
        << created.output;

    Result<Json> stored = server_->store().Get(c.stored);
    ASSERT_TRUE(stored.ok()) << stored.status.message;
    for (const std::string& d : MissingFields(stored.value, PruneZeros(*meant)))
      ADD_FAILURE() << "stored " << c.label << " differs at " << d << "\nstored "
                    << stored.value.serialize();
  }
  // Spot checks of the encodings that differ most from JSON.
  auto get = [&](ResourceRef ref) { return server_->store().Get(ref).value; };
  Json secret = get({"", "v1", "secrets", "default", "creds", ""});
  EXPECT_EQ(GetString(secret, {"data", "password"}), "czNjcjN0");
  EXPECT_EQ(GetString(secret, {"type"}), "zkop.io/digest");
  Json cm = get({"", "v1", "configmaps", "default", "zoo", ""});
  ASSERT_TRUE(cm["data"].has_field("empty"));  // a map keeps its empty values
  EXPECT_EQ(GetString(cm, {"data", "empty"}), "");
  Json svc = get({"", "v1", "services", "default", "zk", ""});
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"].as_integer(), 2181);
  EXPECT_EQ(svc["spec"]["ports"][1]["targetPort"].as_string(), "http");
  Json pdb = get({"policy", "v1", "poddisruptionbudgets", "default", "half", ""});
  EXPECT_EQ(GetString(pdb, {"spec", "minAvailable"}), "50%");
  Json deploy = get({"apps", "v1", "deployments", "default", "web", ""});
  EXPECT_EQ(deploy["spec"]["replicas"].as_integer(), 2);
  Json role = get({"rbac.authorization.k8s.io", "v1", "roles", "default", "pod-reader", ""});
  EXPECT_EQ(role["rules"][0]["apiGroups"].serialize(), R"([""])");
}

// Arbitrary bytes survive the protobuf bytes field -> base64 `data` round trip exactly.
TEST_F(KubectlCreate, BinarySecretRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  std::string file = dir_.Write("blob.bin", bytes);
  ToolRun created = Kubectl({"create", "secret", "generic", "blob", "--from-file=blob=" + file});
  ASSERT_EQ(created.exit, 0) << created.output;
  Result<Json> stored = server_->store().Get({"", "v1", "secrets", "default", "blob", ""});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(GetString(stored.value, {"data", "blob"}), Base64(bytes));
  ToolRun read = Kubectl({"get", "secret", "blob", "-o", "jsonpath={.data.blob}"});
  EXPECT_EQ(read.output, Base64(bytes));
}

}  // namespace
}  // namespace zkop::devkube::testing
