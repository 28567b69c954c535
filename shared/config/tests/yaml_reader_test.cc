#include "zkop/config/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>

namespace zkop::config {
namespace {

using ::testing::HasSubstr;

constexpr const char* kConfig = R"(zookeeper:
  connect: zk:2181
  sessionTimeout: 30s
probeInterval: 1 second
services:
  - interface: a.B
    port: 20880
  - interface: c.D
    port: 70000
)";

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(YamlReader, ReadsTypedValuesWithDefaults) {
  YamlReader root = YamlReader::LoadString(kConfig, "agent.yaml");
  YamlReader zk = root.Get("zookeeper");
  EXPECT_EQ(zk.RequiredString("connect"), "zk:2181");
  EXPECT_EQ(zk.Duration("sessionTimeout", std::chrono::seconds(1)).count(), 30000);
  EXPECT_EQ(zk.String("root", "/dubbo"), "/dubbo");
  EXPECT_EQ(zk.path(), "zookeeper");
  auto services = root.Get("services").AsList();
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].Int("port", 0, 1, 65535), 20880);
  EXPECT_EQ(services[1].path(), "services[1]");
}

TEST(YamlReader, ErrorNamesFileLineColumnPathExpectedAndFound) {
  YamlReader root = YamlReader::LoadString(kConfig, "agent.yaml");
  auto services = root.Get("services").AsList();
  std::string err = ErrorOf([&] { services[1].Int("port", 0, 1, 65535); });
  EXPECT_EQ(err,
            "agent.yaml:9:11: services[1].port: expected an integer from 1 to 65535, found "
            "\"70000\"");
  err = ErrorOf([&] { root.Duration("probeInterval", std::chrono::seconds(1)); });
  EXPECT_THAT(err, HasSubstr("agent.yaml:4:16: probeInterval: expected a duration such as 500ms"));
  EXPECT_THAT(err, HasSubstr("found \"1 second\""));
  EXPECT_THAT(err, HasSubstr("unknown unit \" second\""));
}

TEST(YamlReader, MissingRequiredKeyPointsAtParent) {
  YamlReader root = YamlReader::LoadString(kConfig, "agent.yaml");
  std::string err = ErrorOf([&] { root.Get("zookeeper").RequiredString("root"); });
  EXPECT_EQ(err,
            "agent.yaml:2:3: zookeeper.root: expected a string, found nothing (the key is "
            "missing) (this key is required)");
}

TEST(YamlReader, UnknownKeysAreErrorsWithSuggestion) {
  YamlReader root = YamlReader::LoadString("zookeeper:\n  conect: x\n", "a.yaml");
  std::string err = ErrorOf([&] { root.Get("zookeeper").ExpectKeys({"connect", "root"}); });
  EXPECT_EQ(err, "a.yaml:2:11: zookeeper.conect: unknown key \"conect\"; did you mean \"connect\"?");
  err = ErrorOf([&] { root.ExpectKeys({"services", "application"}); });
  EXPECT_THAT(err, HasSubstr("unknown key \"zookeeper\"; known keys here: services, application"));
}

TEST(YamlReader, WrongShapeIsReported) {
  YamlReader root = YamlReader::LoadString("services: 3\nflag: maybe\n", "b.yaml");
  EXPECT_EQ(ErrorOf([&] { root.Get("services").AsList(); }),
            "b.yaml:1:11: services: expected a list, found \"3\"");
  EXPECT_EQ(ErrorOf([&] { root.Bool("flag", false); }),
            "b.yaml:2:7: flag: expected true or false, found \"maybe\"");
  EXPECT_EQ(ErrorOf([&] { root.Get("services").Get("x"); }),
            "b.yaml:1:11: services: expected a mapping, found \"3\"");
}

TEST(YamlReader, SyntaxErrorsCarryThePosition) {
  std::string err = ErrorOf([] { YamlReader::LoadString("a: [1, 2\nb: c\n", "bad.yaml"); });
  EXPECT_THAT(err, HasSubstr("bad.yaml:"));
  EXPECT_THAT(err, HasSubstr("invalid YAML"));
}

TEST(YamlReader, MissingFileIsNamed) {
  std::string err = ErrorOf([] { YamlReader::LoadFile("/nonexistent/zkop.yaml"); });
  EXPECT_EQ(err,
            "/nonexistent/zkop.yaml: cannot open the file: No such file or directory (give the "
            "path of a readable YAML file)");
}

}  // namespace
}  // namespace zkop::config
