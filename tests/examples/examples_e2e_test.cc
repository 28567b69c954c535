// The manifests of examples/ applied as a user applies them: zkop-devkube (API + pod runtime)
// runs the operator's ZooKeeper Pods and the examples' Pods (zkop/demo-provider and
// zkop/agent from the pod runtime's image table); kubectl applies the files themselves; the
// registrations are read from the ensemble with zkop's ZooKeeper client, the agents'
// endpoints at their Pod addresses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <cpprest/http_client.h>

#include "../operator/operator_env.h"
#include "zkop/dubbo/url_encode.h"
#include "zkop/kube/resource.h"
#include "zkop/zk/client.h"

namespace zkop::op::testing {
namespace {

namespace res = kube::resources;

constexpr const char* kDemoService = "org.apache.dubbo.demo.DemoService";
constexpr const char* kOrderService = "com.example.orders.OrderService";
constexpr const char* kBillingService = "com.example.billing.BillingService";

std::string Example(const std::string& relative) {
  return std::string(ZKOP_SOURCE_DIR) + "/examples/" + relative;
}

// True when something accepts TCP connections on ip:port.
bool Listens(const std::string& ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = inet_pton(AF_INET, ip.c_str(), &a.sin_addr) == 1 &&
                  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
};

HttpAnswer HttpGet(const std::string& ip, int port, const std::string& path) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(5));
    web::http::client::http_client c("http://" + ip + ":" + std::to_string(port), cfg);
    web::http::http_response r = c.request(web::http::methods::GET, path).get();
    return {r.status_code(), r.extract_string(true).get()};
  } catch (const std::exception&) {
    return {};
  }
}

class ExamplesTest : public OperatorEnv {
 protected:
  void TearDown() override {
    zk_.reset();
    OperatorEnv::TearDown();
  }

  // The ensemble the examples register into: examples/cluster.yaml's cluster "demo" with one
  // member and small JVMs (ClusterYaml) — the examples need a serving ensemble, not three
  // members, and one JVM keeps the test within its time on two cores. The 3-member file
  // itself is checked by the dry run below and run by the operator's e2e tests.
  void StartEnsemble() {
    StartOperator("main");
    Apply(ClusterYaml("demo", 1));
    ASSERT_TRUE(WaitReady("demo", 120s)) << Explain("demo");
    ASSERT_TRUE(Get(res::ConfigMaps(), "demo-discovery").has_value());
    zk::ClientOptions o;
    o.connect = MemberConnectString("demo", 1);
    o.session_timeout = 10s;
    zk_ = std::make_unique<zk::Client>(o);
    ASSERT_TRUE(zk_->Connect(20s).ok()) << o.connect;
  }

  void ApplyFile(const std::string& relative) {
    std::string out;
    ASSERT_EQ(Kubectl({"apply", "-f", Example(relative)}, &out), 0) << out;
  }

  // The live (not terminating) Pods of app.kubernetes.io/name=`app`.
  std::vector<Json> Pods(const std::string& app) {
    kube::ListOptions o;
    o.label_selector = "app.kubernetes.io/name=" + app;
    auto list = client_->List(res::Pods(), "default", o);
    std::vector<Json> out;
    if (!list.ok()) return out;
    for (const auto& p : list.value().at("items").as_array()) {
      if (!p.at("metadata").has_field("deletionTimestamp")) out.push_back(p);
    }
    return out;
  }

  static std::string Name(const Json& pod) { return pod.at("metadata").at("name").as_string(); }
  static std::string Ip(const Json& pod) {
    return pod.has_field("status") && pod.at("status").has_field("podIP")
               ? pod.at("status").at("podIP").as_string()
               : "";
  }
  static bool Ready(const Json& pod) {
    if (!pod.has_field("status") || !pod.at("status").has_field("conditions")) return false;
    for (const auto& c : pod.at("status").at("conditions").as_array()) {
      if (c.at("type").as_string() == "Ready") return c.at("status").as_string() == "True";
    }
    return false;
  }

  // The provider URLs registered for `interface` (decoded node names); *ok false when the
  // registry could not be read.
  std::vector<std::string> Providers(const std::string& interface, bool* ok = nullptr) {
    const auto got = zk_->GetChildren("/dubbo/" + interface + "/providers");
    if (ok) *ok = got.status.ok() || got.status.code() == zk::Error::kNoNode;
    std::vector<std::string> urls;
    for (const auto& child : got.children) {
      std::string url;
      if (dubbo::UrlDecode(child, &url)) urls.push_back(url);
    }
    return urls;
  }

  // The registry hosts ("ip:port") of `interface`'s registrations.
  std::set<std::string> Registered(const std::string& interface, bool* ok = nullptr) {
    std::set<std::string> out;
    for (const auto& url : Providers(interface, ok)) {
      const std::string prefix = "dubbo://";
      if (url.rfind(prefix, 0) != 0) continue;
      out.insert(url.substr(prefix.size(), url.find('/', prefix.size()) - prefix.size()));
    }
    return out;
  }

  std::string AgentLog(const std::string& pod) {
    std::string out;
    Kubectl({"logs", pod, "-c", "zkop-agent"}, &out);
    return out;
  }

  std::string ExplainPods(const std::string& app) {
    std::string out;
    Kubectl({"get", "pods", "-l", "app.kubernetes.io/name=" + app, "-o", "wide"}, &out);
    for (const auto& p : Pods(app)) {
      out += "\n--- " + Name(p) + " status: " + p.at("status").serialize().substr(0, 3000);
      out += "\n--- agent log:\n" + AgentLog(Name(p));
    }
    return out;
  }

  std::unique_ptr<zk::Client> zk_;
};

TEST_F(ExamplesTest, EveryManifestPassesServerSideDryRun) {
  std::vector<std::string> files;
  for (const char* dir : {"", "demo/"}) {
    for (const auto& e : std::filesystem::directory_iterator(Example(dir))) {
      if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 4u);  // cluster, dubbo-provider, demo/shop, demo/shop-fixed
  for (const auto& file : files) {
    std::string out;
    EXPECT_EQ(Kubectl({"apply", "--dry-run=server", "-f", file}, &out), 0) << file << "\n" << out;
    EXPECT_NE(out.find("(server dry run)"), std::string::npos) << file << "\n" << out;
  }
  // A dry run writes nothing.
  EXPECT_FALSE(Get(res::ConfigMaps(), "demo-provider-agent").has_value());
  EXPECT_FALSE(Get(res::Deployments(), "demo-provider").has_value());
  // And the server does check: the cluster example with a wrong field type is refused by
  // the CRD's schema.
  std::string broken = zkop::testing::ReadFile(Example("cluster.yaml"));
  const std::string replicas = "  replicas: 3\n";
  ASSERT_NE(broken.find(replicas), std::string::npos);
  broken.replace(broken.find(replicas), replicas.size(), "  replicas: three\n");
  std::string out;
  EXPECT_NE(Kubectl({"apply", "--dry-run=server", "-f", "-"}, &out, broken), 0) << out;
  EXPECT_NE(out.find("spec.replicas"), std::string::npos) << out;
}

TEST_F(ExamplesTest, DubboProviderRegistersScalesAndDeregistersBeforeTheProviderStops) {
  StartEnsemble();
  ApplyFile("dubbo-provider.yaml");
  std::vector<Json> pods;
  ASSERT_TRUE(WaitFor(
      [&] {
        pods = Pods("demo-provider");
        return pods.size() == 1 && Ready(pods[0]);
      },
      60s))
      << ExplainPods("demo-provider");
  const std::string ip = Ip(pods[0]);
  // The provider's node, with the Pod's address (POD_IP from the downward API).
  ASSERT_TRUE(WaitFor([&] { return Registered(kDemoService).count(ip + ":20880") == 1; }, 20s))
      << ExplainPods("demo-provider");
  ASSERT_EQ(Providers(kDemoService).size(), 1u);
  const std::string url = Providers(kDemoService).front();
  EXPECT_NE(url.find("application=demo-provider"), std::string::npos) << url;
  EXPECT_NE(url.find("version=1.0.0"), std::string::npos) << url;
  // The agent's endpoint at the Pod address: ready, and metrics a PodMonitor can scrape.
  const HttpAnswer ready = HttpGet(ip, 9464, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(HttpGet(ip, 9464, "/healthz").status, 200);
  const HttpAnswer metrics = HttpGet(ip, 9464, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("zkop_agent_registrations{state=\"registered\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("zkop_agent_zk_session_up 1"), std::string::npos);
  std::string promtool;
  EXPECT_EQ(Promtool(metrics.body, &promtool), 0) << promtool;
  const auto port = pods[0].at("spec").at("containers").at(1).at("ports").at(0);
  EXPECT_EQ(port.at("name").as_string(), "metrics");
  EXPECT_EQ(pods[0].at("metadata").at("labels").at("app.kubernetes.io/component").as_string(),
            "zkop-agent");

  // Two replicas: two registrations, one per Pod address.
  std::string out;
  ASSERT_EQ(Kubectl({"scale", "deploy", "demo-provider", "--replicas", "2"}, &out), 0) << out;
  std::set<std::string> expected;
  ASSERT_TRUE(WaitFor(
      [&] {
        pods = Pods("demo-provider");
        expected.clear();
        for (const auto& p : pods) expected.insert(Ip(p) + ":20880");
        return pods.size() == 2 && Registered(kDemoService) == expected;
      },
      60s))
      << ExplainPods("demo-provider");

  // Delete: every registration goes while its provider still serves (the agent deregisters
  // on SIGTERM at once; the provider's preStop holds its SIGTERM back), then the providers
  // stop. A consumer that reads the registry never finds a closed port.
  ASSERT_EQ(Kubectl({"delete", "deploy", "demo-provider", "--wait=false"}, &out), 0) << out;
  std::set<std::string> gone, served_after_gone;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (gone.size() < expected.size() && std::chrono::steady_clock::now() < deadline) {
    bool read = false;
    const auto now = Registered(kDemoService, &read);
    for (const auto& hp : expected) {
      if (!read) break;  // an unreadable registry says nothing about what is gone
      if (now.count(hp) || gone.count(hp)) continue;
      gone.insert(hp);
      const std::string host = hp.substr(0, hp.find(':'));
      if (Listens(host, 20880)) served_after_gone.insert(hp);
    }
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(gone, expected) << "registrations left: " << Providers(kDemoService).size();
  EXPECT_EQ(served_after_gone, expected)
      << "a provider had stopped before its registration was removed";
  ASSERT_TRUE(WaitFor(
      [&] {
        kube::ListOptions o;
        o.label_selector = "app.kubernetes.io/name=demo-provider";
        auto list = client_->List(res::Pods(), "default", o);
        return list.ok() && list.value().at("items").size() == 0;
      },
      40s))
      << ExplainPods("demo-provider");
  for (const auto& hp : expected) {
    EXPECT_FALSE(Listens(hp.substr(0, hp.find(':')), 20880)) << hp << " still listens";
  }
  EXPECT_TRUE(Providers(kDemoService).empty());
}

TEST_F(ExamplesTest, ShopDemoNamesTheConflictThenTheFixRegistersBoth) {
  StartEnsemble();
  ApplyFile("demo/shop.yaml");
  std::vector<Json> pods;
  std::string ip, pod;
  // orders binds 20880 and is registered; billing cannot bind it.
  ASSERT_TRUE(WaitFor(
      [&] {
        pods = Pods("shop");
        if (pods.size() != 1 || Ip(pods[0]).empty()) return false;
        ip = Ip(pods[0]);
        pod = Name(pods[0]);
        return Registered(kOrderService).count(ip + ":20880") == 1;
      },
      60s))
      << ExplainPods("shop");
  // The conflict, in `kubectl logs` and in /metrics.
  std::string log;
  ASSERT_TRUE(WaitFor(
      [&] {
        log = AgentLog(pod);
        return log.find("port conflict") != std::string::npos;
      },
      20s))
      << log;
  EXPECT_NE(log.find("port 20880 is claimed by"), std::string::npos) << log;
  EXPECT_NE(log.find("only application orders could bind it"), std::string::npos) << log;
  EXPECT_NE(log.find("billing"), std::string::npos) << log;
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet(ip, 9464, "/metrics").body;
        return metrics.find("zkop_agent_port_conflicts 1") != std::string::npos;
      },
      20s))
      << metrics;
  EXPECT_NE(metrics.find("zkop_agent_registrations{state=\"conflict\"} 1"), std::string::npos)
      << metrics;
  EXPECT_TRUE(Registered(kBillingService).empty());
  // billing's own log (its latest run: a restart may have just begun) says why it is gone.
  std::string out;
  EXPECT_TRUE(WaitFor(
      [&] {
        Kubectl({"logs", pod, "-c", "billing"}, &out);
        return out.find("cannot bind") != std::string::npos;
      },
      20s))
      << out;

  // The fix: billing on 20881. The Deployment rolls; the new Pod's agent registers both.
  ApplyFile("demo/shop-fixed.yaml");
  std::string new_ip;
  ASSERT_TRUE(WaitFor(
      [&] {
        pods = Pods("shop");
        if (pods.size() != 1 || Name(pods[0]) == pod || !Ready(pods[0])) return false;
        new_ip = Ip(pods[0]);
        return Registered(kOrderService) == std::set<std::string>{new_ip + ":20880"} &&
               Registered(kBillingService) == std::set<std::string>{new_ip + ":20881"};
      },
      90s))
      << ExplainPods("shop");
  metrics = HttpGet(new_ip, 9464, "/metrics").body;
  EXPECT_NE(metrics.find("zkop_agent_port_conflicts 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("zkop_agent_registrations{state=\"registered\"} 2"), std::string::npos)
      << metrics;
  EXPECT_EQ(AgentLog(Name(pods[0])).find("port conflict"), std::string::npos);
}

}  // namespace
}  // namespace zkop::op::testing
