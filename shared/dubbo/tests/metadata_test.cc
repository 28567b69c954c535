// Dubbo 3 application metadata: revision, metadata report JSON and mapping, compared with
// the JDK running Dubbo 3.3's code paths (DubboReference.java "metadata" and "mapping").
#include "zkop/dubbo/metadata.h"

#include <gtest/gtest.h>

#include <set>
// cpprest defines a macro U; include it after gtest.
#include <cpprest/json.h>

#include "java_reference.h"

namespace zkop::dubbo {
namespace {

using testing::Hex;
using testing::Unhex;

ProviderSpec Demo(const std::string& iface = "org.apache.dubbo.demo.DemoService") {
  ProviderSpec s;
  s.host = "10.0.0.7";
  s.port = 20880;
  s.interface_name = iface;
  s.application = "demo-provider";
  s.methods = {"sayHelloAsync", "sayHello"};
  s.pid = 4242;
  s.release = "2.7.23";
  s.timestamp_ms = 1700000000123;
  return s;
}

// What calAndGetRevision hashes for one plain service: written out by hand from Dubbo's
// MetadataInfo (app, matchKey, port, path, TreeMap.toString of the filtered params).
TEST(Metadata, RevisionInputIsDubbosDescString) {
  AppMetadata m{"demo-provider", {ServiceInfoOf(Demo())}};
  EXPECT_EQ(RevisionInput(m),
            "demo-provider"
            "org.apache.dubbo.demo.DemoService:dubbo20880org.apache.dubbo.demo.DemoService"
            "{anyhost=true, application=demo-provider, deprecated=false, dubbo=2.0.2, "
            "dynamic=true, generic=false, interface=org.apache.dubbo.demo.DemoService, "
            "methods=sayHello,sayHelloAsync, release=2.7.23, side=provider}");
  EXPECT_EQ(Revision(m), Md5Hex(RevisionInput(m)));
  EXPECT_EQ(Revision(AppMetadata{"demo-provider", {}}), "0");
  // pid and timestamp are not part of it: a restarted provider keeps its revision.
  ProviderSpec later = Demo();
  later.pid = 1;
  later.timestamp_ms = 5;
  EXPECT_EQ(Revision(AppMetadata{"demo-provider", {ServiceInfoOf(later)}}), Revision(m));
}

TEST(Metadata, Md5KnownAnswers) {  // RFC 1321 appendix A.5
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(
      Md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
      "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Metadata, KeysAndPaths) {
  ProviderSpec s = Demo();
  s.version = "1.0.0";
  s.group = "g";
  s.protocol = "tri";
  ServiceInfo info = ServiceInfoOf(s);
  EXPECT_EQ(ServiceKey(info), "g/org.apache.dubbo.demo.DemoService:1.0.0");
  EXPECT_EQ(MatchKey(info), "g/org.apache.dubbo.demo.DemoService:1.0.0:tri");
  EXPECT_EQ(MetadataReportPath("/dubbo", "demo-provider", "abc"),
            "/dubbo/metadata/demo-provider/abc");
  EXPECT_EQ(MetadataReportPath("dubbo/", "a", "0"), "/dubbo/metadata/a/0");
  EXPECT_EQ(MappingPath("/dubbo", "org.x.Y"), "/dubbo/mapping/org.x.Y");
}

TEST(Metadata, JsonIsReadableAsMetadataInfo) {
  ProviderSpec a = Demo();
  a.version = "1.0.0";
  ProviderSpec b = Demo("org.apache.dubbo.demo.Other");
  b.protocol = "tri";
  b.port = 50051;
  b.group = "g\"q";
  AppMetadata m{"demo-provider", {ServiceInfoOf(a), ServiceInfoOf(b)}};
  std::string rev = Revision(m);
  auto j = web::json::value::parse(MetadataInfoJson(m, rev));
  EXPECT_EQ(j.at("app").as_string(), "demo-provider");
  EXPECT_EQ(j.at("revision").as_string(), rev);
  auto services = j.at("services");
  auto s1 = services.at("org.apache.dubbo.demo.DemoService:1.0.0:dubbo");
  EXPECT_EQ(s1.at("name").as_string(), "org.apache.dubbo.demo.DemoService");
  EXPECT_EQ(s1.at("version").as_string(), "1.0.0");
  EXPECT_FALSE(s1.has_field("group"));
  EXPECT_EQ(s1.at("port").as_integer(), 20880);
  EXPECT_EQ(s1.at("path").as_string(), "org.apache.dubbo.demo.DemoService");
  EXPECT_EQ(s1.at("params").at("methods").as_string(), "sayHello,sayHelloAsync");
  EXPECT_FALSE(s1.at("params").has_field("pid"));
  EXPECT_FALSE(s1.at("params").has_field("timestamp"));
  auto s2 = services.at("g\"q/org.apache.dubbo.demo.Other:tri");
  EXPECT_EQ(s2.at("group").as_string(), "g\"q");
  EXPECT_EQ(s2.at("protocol").as_string(), "tri");
  EXPECT_EQ(s2.at("port").as_integer(), 50051);
}

// One metadata set for the JDK: the services' unfiltered URL parameters go in, the JDK
// filters, orders, hashes and writes.
std::string JavaInput(const std::string& app, const std::vector<ProviderSpec>& specs) {
  std::string in = "APP " + Hex(app) + "\n";
  for (const auto& s : specs) {
    in += "SERVICE " + Hex(s.interface_name) + " " + Hex(s.group) + " " + Hex(s.version) + " " +
          Hex(s.protocol) + " " + std::to_string(s.port) + " " + Hex(s.interface_name) + "\n";
    for (const auto& [k, v] : ProviderParameters(s)) in += Hex(k) + " " + Hex(v) + "\n";
  }
  return in;
}

TEST(Metadata, RevisionAndJsonMatchTheJdk) {
  if (!testing::JavaAvailable()) GTEST_SKIP() << "no java";
  std::vector<std::pair<std::string, std::vector<ProviderSpec>>> cases;
  cases.push_back({"demo-provider", {Demo()}});
  {
    ProviderSpec a = Demo(), b = Demo("org.apache.dubbo.demo.Other"), c = Demo("a.B");
    a.version = "1.0.0";
    b.protocol = "tri";
    b.port = 50051;
    b.group = "g";
    c.methods = {};
    cases.push_back({"app", {a, b, c}});
  }
  {  // The filter: excluded keys ignoring case (Java's rules, Unicode included) or after a dot.
    ProviderSpec a = Demo();
    a.extra = {{"PID", "1"},
               {"x.timestamp", "2"},
               {"monitor.x", "kept"},
               {"p\xc4\xb1"
                "d",
                "3"},
               {"\xc4\xb0pv6", "4"},
               {"qos.enable", "false"},
               {"weight", "100"},
               {"validation", "x"},
               {"heartbeat.timeout", "9"},
               {"token", "\xe4\xbd\xa0\xe5\xa5\xbd"}};
    cases.push_back({"filtered", {a}});
  }
  {  // Two services with one match key: the later one stays.
    ProviderSpec a = Demo(), b = Demo();
    b.port = 20881;
    cases.push_back({"same-key", {a, b}});
  }
  {  // Non-ASCII order (UTF-16 code units) and every input length around MD5's 64-byte blocks.
    ProviderSpec a = Demo("x.\xe4\xbd\xa0"), b = Demo("x.\xf0\x9f\x98\x80"),
                 c = Demo("x.\xef\xbd\x81");
    cases.push_back({"\xe5\xba\x94\xe7\x94\xa8", {a, b, c}});
  }
  for (int n = 0; n < 70; n += 7) cases.push_back({std::string(n, 'a'), {Demo("a.B")}});
  std::string input;
  for (const auto& [app, specs] : cases) input += JavaInput(app, specs);
  auto java = testing::RunJava({"metadata"}, input);  // one JVM for every case
  ASSERT_EQ(java.size(), 3 * cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [app, specs] = cases[i];
    AppMetadata m{app, {}};
    for (const auto& s : specs) m.services.push_back(ServiceInfoOf(s));
    EXPECT_EQ(RevisionInput(m), Unhex(java[3 * i])) << app;
    EXPECT_EQ(Revision(m), java[3 * i + 1]) << app;
    EXPECT_EQ(MetadataInfoJson(m, Revision(m)), Unhex(java[3 * i + 2])) << app;
  }
}

TEST(Mapping, AppendsAsMetadataServiceNameMapping) {
  EXPECT_EQ(MappingWithApplication("", "a"), "a");
  EXPECT_EQ(MappingWithApplication("a", "b"), "a,b");
  EXPECT_EQ(MappingWithApplication("a, b", "b"), std::nullopt);
  EXPECT_EQ(MappingApplications(" a ,b,,a"), (std::vector<std::string>{"a", "b"}));
}

TEST(Mapping, MatchesTheJdk) {
  if (!testing::JavaAvailable()) GTEST_SKIP() << "no java";
  std::vector<std::pair<std::string, std::string>> cases = {{"", "a"},
                                                            {"a", "b"},
                                                            {"a, b", "b"},
                                                            {" a ,b", "a"},
                                                            {"a,,b", "c"},
                                                            {"  ", "a"},
                                                            {",a,", "a"},
                                                            {"a,b,", "c"},
                                                            {"ab", "a"},
                                                            {"a\tb", "b"},
                                                            {"x,\xe4\xbd\xa0", "\xe4\xbd\xa0"}};
  std::string input;
  for (const auto& [content, app] : cases) input += Hex(content) + " " + Hex(app) + "\n";
  auto java = testing::RunJava({"mapping"}, input);
  ASSERT_EQ(java.size(), 2 * cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [content, app] = cases[i];
    auto ours = MappingWithApplication(content, app);
    EXPECT_EQ(ours ? Hex(*ours) : "-", java[2 * i]) << '"' << content << "\" + " << app;
    std::set<std::string> names;
    for (const auto& n : MappingApplications(ours ? *ours : content)) names.insert(Hex(n));
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : " ") + n;
    EXPECT_EQ(joined, java[2 * i + 1]) << '"' << content << "\" + " << app;
  }
}

}  // namespace
}  // namespace zkop::dubbo
