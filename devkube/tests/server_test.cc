// ApiServer as a process component: bind conflicts, kubeconfig, state file, and the
// zkop-devkube program's start/stop contract.
#include <signal.h>

#include <fstream>
#include <thread>

#include "devkube_test_env.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {
namespace {

using ServerTest = DevkubeTest;

TEST_F(ServerTest, BindConflictIsNamed) {
  ApiServerOptions o;
  o.listen = host_ + ":" + std::to_string(server_->port());
  try {
    ApiServer second(o);
    FAIL() << "a second server bound " << o.listen;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(o.listen + " is already in use"), std::string::npos)
        << e.what();
  }
}

TEST_F(ServerTest, StateFileSurvivesRestart) {
  zkop::testing::TempDir dir("devkube-state");
  ApiServerOptions o;
  o.state_file = dir.Path("state.json");
  Start(o);
  InstallZkCrd();
  Reply cr = client().Post("/apis/zkop.io/v1alpha1/namespaces/default/zookeeperclusters",
                           Yaml("metadata: {name: demo}\nspec: {replicas: 5}"));
  ASSERT_EQ(cr.status, 201);
  Start(o);  // destroys the first server (final save), then loads the file
  Reply again = client().Get("/apis/zkop.io/v1alpha1/namespaces/default/zookeeperclusters/demo");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["spec"]["replicas"].as_integer(), 5);
  EXPECT_EQ(GetString(again.json, {"metadata", "uid"}), GetString(cr.json, {"metadata", "uid"}));
  Reply next = client().Post("/api/v1/namespaces/default/configmaps", Yaml("metadata: {name: n}"));
  EXPECT_GT(Rv(next.json), Rv(cr.json));
  // A corrupt state file is a named setup error.
  dir.Write("bad.json", "{not json");
  ApiServerOptions bad;
  bad.state_file = dir.Path("bad.json");
  bad.listen = host_ + ":0";
  EXPECT_THROW(
      {
        try {
          ApiServer s(bad);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("bad.json is not JSON"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
}

// The program prints its URL first, writes a kubeconfig, serves, and exits 0 on SIGTERM
// (plain HTTP here; HTTPS, the default, is covered with kubectl in auth_kubectl_test.cc).
TEST_F(ServerTest, ProgramServesAndStopsOnSigterm) {
  zkop::testing::TempDir dir("devkube-prog");
  std::string out = dir.Path("out.txt");
  zkop::testing::Subprocess p({ZKOP_DEVKUBE_BIN, "--no-pods", "--insecure-http", "--listen", host_ + ":0",
                               "--kubeconfig-out", dir.Path("kubeconfig")},
                              out);
  std::string first;
  for (int i = 0; i < 100 && first.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream in(out);  // stdout and stderr (log lines) share the file
    for (std::string line; std::getline(in, line);)
      if (line.rfind("zkop-devkube: serving", 0) == 0) first = line;
  }
  ASSERT_EQ(first.rfind("zkop-devkube: serving http://" + host_ + ":", 0), 0u) << first;
  uint16_t port = static_cast<uint16_t>(std::stoi(first.substr(first.rfind(':') + 1)));
  Client c(host_, port);
  EXPECT_EQ(c.Get("/api/v1/namespaces/default").status, 200);
  std::string kubeconfig = zkop::testing::ReadFile(dir.Path("kubeconfig"));
  EXPECT_NE(kubeconfig.find("server: http://" + host_ + ":" + std::to_string(port)),
            std::string::npos);
  EXPECT_NE(kubeconfig.find("namespace: default"), std::string::npos);
  p.Signal(SIGTERM);
  auto status = p.Wait(std::chrono::seconds(5));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
}

}  // namespace
}  // namespace zkop::devkube::testing

namespace zkop::devkube::testing {
namespace {

// Injected faults answer matching requests with a Status (429 with Retry-After here) for the
// given number of times, then the real answer resumes; every request is in the log.
TEST_F(ServerTest, InjectedFaultsAndRequestLog) {
  Fault f;
  f.method = "GET";
  f.path_prefix = "/api/v1/namespaces/default/configmaps";
  f.status = 429;
  f.retry_after_seconds = 2;
  f.times = 2;
  server_->InjectFault(f);
  const std::string cm = "/api/v1/namespaces/default/configmaps";
  Reply a = client().Get(cm);
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(GetString(a.json, {"reason"}), "TooManyRequests");
  EXPECT_EQ(a.json["details"]["retryAfterSeconds"].as_integer(), 2);
  EXPECT_EQ(client().Get(cm + "?limit=1").status, 429);
  EXPECT_EQ(client().Get(cm).status, 200);
  EXPECT_EQ(client().Get("/api/v1/namespaces").status, 200);
  Fault slow;
  slow.status = 0;
  slow.delay = std::chrono::milliseconds(300);
  server_->InjectFault(slow);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client().Get(cm).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  auto log = server_->RequestLog();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[1], "GET " + cm + "?limit=1");
}

}  // namespace
}  // namespace zkop::devkube::testing

namespace zkop::devkube::testing {
namespace {

// pods/log: served from the file the pod runtime names; container choice and tailLines as
// the kubelet answers them.
TEST_F(ServerTest, PodLogFromSource) {
  zkop::testing::TempDir dir("devkube-log");
  std::string file = dir.Write("a.log", "one\ntwo\nthree\n");
  server_->SetPodLogSource([&](const std::string& ns, const std::string& pod,
                               const std::string& container) -> std::optional<std::string> {
    if (ns == "default" && pod == "p" && container == "a") return file;
    return std::nullopt;
  });
  const std::string pods = "/api/v1/namespaces/default/pods";
  client().Post(pods, Yaml("metadata: {name: p}\nspec: {containers: [{name: a, image: i}, "
                           "{name: b, image: i}]}"));
  Reply all = client().Get(pods + "/p/log?container=a");
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.body, "one\ntwo\nthree\n");
  EXPECT_EQ(client().Get(pods + "/p/log?container=a&tailLines=2").body, "two\nthree\n");
  Reply which = client().Get(pods + "/p/log");
  EXPECT_EQ(which.status, 400);
  EXPECT_EQ(GetString(which.json, {"message"}),
            "a container name must be specified for pod p, choose one of: [a b]");
  Reply waiting = client().Get(pods + "/p/log?container=b");
  EXPECT_EQ(GetString(waiting.json, {"message"}),
            "container \"b\" in pod \"p\" is waiting to start: ContainerCreating");
  EXPECT_EQ(client().Get(pods + "/missing/log").status, 404);
}

}  // namespace
}  // namespace zkop::devkube::testing
