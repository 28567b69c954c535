// Python's official Kubernetes client (Debian's python3-kubernetes, installed by
// scripts/install-deps.sh) against zkop-devkube as a program: devkube/tests/fixtures/
// python_client_watch.py loads the generated kubeconfig (HTTPS, the CA as
// certificate-authority-data, the admin token), lists namespaces, reads /version/
// (VersionApi().get_code()) and watches ConfigMaps with watch.Watch().stream(), which sends
// `watch=True` — a Go boolean spelling (strconv.ParseBool) the real server accepts. The test
// creates ConfigMaps while the watch runs; each must arrive as an ADDED event. A missing
// python3-kubernetes fails the test (install-deps guarantees it), it is not skipped.
#include <unistd.h>

#include "devkube_program_fixture.h"

namespace zkop::devkube::testing {
namespace {

using namespace std::chrono_literals;

// Debian's interpreter, where python3-kubernetes lives (a python3 earlier on PATH, e.g. a
// pyenv shim, would not see Debian's dist-packages).
const std::string kPython = "/usr/bin/python3";
const std::string kScript =
    std::string(ZKOP_SOURCE_DIR) + "/devkube/tests/fixtures/python_client_watch.py";

class PythonClientTest : public DevkubeProgramFixture {
 protected:
  // The API alone: no Pods are needed.
  PythonClientTest() : DevkubeProgramFixture("devkube-python", {"--no-pods"}) {}

  std::string Script() const { return zkop::testing::ReadFile(dir_.Path("python.log")); }
  bool ScriptSays(const std::string& line) const {
    return Script().find("\n" + line + "\n") != std::string::npos;
  }
};

TEST_F(PythonClientTest, ListsReadsVersionAndWatchesWithWatchTrue) {
  ASSERT_EQ(::access(kPython.c_str(), X_OK), 0) << kPython << " is missing";
  ASSERT_EQ(::access(kScript.c_str(), R_OK), 0) << kScript;
  zkop::testing::SubprocessOptions o;
  o.argv = {kPython, kScript, Kubeconfig(), "default", "py-watch-1", "py-watch-2"};
  // No stray .pyc next to the fixture; no user site-packages instead of Debian's.
  o.env = {"PYTHONDONTWRITEBYTECODE=1", "PYTHONNOUSERSITE=1"};
  o.output_file = dir_.Path("python.log");
  zkop::testing::Subprocess python(o);

  // The script prints "watching" just before it opens the watch from its list's
  // resourceVersion, so a ConfigMap created from here on must come as an ADDED event.
  ASSERT_TRUE(WaitFor([&] { return ScriptSays("watching") || !python.Running(); }, 30s))
      << Script();
  ASSERT_TRUE(ScriptSays("watching")) << "python3-kubernetes client failed:\n" << Script();
  EXPECT_NE(Script().find("namespaces: default kube-node-lease kube-public kube-system\n"),
            std::string::npos)
      << Script();
  EXPECT_NE(Script().find("version: v1.32.0"), std::string::npos) << Script();

  ASSERT_EQ(Kubectl({"create", "configmap", "py-watch-1", "--from-literal=k=one"}), 0) << Out();
  ASSERT_TRUE(WaitFor([&] { return ScriptSays("ADDED py-watch-1 one") || !python.Running(); }, 20s))
      << Script();
  // The second is created only once the first was delivered: the watch is certainly open, so
  // this one travels as a live event rather than from the watch history.
  ASSERT_EQ(Kubectl({"create", "configmap", "py-watch-2", "--from-literal=k=two"}), 0) << Out();
  auto status = python.Wait(40s);  // the script's own watch ends after timeoutSeconds=30
  ASSERT_TRUE(status.has_value()) << "the watch did not end:\n" << Script();
  EXPECT_EQ(*status, 0) << Script();
  EXPECT_TRUE(ScriptSays("event ADDED V1ConfigMap py-watch-1")) << Script();
  EXPECT_TRUE(ScriptSays("ADDED py-watch-2 two")) << Script();
  EXPECT_TRUE(ScriptSays("done")) << Script();
}

}  // namespace
}  // namespace zkop::devkube::testing
