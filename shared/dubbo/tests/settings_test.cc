#include "zkop/dubbo/settings.h"

#include <gtest/gtest.h>

namespace zkop::dubbo {
namespace {

TEST(SpringBootYaml, FlattensAndSkipsProfileDocuments) {
  auto m = ParseSpringBootYaml(
      "spring:\n  application:\n    name: orders\n"
      "dubbo:\n  protocol:\n    name: dubbo\n    port: 20881\n"
      "  list: [a, b]\n"
      "---\n"
      "spring:\n  config:\n    activate:\n      on-profile: prod\n"
      "dubbo:\n  protocol:\n    port: 9999\n"
      "---\n"
      "dubbo:\n  provider:\n    port: 20990\n",
      "application.yml");
  EXPECT_EQ(m.at("spring.application.name").value, "orders");
  EXPECT_EQ(m.at("dubbo.protocol.port").value, "20881");
  EXPECT_EQ(m.at("dubbo.protocol.port").line, 7);
  EXPECT_EQ(m.at("dubbo.list[1]").value, "b");
  EXPECT_EQ(m.at("dubbo.provider.port").value, "20990");
}

TEST(SpringBootYaml, SyntaxErrorNamesTheLine) {
  try {
    ParseSpringBootYaml("dubbo:\n  protocol:\n    port: [1,\n", "application.yml");
    FAIL();
  } catch (const PropertiesError& e) {
    EXPECT_EQ(e.file(), "application.yml");
    EXPECT_GE(e.line(), 3);
  }
}

std::string SpringError(const std::string& yaml) {
  try {
    ExtractDubboSettings(ParseSpringBootYaml(yaml, "application.yml"));
  } catch (const PropertiesError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SpringBootYaml, AKeyThatMustBeAValueRefusesAMapping) {
  EXPECT_EQ(SpringError("dubbo:\n  protocol:\n    port: {a: 1}\n"),
            "application.yml:3: dubbo.protocol.port: expected a value, found a mapping (write it "
            "as `port: VALUE`)");
  EXPECT_EQ(SpringError("dubbo:\n  protocol:\n    name: [dubbo]\n"),
            "application.yml:3: dubbo.protocol.name: expected a value, found a list (write it as "
            "`name: VALUE`)");
  EXPECT_EQ(SpringError("dubbo:\n  protocols:\n    p1:\n      port: {}\n"),
            "application.yml:4: dubbo.protocols.p1.port: expected a value, found a mapping (write "
            "it as `port: VALUE`)");
}

TEST(SpringBootYaml, HostileYamlIsBoundedAndNamed) {
  std::string laughs = "a: &a [x,x,x,x,x,x,x,x,x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string p = "*l" + std::to_string(i - 1);
    if (i == 1) p = "*a";
    laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + p + "," + p + "," + p +
              "," + p + "," + p + "," + p + "," + p + "," + p + "," + p + "]\n";
  }
  std::string err = SpringError(laughs);
  EXPECT_NE(err.find("application.yml:"), std::string::npos) << err;
  EXPECT_NE(err.find("billion laughs"), std::string::npos) << err;
  err = SpringError(std::string(200, '[') + std::string(200, ']'));
  EXPECT_NE(err.find("application.yml:1: nested more than 64 levels"), std::string::npos) << err;
  // Spring Boot refuses duplicate keys (SnakeYAML allowDuplicateKeys=false); so does the agent.
  EXPECT_EQ(SpringError("dubbo:\n  protocol:\n    port: 1\n    port: 2\n"),
            "application.yml:4: duplicate key \"port\" (first set on line 3); remove one of them");
}

TEST(SpringBootYaml, ProfilesActiveDoesNotMakeADocumentProfileSpecific) {
  auto m = ParseSpringBootYaml(
      "spring:\n  profiles:\n    active: prod\ndubbo:\n  protocol:\n    port: 20881\n"
      "---\nspring:\n  profiles: dev\ndubbo:\n  protocol:\n    port: 9999\n",
      "application.yml");
  EXPECT_EQ(m.at("dubbo.protocol.port").value, "20881");
}

TEST(DubboSettings, ReadsProtocolsApplicationAndProvider) {
  auto m = ParseProperties(
      "spring.application.name=fallback\n"
      "dubbo.application.name=orders\n"
      "dubbo.protocol.port=-1\n"
      "dubbo.protocols.tri.name=tri\n"
      "dubbo.protocols.tri.port=50052\n"
      "dubbo.protocols.rest1.port=8080\n"
      "dubbo.provider.port=20990\n",
      "dubbo.properties");
  auto s = ExtractDubboSettings(m);
  ASSERT_TRUE(s.application);
  EXPECT_EQ(s.application->value, "orders");
  ASSERT_EQ(s.protocols.size(), 3u);
  EXPECT_EQ(s.protocols[0].id, "");
  EXPECT_EQ(s.protocols[0].name, "dubbo");
  EXPECT_EQ(*s.protocols[0].port, -1);
  EXPECT_EQ(s.protocols[1].id, "rest1");
  EXPECT_EQ(s.protocols[1].name, "dubbo");
  EXPECT_EQ(s.protocols[2].name, "tri");
  EXPECT_EQ(*s.protocols[2].port, 50052);
  EXPECT_EQ(s.protocols[2].origin->line, 5);
  EXPECT_EQ(*s.provider_port, 20990);
}

TEST(DubboSettings, RelaxedKeysAndSpringNameFallback) {
  auto m = ParseSpringBootYaml(
      "spring:\n  application:\n    name: billing\ndubbo:\n  Protocol:\n    port: 20885\n",
      "a.yml");
  auto s = ExtractDubboSettings(m);
  EXPECT_EQ(s.application->value, "billing");
  EXPECT_EQ(*s.protocols.at(0).port, 20885);
}

TEST(DubboSettings, BadPortIsAPreciseError) {
  auto m = ParseProperties("\n\ndubbo.protocol.port=208800\n", "conf/dubbo.properties");
  try {
    ExtractDubboSettings(m);
    FAIL();
  } catch (const PropertiesError& e) {
    EXPECT_EQ(std::string(e.what()),
              "conf/dubbo.properties:3: dubbo.protocol.port: expected a port number 1-65535 (or "
              "-1 for the first free port from the protocol's default upward), found \"208800\"");
  }
}

TEST(DubboPort, ParsesRange) {
  int p = 0;
  EXPECT_TRUE(ParseDubboPort(" 20880 ", &p));
  EXPECT_EQ(p, 20880);
  EXPECT_TRUE(ParseDubboPort("-1", &p));
  EXPECT_EQ(p, -1);
  EXPECT_FALSE(ParseDubboPort("-2", &p));
  EXPECT_FALSE(ParseDubboPort("65536", &p));
  EXPECT_FALSE(ParseDubboPort("20880x", &p));
  EXPECT_FALSE(ParseDubboPort("", &p));
  EXPECT_EQ(*DefaultPort("dubbo"), 20880);
  EXPECT_FALSE(DefaultPort("nope"));
}

}  // namespace
}  // namespace zkop::dubbo
