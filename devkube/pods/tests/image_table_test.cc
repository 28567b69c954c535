#include "zkop/devkube/pods/image_table.h"

#include <gtest/gtest.h>

#include "zkop/config/yaml_reader.h"

namespace zkop::devkube::pods {
namespace {

TEST(ImageTableTest, RepositoryCutsTagAndDigestButKeepsRegistryPort) {
  EXPECT_EQ(ImageTable::Repository("zkop/zookeeper:3.8.0"), "zkop/zookeeper");
  EXPECT_EQ(ImageTable::Repository("reg:5000/zkop/agent"), "reg:5000/zkop/agent");
  EXPECT_EQ(ImageTable::Repository("reg:5000/zkop/agent:v1@sha256:abc"), "reg:5000/zkop/agent");
}

TEST(ImageTableTest, DefaultsMapZooKeeperAgentOperatorAndLocalExec) {
  const auto table = ImageTable::Defaults("/src", "/build");
  const ImageEntry* zk = table.Find("ghcr.io/acme/zkop/zookeeper:3.8.0");
  ASSERT_NE(zk, nullptr);
  EXPECT_EQ(zk->program, "/src/images/zookeeper/entrypoint.sh");
  EXPECT_EQ(zk->mount_env.at("/data"), "ZK_DATA_DIR");
  EXPECT_EQ(zk->mount_env.at("/etc/zkop/config"), "ZK_CONFIG_SOURCE");
  EXPECT_NE(zk->env.at("ZK_CLASSPATH").find("/usr/share/java/zookeeper.jar"), std::string::npos);
  ASSERT_NE(table.Find("zkop/agent:latest"), nullptr);
  EXPECT_EQ(table.Find("zkop/agent")->program, "/build/agent/zkop-agent");
  const ImageEntry* op =
      table.Find("registry.example/zkop/operator@sha256:" + std::string(64, 'a'));
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->program, "/build/operator/zkop-operator");
  EXPECT_EQ(op->entrypoint, "/usr/local/bin/zkop-operator");
  ASSERT_NE(table.Find("zkop/operator:0.1.0"), nullptr);
  ASSERT_NE(table.Find("zkop/demo-provider:0.1.0"), nullptr);
  EXPECT_EQ(table.Find("registry.example/zkop/demo-provider")->program,
            "/build/images/demo-provider/zkop-demo-provider");
  ASSERT_NE(table.Find("zkop.io/local-exec"), nullptr);
  EXPECT_TRUE(table.Find("zkop.io/local-exec")->run_command);
  EXPECT_EQ(table.Find("nginx:1.25"), nullptr);
  EXPECT_EQ(table.Find("notzkop/zookeeper"), nullptr);
}

TEST(ImageTableTest, ParsesYamlAndExpandsTreeVariables) {
  const auto table = ImageTable::Parse(R"(images:
  - match: "example/*"
    program: ${ZKOP_SOURCE_DIR}/run.sh
    args: [--port, "8080"]
    env: {MODE: test}
    mountEnv: {/conf: CONF_DIR}
  - match: [busybox, "*/busybox"]
    runCommand: true
)",
                                       "images.yaml");
  ASSERT_EQ(table.entries().size(), 2u);
  const ImageEntry* e = table.Find("example/web:1");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->program.find("${"), std::string::npos);
  EXPECT_EQ(e->program.substr(e->program.size() - 7), "/run.sh");
  EXPECT_EQ(e->args, (std::vector<std::string>{"--port", "8080"}));
  EXPECT_EQ(e->env.at("MODE"), "test");
  EXPECT_EQ(e->mount_env.at("/conf"), "CONF_DIR");
  EXPECT_TRUE(table.Find("docker.io/library/busybox:1")->run_command);
}

TEST(ImageTableTest, BadTablesNameFileLineAndKey) {
  try {
    ImageTable::Parse("images:\n  - match: x\n    program: /a\n    runCommand: true\n", "t.yaml");
    FAIL() << "accepted program with runCommand";
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("t.yaml:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("images[0].program"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ImageTable::Parse("images:\n  - match: x\n    programm: /a\n", "t.yaml"),
               config::ConfigError);
  EXPECT_THROW(ImageTable::Parse("images:\n  - program: /a\n", "t.yaml"), config::ConfigError);
}

}  // namespace
}  // namespace zkop::devkube::pods
