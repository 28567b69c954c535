#include "zkop/agent/desired.h"

#include <gtest/gtest.h>

#include "zkop/dubbo/metadata.h"
#include "zkop/dubbo/url_encode.h"

namespace zkop::agent {
namespace {

struct Fixture {
  AgentConfig config;
  std::vector<Declared> declared;
  Diagnosis diagnosis;
  Fixture() {
    Declared d;
    d.interface_name = "org.apache.dubbo.demo.DemoService";
    d.application = "demo-provider";
    d.methods = {"sayHello"};
    d.host = "10.0.0.7";
    d.bind_port = 20880;
    declared.push_back(d);
    Decision dec;
    dec.state = ServiceState::kRegister;
    dec.bind_port = dec.registry_port = 20880;
    dec.pid = 321;
    diagnosis.decisions.push_back(dec);
  }
};

// The desired nodes, rendered: path -> data.
std::map<std::string, std::string> Render(Registrations& r, const Diagnosis& d, int64_t now) {
  std::map<std::string, std::string> out;
  for (const NodeKey& k : r.Desired(d, now)) out[r.Path(k)] = r.Data(k);
  return out;
}

TEST(Desired, InterfaceNodeNameIsTheEncodedUrlAndStable) {
  Fixture f;
  Registrations r(f.config, f.declared, 1);
  auto a = Render(r, f.diagnosis, 1000);
  ASSERT_EQ(a.size(), 1u);
  const std::string& path = a.begin()->first;
  auto described = r.Describe(f.diagnosis, 1000);
  EXPECT_EQ(path, "/dubbo/org.apache.dubbo.demo.DemoService/providers/" +
                      dubbo::UrlEncode(described.urls[0]));
  EXPECT_EQ(described.paths[0], std::vector<std::string>{path});
  EXPECT_NE(described.urls[0].find("pid=321&"), std::string::npos);
  EXPECT_NE(described.urls[0].find("timestamp=1000"), std::string::npos);
  EXPECT_EQ(a.begin()->second, "10.0.0.7");
  // Later rounds keep the timestamp while the service stays registrable...
  auto b = Render(r, f.diagnosis, 5000);
  EXPECT_EQ(b, a);
  // ...and a provider that comes back gets a new one.
  f.diagnosis.decisions[0].state = ServiceState::kNotListening;
  auto c = r.Describe(f.diagnosis, 6000);
  EXPECT_TRUE(r.Desired(f.diagnosis, 6000).empty());
  EXPECT_EQ(c.paths[0].size(), 1u);  // still reported for check
  f.diagnosis.decisions[0].state = ServiceState::kRegister;
  auto d = r.Describe(f.diagnosis, 7000);
  EXPECT_NE(d.urls[0].find("timestamp=7000"), std::string::npos);
}

TEST(Desired, InstanceAndAllModes) {
  Fixture f;
  f.config.register_mode = RegisterMode::kAll;
  Registrations r(f.config, f.declared, 1);
  auto a = Render(r, f.diagnosis, 1000);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_TRUE(a.count("/services/demo-provider/10.0.0.7:20880"));
  EXPECT_NE(a.at("/services/demo-provider/10.0.0.7:20880").find("\"serviceType\":\"DYNAMIC\""),
            std::string::npos);
  f.config.register_mode = RegisterMode::kInstance;
  auto b = Render(r, f.diagnosis, 1000);
  EXPECT_EQ(b.size(), 1u);
}

}  // namespace
}  // namespace zkop::agent

namespace zkop::agent {
namespace {

TEST(Desired, OneInstancePerApplicationWithEveryEndpoint) {
  Fixture f;
  f.config.register_mode = RegisterMode::kInstance;
  Declared tri = f.declared[0];
  tri.interface_name = "org.apache.dubbo.demo.Other";
  tri.protocol = "tri";
  f.declared.push_back(tri);
  Decision dec = f.diagnosis.decisions[0];
  dec.bind_port = dec.registry_port = 50051;
  f.diagnosis.decisions.insert(f.diagnosis.decisions.begin(), dec);  // tri first
  std::swap(f.declared[0], f.declared[1]);
  Registrations r(f.config, f.declared, 1);
  auto d = Render(r, f.diagnosis, 1000);
  ASSERT_EQ(d.size(), 1u);
  const auto& [path, json] = *d.begin();
  EXPECT_EQ(path, "/services/demo-provider/10.0.0.7:20880");  // the dubbo endpoint's port
  EXPECT_NE(json.find("\\\"port\\\":50051,\\\"protocol\\\":\\\"tri\\\""), std::string::npos)
      << json;
  EXPECT_NE(json.find("\\\"port\\\":20880,\\\"protocol\\\":\\\"dubbo\\\""), std::string::npos)
      << json;
}

TEST(Desired, AServiceListedTwiceIsOneNode) {
  Fixture f;
  f.declared.push_back(f.declared[0]);
  f.diagnosis.decisions.push_back(f.diagnosis.decisions[0]);
  Registrations r(f.config, f.declared, 1);
  EXPECT_EQ(r.Desired(f.diagnosis, 1000).size(), 1u);
  // On another port it is another node.
  f.diagnosis.decisions[1].bind_port = f.diagnosis.decisions[1].registry_port = 20881;
  EXPECT_EQ(r.Desired(f.diagnosis, 1000).size(), 2u);
}

TEST(Desired, IncarnationsAreTheSameProviderUnderAnotherName) {
  Fixture f;
  f.declared[0].version = "1.0.0";
  Registrations r(f.config, f.declared, 1);
  NodeKey key = r.Desired(f.diagnosis, 1000).at(0);
  ASSERT_TRUE(r.HasIncarnations(key));
  auto name = [](const std::string& url) { return dubbo::UrlEncode(url); };
  const std::string base = "dubbo://10.0.0.7:20880/org.apache.dubbo.demo.DemoService?";
  const std::string iface = "interface=org.apache.dubbo.demo.DemoService";
  // Another pid and timestamp (a killed agent's node): the same provider.
  EXPECT_TRUE(r.IsIncarnation(key, name(base + "anyhost=true&application=demo-provider&" + iface +
                                        "&pid=99&timestamp=5&version=1.0.0")));
  // Never another host, port, interface, version, group or protocol.
  EXPECT_FALSE(
      r.IsIncarnation(key, name("dubbo://10.0.0.8:20880/org.apache.dubbo.demo.DemoService?" +
                                iface + "&pid=99&version=1.0.0")));
  EXPECT_FALSE(
      r.IsIncarnation(key, name("dubbo://10.0.0.7:20881/org.apache.dubbo.demo.DemoService?" +
                                iface + "&pid=99&version=1.0.0")));
  EXPECT_FALSE(
      r.IsIncarnation(key, name("dubbo://10.0.0.7:208801/org.apache.dubbo.demo.DemoService?" +
                                iface + "&version=1.0.0")));
  EXPECT_FALSE(r.IsIncarnation(key, name(base + iface + "&pid=99&version=2.0.0")));
  EXPECT_FALSE(r.IsIncarnation(key, name(base + iface + "&pid=99")));
  EXPECT_FALSE(r.IsIncarnation(key, name(base + iface + "&group=g&version=1.0.0")));
  EXPECT_FALSE(r.IsIncarnation(key, name("tri://10.0.0.7:20880/org.apache.dubbo.demo.DemoService?" +
                                         iface + "&version=1.0.0")));
  EXPECT_FALSE(r.IsIncarnation(key, "not%ZZencoded"));
}

}  // namespace
}  // namespace zkop::agent

namespace zkop::agent {
namespace {

TEST(Desired, InstanceCarriesDubbosRevisionAndRemoteMetadata) {
  Fixture f;
  f.config.register_mode = RegisterMode::kAll;
  f.config.release = "2.7.23";
  f.declared[0].version = "1.0.0";
  Registrations r(f.config, f.declared, 1);
  auto desired = r.Desired(f.diagnosis, 1000);
  ASSERT_EQ(desired.size(), 2u);
  const NodeKey& instance = desired[1];
  ASSERT_EQ(r.Path(instance), "/services/demo-provider/10.0.0.7:20880");

  // The revision is MetadataInfo's, over the service as Dubbo would describe it.
  dubbo::ProviderSpec spec;
  spec.host = "10.0.0.7";
  spec.port = 20880;
  spec.interface_name = "org.apache.dubbo.demo.DemoService";
  spec.application = "demo-provider";
  spec.methods = {"sayHello"};
  spec.version = "1.0.0";
  spec.release = "2.7.23";
  dubbo::AppMetadata m{"demo-provider", {dubbo::ServiceInfoOf(spec)}};
  std::string revision = dubbo::Revision(m);
  EXPECT_EQ(r.Revision(instance.index), revision);
  EXPECT_EQ(r.MetadataJson(instance.index), dubbo::MetadataInfoJson(m, revision));

  std::string data = r.Data(instance);
  EXPECT_EQ(dubbo::InstanceRevision(data), revision);
  for (const char* part :
       {"\"dubbo.metadata.storage-type\":\"remote\"", "\"meta-v\":\"1.0.0\"",
        "\"dubbo.metadata-service.url-params\":\"{\\\"version\\\":\\\"1.0.0\\\",\\\"dubbo\\\":"
        "\\\"2.0.2\\\",\\\"release\\\":\\\"2.7.23\\\",\\\"side\\\":\\\"provider\\\",\\\"port\\\":"
        "\\\"20880\\\",\\\"protocol\\\":\\\"dubbo\\\"}\""}) {
    EXPECT_NE(data.find(part), std::string::npos) << part << "\n" << data;
  }

  auto records = r.AppRecords(desired);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, instance);
  EXPECT_EQ(records[0].metadata_path, "/dubbo/metadata/demo-provider/" + revision);
  EXPECT_EQ(records[0].mapping_paths,
            std::vector<std::string>{"/dubbo/mapping/org.apache.dubbo.demo.DemoService"});

  // check shows the instance, mapping and metadata report paths.
  auto described = r.Describe(f.diagnosis, 1000);
  EXPECT_EQ(described.instance_paths[0], "/services/demo-provider/10.0.0.7:20880");
  EXPECT_EQ(described.revisions[0], revision);
  EXPECT_EQ(described.paths[0].size(), 4u);

  // Another session's node at the id: the agent's revision -> stale (replaced); any other
  // (a provider registering itself) -> left alone.
  EXPECT_FALSE(r.Yields(instance, data));
  std::string theirs = data;
  theirs.replace(theirs.find(revision), revision.size(), "0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(r.Yields(instance, theirs));
  EXPECT_TRUE(r.Yields(instance, "{}"));
  EXPECT_FALSE(r.Yields(desired[0], theirs));  // interface-level nodes never yield
}

}  // namespace
}  // namespace zkop::agent
