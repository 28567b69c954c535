#include "zkop/dubbo/provider_url.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
// cpprest defines a macro U; include it after gtest.
#include <cpprest/json.h>

#include "java_reference.h"
#include "zkop/dubbo/url_encode.h"

namespace zkop::dubbo {
namespace {

ProviderSpec Demo() {
  ProviderSpec s;
  s.host = "10.0.0.7";
  s.port = 20880;
  s.interface_name = "org.apache.dubbo.demo.DemoService";
  s.application = "demo-provider";
  s.methods = {"sayHelloAsync", "sayHello"};
  s.pid = 4242;
  s.release = "2.7.23";
  s.timestamp_ms = 1700000000123;
  return s;
}

TEST(ProviderUrl, WritesDubboFullString) {
  EXPECT_EQ(ProviderUrl(Demo()),
            "dubbo://10.0.0.7:20880/org.apache.dubbo.demo.DemoService?anyhost=true&"
            "application=demo-provider&deprecated=false&dubbo=2.0.2&dynamic=true&generic=false&"
            "interface=org.apache.dubbo.demo.DemoService&methods=sayHello,sayHelloAsync&pid=4242&"
            "release=2.7.23&side=provider&timestamp=1700000000123");
}

TEST(ProviderUrl, VersionGroupOnlyWhenSetAndExtraOverrides) {
  ProviderSpec s = Demo();
  s.version = "1.0.0";
  s.group = "blue";
  s.methods.clear();
  s.extra = {{"weight", "50"}, {"anyhost", "false"}};
  std::string url = ProviderUrl(s);
  EXPECT_NE(url.find("&group=blue&interface="), std::string::npos) << url;
  EXPECT_NE(url.find("&methods=*&"), std::string::npos) << url;
  EXPECT_NE(url.find("?anyhost=false&"), std::string::npos) << url;
  EXPECT_NE(url.find("&version=1.0.0&weight=50"), std::string::npos) << url;
  EXPECT_EQ(ProviderUrl(Demo()).find("version="), std::string::npos);
}

TEST(ProviderUrl, NodePath) {
  EXPECT_EQ(ProvidersPath("/dubbo", "a.B"), "/dubbo/a.B/providers");
  EXPECT_EQ(ProvidersPath("dubbo/", "a.B"), "/dubbo/a.B/providers");
  EXPECT_EQ(ProvidersPath("/", "a.B"), "/a.B/providers");
  std::string path = ProviderNodePath("/dubbo", Demo());
  EXPECT_EQ(path.rfind("/dubbo/org.apache.dubbo.demo.DemoService/providers/dubbo%3A%2F%2F10.0.0.7"
                       "%3A20880%2Forg.apache.dubbo.demo.DemoService%3Fanyhost%3Dtrue%26",
                       0),
            0u)
      << path;
}

TEST(ProviderUrl, MatchesWhatDubboWritesPerTheJdk) {
  if (!testing::JavaAvailable()) GTEST_SKIP() << "no java";
  ProviderSpec s = Demo();
  s.version = "2.0.0-SNAPSHOT";
  s.group = "g/1 x";
  s.methods = {"zeta", "Alpha", "beta", "\xC3\xA9t\xC3\xA9"};
  s.extra = {{"Z-upper", "1"}, {"timeout", "3000"}, {"\xC3\xA9k", "\xE4\xB8\xAD"}};
  // Java gets the same parameter map (unordered) and orders/encodes it itself.
  std::string input =
      s.protocol + " " + s.host + " " + std::to_string(s.port) + " " + s.interface_name + "\n";
  auto params = ProviderParameters(s);
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    input += testing::Hex(it->first) + " " + testing::Hex(it->second) + "\n";
  }
  auto lines = testing::RunJava({"provider"}, input);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(UrlEncode(ProviderUrl(s)), lines[0]);
}

TEST(JavaNames, AcceptsQualifiedNamesRejectsOthers) {
  EXPECT_TRUE(IsJavaQualifiedName("org.apache.dubbo.demo.DemoService"));
  EXPECT_TRUE(IsJavaQualifiedName("a.Outer$Inner"));
  EXPECT_TRUE(IsJavaQualifiedName("_x.y1"));
  EXPECT_FALSE(IsJavaQualifiedName(""));
  EXPECT_FALSE(IsJavaQualifiedName("org..Demo"));
  EXPECT_FALSE(IsJavaQualifiedName("org.1Demo"));
  EXPECT_FALSE(IsJavaQualifiedName("org.class.Demo"));
  EXPECT_FALSE(IsJavaQualifiedName("org/Demo"));
  EXPECT_FALSE(IsJavaQualifiedName("Demo."));
  EXPECT_TRUE(IsJavaIdentifier("sayHello"));
  EXPECT_FALSE(IsJavaIdentifier("say-hello"));
}

TEST(JavaNames, UnicodeIdentifiersAsJavaDefinesThem) {
  EXPECT_TRUE(IsJavaIdentifier("\u00e9t\u00e9"));  // été
  EXPECT_TRUE(IsJavaIdentifier("\u4e2d\u6587"));   // 中文
  EXPECT_TRUE(IsJavaIdentifier("\u20ac"));         // € (currency: Java allows it)
  EXPECT_TRUE(IsJavaQualifiedName("com.\u00fcber.Dienst"));
  EXPECT_FALSE(IsJavaIdentifier("\xff\xfe"));              // not UTF-8
  EXPECT_FALSE(IsJavaIdentifier("a\xc3"));                 // truncated
  EXPECT_FALSE(IsJavaIdentifier("\xc0\xaf"));              // overlong '/'
  EXPECT_FALSE(IsJavaIdentifier("a\xed\xa0\x80"));         // a surrogate
  EXPECT_FALSE(IsJavaIdentifier("a\u00a0b"));              // no-break space
  EXPECT_FALSE(IsJavaIdentifier("a\u2028b"));              // line separator
  EXPECT_FALSE(IsJavaIdentifier("\u0661x"));               // a digit cannot start
  EXPECT_TRUE(IsJavaIdentifier("x\u0661"));                // but may follow
  EXPECT_FALSE(IsJavaIdentifier(std::string("a\0b", 3)));  // NUL (ignorable in Java)
  EXPECT_FALSE(IsJavaIdentifier("a\x01"));                 // control (ignorable)
}

TEST(JavaNames, TheIdentifierTableMatchesTheJdk) {
#if defined(ZKOP_JAVA) && defined(ZKOP_JAVA_IDENTIFIER_TABLE)
  std::string cmd = std::string(ZKOP_JAVA) + " " + ZKOP_JAVA_IDENTIFIER_GENERATOR;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string generated;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) generated.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << cmd;
  std::ifstream in(ZKOP_JAVA_IDENTIFIER_TABLE);
  std::string checked_in((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The header line names the JDK's version; the ranges must be the same.
  auto body = [](const std::string& s) { return s.substr(s.find('\n') + 1); };
  EXPECT_EQ(body(generated), body(checked_in))
      << "regenerate: java shared/dubbo/tests/JavaIdentifierTable.java > "
         "shared/dubbo/src/java_identifier_table.inc";
#else
  GTEST_SKIP() << "no java";
#endif
}

TEST(Instance, CuratorServiceInstanceJson) {
  InstanceSpec s;
  s.application = "demo-provider";
  s.host = "10.0.0.7";
  s.port = 20880;
  s.endpoints = {{"dubbo", 20880}};
  s.release = "3.2.0";
  s.revision = "abc";
  s.timestamp_ms = 1;
  s.registration_time_ms = 2;
  std::string text = InstanceJson(s);
  auto j = web::json::value::parse(text);
  EXPECT_EQ(j.at("name").as_string(), "demo-provider");
  EXPECT_EQ(j.at("id").as_string(), "10.0.0.7:20880");
  EXPECT_EQ(j.at("address").as_string(), "10.0.0.7");
  EXPECT_EQ(j.at("port").as_integer(), 20880);
  EXPECT_TRUE(j.at("sslPort").is_null());
  EXPECT_EQ(j.at("serviceType").as_string(), "DYNAMIC");
  EXPECT_EQ(j.at("registrationTimeUTC").as_number().to_int64(), 2);
  auto payload = j.at("payload");
  EXPECT_EQ(payload.at("@class").as_string(),
            "org.apache.dubbo.registry.zookeeper.ZookeeperInstance");
  auto endpoints =
      web::json::value::parse(payload.at("metadata").at("dubbo.endpoints").as_string());
  EXPECT_EQ(endpoints.at(0).at("port").as_integer(), 20880);
  EXPECT_EQ(text.rfind("{\"name\":\"demo-provider\",\"id\":\"10.0.0.7:20880\",\"address\"", 0), 0u);
  EXPECT_EQ(InstanceNodePath("/services", s), "/services/demo-provider/10.0.0.7:20880");
  // Every key Dubbo 3.3 writes for a provider whose metadata is in the metadata report, in
  // getSortedMetadata's (TreeMap) order; url-params in MetadataService URL order.
  EXPECT_NE(
      text.find(
          "\"metadata\":{\"dubbo.endpoints\":\"[{\\\"port\\\":20880,\\\"protocol\\\":"
          "\\\"dubbo\\\"}]\",\"dubbo.metadata-service.url-params\":\"{\\\"version\\\":"
          "\\\"1.0.0\\\",\\\"dubbo\\\":\\\"2.0.2\\\",\\\"release\\\":\\\"3.2.0\\\","
          "\\\"side\\\":\\\"provider\\\",\\\"port\\\":\\\"20880\\\",\\\"protocol\\\":"
          "\\\"dubbo\\\"}\",\"dubbo.metadata.revision\":\"abc\",\"dubbo.metadata.storage-type\":"
          "\"remote\",\"meta-v\":\"1.0.0\",\"timestamp\":\"1\"}}"),
      std::string::npos)
      << text;
  EXPECT_EQ(InstanceRevision(text), "abc");
  EXPECT_EQ(InstanceRevision("{\"dubbo.metadata.revision\" : \"x1\"}"), "x1");
  EXPECT_EQ(InstanceRevision("{\"dubbo.metadata.revision\":1}"), "");
  EXPECT_EQ(InstanceRevision("{\"dubbo.metadata.revision\":\"unterminated"), "");
  EXPECT_EQ(InstanceRevision(""), "");
}

}  // namespace
}  // namespace zkop::dubbo
