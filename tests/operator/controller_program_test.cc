// The `zkop-operator run` program against the devkube emulator: health endpoints, readiness
// after sync, /metrics accepted by promtool, leader election on the Lease, SIGTERM → exit 0
// with the Lease released; bad flags → exit 2 with a precise message.
#include <signal.h>

#include <cpprest/http_client.h>
#include <prometheus/text_serializer.h>

#include "controller_test_env.h"
#include "zkop/testing/loopback.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::op::testing {
namespace {

using zkop::testing::ReadFile;
using zkop::testing::Subprocess;
using zkop::testing::TempDir;

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
};

Reply HttpGet(int port, const std::string& path) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(5));
    web::http::client::http_client c("http://127.0.0.1:" + std::to_string(port), cfg);
    web::http::http_response r = c.request(web::http::methods::GET, path).get();
    return {r.status_code(), r.extract_string(true).get()};
  } catch (const std::exception&) {
    return {};
  }
}

class ControllerProgramTest : public OperatorEnv {
 protected:
  int Run(std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), ZKOP_OPERATOR_BIN);
    Subprocess p(args, tmp_.Path(log));
    auto status = p.Wait(30s);
    return status ? *status : -1000;
  }
  // `promtool check metrics` on `text`: its exit status (its output in promtool.log).
  int Promtool(const std::string& text) {
    const std::string file = tmp_.Write("metrics.txt", text);
    Subprocess promtool({"/bin/sh", "-c", "promtool check metrics < " + file},
                        tmp_.Path("promtool.log"));
    auto status = promtool.Wait(60s);
    return status ? *status : -1000;
  }
  TempDir tmp_{"operator-program"};
};

TEST_F(ControllerProgramTest, RunsServesHealthAndMetricsAndReleasesTheLeaseOnSigterm) {
  const int port = zkop::testing::PickFreePort("127.0.0.1");
  const std::string kubeconfig = tmp_.Path("kubeconfig");
  server_.WriteKubeconfig(kubeconfig, "default");
  Subprocess op({ZKOP_OPERATOR_BIN, "run", "--kubeconfig", kubeconfig, "--metrics-address",
                 "127.0.0.1:" + std::to_string(port), "--leader-election-lease-duration", "4s",
                 "--leader-election-renew-deadline", "2s", "--leader-election-retry-period",
                 "500ms", "--log-format", "json", "--concurrency", "3"},
                tmp_.Path("operator.log"));
  auto log = [&] { return ReadFile(tmp_.Path("operator.log")); };

  ASSERT_TRUE(WaitUntil([&] { return HttpGet(port, "/healthz").status == 200; }, 20s)) << log();
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(port, "/readyz").status == 200; }, 20s)) << log();
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = client_->Get(kube::resources::Leases(), "default", "zkop-operator");
        return r.ok() && !r.value().at("spec").at("holderIdentity").as_string().empty();
      },
      20s))
      << log();
  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return log().find("default/demo") != std::string::npos; }, 20s))
      << log();

  Reply metrics = HttpGet(port, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* name :
       {"zkop_operator_build_info{version=", "zkop_operator_reconcile_total{result=\"success\"}",
        "zkop_operator_reconcile_duration_seconds_bucket", "zkop_operator_workqueue_depth",
        "zkop_operator_workqueue_adds_total", "zkop_operator_workqueue_retries_total",
        "zkop_operator_api_requests_total{code=\"200\",verb=\"list\"}",
        "\nzkop_operator_leader 1\n"}) {
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name << "\n" << metrics.body;
  }
  EXPECT_EQ(Promtool(metrics.body), 0) << ReadFile(tmp_.Path("promtool.log")) << metrics.body;

  ASSERT_TRUE(op.Signal(SIGTERM));
  EXPECT_EQ(op.Wait(30s), 0) << log();
  auto lease = client_->Get(kube::resources::Leases(), "default", "zkop-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease.value().at("spec").at("holderIdentity").as_string(), "") << log();
  EXPECT_NE(log().find("\"msg\":\"stopped\""), std::string::npos) << log();
}

// The cluster-level families only have series once the cluster logic sets them: check every
// family, populated, with promtool too.
TEST_F(ControllerProgramTest, EveryMetricFamilyPassesPromtool) {
  OperatorMetrics m("0.1.0");
  m.ObserveReconcile(ReconcileOutcome::Result::kSuccess, 0.1);
  m.SetQueueDepth(1);
  m.IncQueueAdds();
  m.IncQueueRetries();
  m.ObserveApiRequest("patch", "409");
  m.SetLeader(true);
  m.SetClusterPhase("default", "demo", "Running");
  m.SetMembers("default", "demo", {{"leader", true}, {"follower", false}});
  m.IncLeaderElections("default", "demo");
  std::string text = prometheus::TextSerializer().Serialize(m.registry()->Collect());
  for (const char* family : {"zkop_operator_clusters", "zkop_operator_members",
                             "zkop_operator_leader_elections_total"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_EQ(Promtool(text), 0) << ReadFile(tmp_.Path("promtool.log")) << text;
}

TEST_F(ControllerProgramTest, HelpVersionAndBadFlags) {
  EXPECT_EQ(Run({"--version"}, "version.log"), 0);
  EXPECT_NE(ReadFile(tmp_.Path("version.log")).find("zkop-operator "), std::string::npos);
  EXPECT_EQ(Run({"run", "--help"}, "help.log"), 0);
  EXPECT_NE(ReadFile(tmp_.Path("help.log")).find("--leader-election-renew-deadline"),
            std::string::npos);

  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"run", "--concurrency", "0"}, "--concurrency: expected 1 to 64, found 0"},
      {{"run", "--leader-election-lease-duration", "soon"},
       "--leader-election-lease-duration: expected a positive duration like 15s or 500ms, "
       "found \"soon\""},
      {{"run", "--leader-election-renew-deadline", "20s"},
       "--leader-election-renew-deadline (20s) must be shorter than "
       "--leader-election-lease-duration (15s)"},
      {{"run", "--metrics-address", "nowhere"}, "--metrics-address: expected host:port"},
      {{"run", "--log-format", "xml"}, "--log-format: expected text or json, found \"xml\""},
      {{"run", "--qps", "0"}, "--qps: expected a number above 0"},
      {{"run", "--no-such-flag"}, "no-such-flag"},
      {{"run", "--leader-elect=maybe"}, "leader-elect"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Run(c.args, "bad.log"), 2) << c.args.back();
    std::string out = ReadFile(tmp_.Path("bad.log"));
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
    std::remove(tmp_.Path("bad.log").c_str());
  }
  EXPECT_EQ(Run({"frobnicate"}, "cmd.log"), 2);
}

TEST_F(ControllerProgramTest, AnUnreadableKubeconfigIsARuntimeError) {
  EXPECT_EQ(Run({"run", "--kubeconfig", tmp_.Path("missing"), "--metrics-address", "127.0.0.1:0"},
                "kc.log"),
            1);
  EXPECT_NE(ReadFile(tmp_.Path("kc.log")).find("missing"), std::string::npos)
      << ReadFile(tmp_.Path("kc.log"));
}

}  // namespace
}  // namespace zkop::op::testing
