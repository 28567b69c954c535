// Dubbo 3 application-level discovery against a real ensemble, read back the way a Dubbo 3
// consumer reads it: /dubbo/mapping/<interface> -> application names -> /services/<app>
// instances -> dubbo.metadata.revision -> /dubbo/metadata/<app>/<revision> (storage-type
// remote). The revision and the metadata report are checked byte for byte against the JDK
// running Dubbo 3.3's MetadataInfo revision path (shared/dubbo/tests/DubboReference.java).
#include <gtest/gtest.h>

#include <set>
#include <sstream>
// cpprest defines a macro U; include it after gtest.
#include <cpprest/json.h>

#include "harness.h"
#include "java_reference.h"
#include "zkop/dubbo/metadata.h"
#include "zkop/dubbo/url_encode.h"
#include "zkop/testing/loopback.h"

namespace zkop::agent::testing {
namespace {

using namespace std::chrono_literals;
using zkop::testing::TempDir;

constexpr const char* kIface = "org.apache.dubbo.demo.DemoService";

class AgentDubbo3 : public SharedEnsembleTest {
 protected:
  void SetUp() override {
    suffix_ = UniqueSuffix();
    root_ = "/dubbo-d3-" + suffix_;
    services_ = "/services-d3-" + suffix_;
    client_ = Connect(ensemble_->ConnectString());
  }

  struct Agent {
    std::string addr;
    int metrics_port = 0;
    std::string config;
  };
  // An agent config for `app` on its own loopback address.
  Agent Config(const std::string& mode, const std::string& app, const std::string& addr, int port) {
    Agent a;
    a.addr = addr;
    a.metrics_port = zkop::testing::PickFreePort(addr);
    std::ostringstream y;
    y << "zookeeper:\n  connect: " << ensemble_->ConnectString()
      << "\n  sessionTimeout: 4s\n  root: " << root_ << "\n  servicesRoot: " << services_
      << "\napplication: " << app << "\nhost: " << addr
      << "\nprobeInterval: 200ms\nverifyInterval: 1s\nregisterMode: " << mode
      << "\nmetricsAddress: " << addr << ":" << a.metrics_port
      << "\nservices:\n  - interface: " << kIface
      << "\n    version: 1.0.0\n    methods: [sayHello]\n    port: " << port << "\n";
    a.config = dir_.Write(app + "-" + mode + ".yaml", y.str());
    return a;
  }

  std::string InstancePath(const std::string& app, const std::string& addr, int port) const {
    return services_ + "/" + app + "/" + addr + ":" + std::to_string(port);
  }
  std::string MappingPath() const { return root_ + "/mapping/" + kIface; }
  std::string Data(const std::string& path) {
    auto r = client_->Get(path);
    return r.status.ok() ? r.data : "";
  }
  int64_t Owner(const std::string& path) {  // -1 when absent
    auto r = client_->Exists(path);
    return r.status.ok() ? r.stat.ephemeral_owner : -1;
  }
  std::set<std::string> MappedApps() {
    auto apps = dubbo::MappingApplications(Data(MappingPath()));
    return {apps.begin(), apps.end()};
  }
  double MetricOf(const Agent& a, const std::string& series) {
    return Metric(HttpGet(a.addr, a.metrics_port, "/metrics"), series);
  }
  // Waits until the agent has run `rounds` more probe rounds (its sync histogram's count).
  bool Rounds(const Agent& a, int rounds) {
    double start = MetricOf(a, "zkop_agent_sync_duration_seconds_count");
    return Eventually(
        [&] { return MetricOf(a, "zkop_agent_sync_duration_seconds_count") >= start + rounds; },
        15s);
  }

  // What a consumer reads, checked: the instance's revision names a metadata report whose
  // content the JDK computes (Dubbo's path) from the provider URL's parameters.
  void ExpectConsumerView(const std::string& app, const std::string& instance_path,
                          const std::map<std::string, std::string>& url_params, int port) {
    auto instance = web::json::value::parse(Data(instance_path));
    auto metadata = instance.at("payload").at("metadata");
    EXPECT_EQ(metadata.at("dubbo.metadata.storage-type").as_string(), "remote");
    EXPECT_EQ(metadata.at("meta-v").as_string(), "1.0.0");
    auto params =
        web::json::value::parse(metadata.at("dubbo.metadata-service.url-params").as_string());
    EXPECT_EQ(params.at("version").as_string(), "1.0.0");
    EXPECT_EQ(params.at("port").as_string(), std::to_string(port));
    std::string revision = metadata.at("dubbo.metadata.revision").as_string();
    std::string report_path = root_ + "/metadata/" + app + "/" + revision;
    std::string report = Data(report_path);
    EXPECT_EQ(Owner(report_path), 0) << "the metadata report is persistent";
    EXPECT_EQ(Owner(MappingPath()), 0) << "the mapping is persistent";
    auto info = web::json::value::parse(report);
    EXPECT_EQ(info.at("app").as_string(), app);
    EXPECT_EQ(info.at("revision").as_string(), revision);
    auto service = info.at("services").at(std::string(kIface) + ":1.0.0:dubbo");
    EXPECT_EQ(service.at("port").as_integer(), port);
    if (!dubbo::testing::JavaAvailable()) return;
    std::string input = "APP " + dubbo::testing::Hex(app) + "\nSERVICE " +
                        dubbo::testing::Hex(kIface) + " " + dubbo::testing::Hex("") + " " +
                        dubbo::testing::Hex("1.0.0") + " " + dubbo::testing::Hex("dubbo") + " " +
                        std::to_string(port) + " " + dubbo::testing::Hex(kIface) + "\n";
    for (const auto& [k, v] : url_params) {
      input += dubbo::testing::Hex(k) + " " + dubbo::testing::Hex(v) + "\n";
    }
    auto java = dubbo::testing::RunJava({"metadata"}, input);
    ASSERT_EQ(java.size(), 3u);
    EXPECT_EQ(revision, java[1]);
    EXPECT_EQ(report, dubbo::testing::Unhex(java[2]));
  }

  // `check --json`'s document (the output also holds the log lines of stderr).
  web::json::value CheckJson(const Agent& a) {
    RunResult check = RunToEnd(dir_, {AgentBinary(), "check", "--config", a.config, "--json"});
    EXPECT_EQ(check.status, 0) << check.output;
    std::istringstream lines(check.output);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("{\"services\"", 0) == 0) return web::json::value::parse(line);
    }
    ADD_FAILURE() << "no JSON document in: " << check.output;
    return web::json::value::object();
  }

  // The parameters of the provider URL the agent registers (registerMode all shows it).
  std::map<std::string, std::string> UrlParams(const std::string& node_name) {
    std::string url;
    EXPECT_TRUE(dubbo::UrlDecode(node_name, &url));
    std::map<std::string, std::string> params;
    std::istringstream q(url.substr(url.find('?') + 1));
    for (std::string kv; std::getline(q, kv, '&');) {
      params[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
    }
    return params;
  }

  TempDir dir_{"agent-d3"};
  std::string suffix_, root_, services_;
  std::unique_ptr<zk::Client> client_;
};

TEST_F(AgentDubbo3, AllModeWritesWhatAConsumerFollows) {
  std::string addr = zkop::testing::PickLoopbackAddress({});
  FakeProvider provider(dir_, "demo-provider", addr, 0);
  ASSERT_TRUE(provider.bound()) << provider.output();
  Agent a = Config("all", "demo-provider", addr, provider.port());
  AgentProcess agent(dir_, a.config);
  std::string instance = InstancePath("demo-provider", addr, provider.port());
  std::string providers = root_ + "/" + kIface + "/providers";
  ASSERT_TRUE(Eventually([&] {
    return Owner(instance) > 0 && Children(*client_, providers).size() == 1;
  })) << agent.Log();
  EXPECT_EQ(MappedApps(), std::set<std::string>{"demo-provider"});
  ExpectConsumerView("demo-provider", instance, UrlParams(Children(*client_, providers)[0]),
                     provider.port());
  EXPECT_EQ(MetricOf(a, "zkop_agent_metadata_writes_total{node=\"report\"}"), 1);
  EXPECT_EQ(MetricOf(a, "zkop_agent_yielded_instances"), 0);

  // check reads the instance node and knows it for the agent's own.
  auto view = CheckJson(a).at("services").at(0).at("instance");
  EXPECT_EQ(view.at("state").as_string(), "agent");
  EXPECT_EQ(view.at("path").as_string(), instance);

  // The provider stops: its instance goes; the persistent records stay (as Dubbo's do).
  provider.Stop();
  ASSERT_TRUE(Eventually([&] { return Owner(instance) == -1; }, 5s)) << agent.Log();
  EXPECT_EQ(MappedApps(), std::set<std::string>{"demo-provider"});
}

TEST_F(AgentDubbo3, InstanceModeWritesNoInterfaceNodes) {
  std::string addr = zkop::testing::PickLoopbackAddress({});
  FakeProvider provider(dir_, "demo-provider", addr, 0);
  Agent a = Config("instance", "demo-provider", addr, provider.port());
  AgentProcess agent(dir_, a.config);
  std::string instance = InstancePath("demo-provider", addr, provider.port());
  ASSERT_TRUE(Eventually([&] { return Owner(instance) > 0; })) << agent.Log();
  EXPECT_TRUE(Children(*client_, root_ + "/" + kIface + "/providers").empty());
  EXPECT_EQ(MappedApps(), std::set<std::string>{"demo-provider"});
  // The same services give the same revision as in registerMode all (pid and timestamp are
  // not part of it): the parameters of the URL the agent would register.
  std::map<std::string, std::string> params = {
      {"anyhost", "false"},    {"application", "demo-provider"},
      {"deprecated", "false"}, {"dubbo", "2.0.2"},
      {"dynamic", "true"},     {"generic", "false"},
      {"interface", kIface},   {"methods", "sayHello"},
      {"release", "2.7.23"},   {"side", "provider"},
      {"version", "1.0.0"}};
  ExpectConsumerView("demo-provider", instance, params, provider.port());
  // SIGTERM: the instance goes, the persistent records stay.
  agent.process().Terminate(5s);
  EXPECT_EQ(Owner(instance), -1);
  EXPECT_EQ(MappedApps(), std::set<std::string>{"demo-provider"});
}

TEST_F(AgentDubbo3, ASelfRegisteredProviderIsLeftAlone) {
  std::string addr = zkop::testing::PickLoopbackAddress({});
  FakeProvider provider(dir_, "demo-provider", addr, 0);
  std::string instance = InstancePath("demo-provider", addr, provider.port());
  // The provider registers itself (a Dubbo 3 provider's Curator instance, its own revision)
  // in its own session.
  auto own = Connect(ensemble_->ConnectString());
  std::string theirs = "{\"name\":\"demo-provider\",\"id\":\"" + addr + ":" +
                       std::to_string(provider.port()) +
                       "\",\"payload\":{\"metadata\":{\"dubbo.metadata.revision\":\"5f1d2c\","
                       "\"dubbo.metadata.storage-type\":\"local\"}}}";
  ASSERT_TRUE(own->Create(instance, theirs, {zk::CreateMode::kEphemeral, {}, true}).status.ok());
  Agent a = Config("instance", "demo-provider", addr, provider.port());
  AgentProcess agent(dir_, a.config);
  ASSERT_TRUE(Eventually([&] { return MetricOf(a, "zkop_agent_yielded_instances") == 1; }))
      << agent.Log();
  // Several verify passes later it is still the provider's, untouched.
  ASSERT_TRUE(Rounds(a, 12));
  EXPECT_EQ(Owner(instance), own->session_id());
  EXPECT_EQ(Data(instance), theirs);
  EXPECT_NE(agent.Log().find("leaving it alone"), std::string::npos);
  auto view = CheckJson(a).at("services").at(0).at("instance");
  EXPECT_EQ(view.at("state").as_string(), "provider");
  EXPECT_EQ(view.at("revision").as_string(), "5f1d2c");
  RunResult text = RunToEnd(dir_, {AgentBinary(), "check", "--config", a.config});
  EXPECT_NE(text.output.find("registered by the provider itself (revision 5f1d2c); the agent "
                             "leaves it alone"),
            std::string::npos)
      << text.output;

  // The provider's session ends (it unregisters): the agent does not put it back while the
  // same provider process keeps listening.
  own.reset();
  ASSERT_TRUE(Eventually([&] { return Owner(instance) == -1; }, 10s));
  ASSERT_TRUE(Rounds(a, 12));
  EXPECT_EQ(Owner(instance), -1);

  // It never deletes what it did not create: the provider registers again, the agent stops.
  auto again = Connect(ensemble_->ConnectString());
  ASSERT_TRUE(again->Create(instance, theirs, {zk::CreateMode::kEphemeral, {}, true}).status.ok());
  agent.process().Terminate(5s);
  EXPECT_EQ(Owner(instance), again->session_id());
}

TEST_F(AgentDubbo3, TwoApplicationsShareAnInterface) {
  // A third application is in the mapping already; both agents start at once and append.
  ASSERT_TRUE(client_->Create(MappingPath(), "legacy-app", {zk::CreateMode::kPersistent, {}, true})
                  .status.ok());
  std::string addr_a = zkop::testing::PickLoopbackAddress({});
  std::string addr_b = zkop::testing::PickLoopbackAddress({});
  FakeProvider pa(dir_, "app-a", addr_a, 0);
  FakeProvider pb(dir_, "app-b", addr_b, 0);
  Agent a = Config("instance", "app-a", addr_a, pa.port());
  Agent b = Config("instance", "app-b", addr_b, pb.port());
  AgentProcess agent_a(dir_, a.config);
  AgentProcess agent_b(dir_, b.config);
  std::string ia = InstancePath("app-a", addr_a, pa.port());
  std::string ib = InstancePath("app-b", addr_b, pb.port());
  ASSERT_TRUE(Eventually([&] { return Owner(ia) > 0 && Owner(ib) > 0; }))
      << agent_a.Log() << agent_b.Log();
  ASSERT_TRUE(Eventually([&] {
    return MappedApps() == std::set<std::string>{"app-a", "app-b", "legacy-app"};
  })) << Data(MappingPath());
  EXPECT_EQ(Data(MappingPath()).rfind("legacy-app,", 0), 0u);
  // Provider A stops: its instance goes, B's stays, and the mapping keeps B.
  pa.Stop();
  ASSERT_TRUE(Eventually([&] { return Owner(ia) == -1; }, 5s)) << agent_a.Log();
  EXPECT_GT(Owner(ib), 0);
  EXPECT_TRUE(MappedApps().count("app-b"));
  EXPECT_TRUE(MappedApps().count("legacy-app"));
}

}  // namespace
}  // namespace zkop::agent::testing
