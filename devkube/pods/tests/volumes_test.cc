#include "zkop/devkube/pods/volumes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods {
namespace {

using web::json::value;
namespace fs = std::filesystem;

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(VolumesTest, ConfigMapAndSecretFilesHonourItemsAndModes) {
  const value cm =
      value::parse(R"({"data":{"zoo.cfg":"tickTime=2000\n","zoo.cfg.dynamic":"server.1=a\n"}})");
  auto all = FilesForVolume(value::parse(R"({"name":"demo-config"})"), false, cm);
  ASSERT_EQ(all.error, "");
  ASSERT_EQ(all.files.size(), 2u);
  EXPECT_EQ(all.files[0].mode, 0644u);

  auto items = FilesForVolume(
      value::parse(
          R"({"name":"demo-config","items":[{"key":"zoo.cfg","path":"conf/zoo.cfg","mode":256}]})"),
      false, cm);
  ASSERT_EQ(items.files.size(), 1u);
  EXPECT_EQ(items.files[0].path, "conf/zoo.cfg");
  EXPECT_EQ(items.files[0].mode, 0400u);

  auto secret = FilesForVolume(value::parse(R"({"secretName":"admin"})"), true,
                               value::parse(R"({"data":{"digest":"c3VwZXI6eA=="}})"));
  ASSERT_EQ(secret.files.size(), 1u);
  EXPECT_EQ(secret.files[0].content, "super:x");
  EXPECT_EQ(secret.files[0].mode, 0600u);

  EXPECT_EQ(FilesForVolume(value::parse(R"({"name":"gone"})"), false, std::nullopt).error,
            "configmap \"gone\" not found");
  EXPECT_TRUE(
      FilesForVolume(value::parse(R"({"name":"gone","optional":true})"), false, std::nullopt)
          .skipped);
  EXPECT_EQ(FilesForVolume(value::parse(R"({"name":"c","items":[{"key":"nokey","path":"x"}]})"),
                           false, cm)
                .error,
            "configmap \"c\" has no key \"nokey\"");
  EXPECT_NE(
      FilesForVolume(value::parse(R"({"name":"c","items":[{"key":"zoo.cfg","path":"../x"}]})"),
                     false, cm)
          .error.find("must be relative"),
      std::string::npos);
}

TEST(VolumesTest, ProjectionSwapsDataAtomicallyAndDropsStaleNames) {
  zkop::testing::TempDir tmp("pod-volumes-test");
  const std::string dir = tmp.Path("vol");
  bool changed = false;
  std::string error;
  ASSERT_TRUE(ProjectFiles(dir, {{"a", "1", 0644}, {"sub/b", "2", 0600}}, &changed, &error))
      << error;
  EXPECT_TRUE(changed);
  EXPECT_EQ(zkop::testing::ReadFile(dir + "/a"), "1");
  EXPECT_EQ(zkop::testing::ReadFile(dir + "/sub/b"), "2");
  EXPECT_TRUE(fs::is_symlink(dir + "/a"));
  EXPECT_TRUE(fs::is_symlink(dir + "/..data"));
  EXPECT_EQ(ModeOf(dir + "/sub/b"), 0600u);
  const auto first_target = fs::read_symlink(dir + "/..data");

  ASSERT_TRUE(ProjectFiles(dir, {{"a", "1", 0644}, {"sub/b", "2", 0600}}, &changed, &error));
  EXPECT_FALSE(changed);
  EXPECT_EQ(fs::read_symlink(dir + "/..data"), first_target);

  ASSERT_TRUE(ProjectFiles(dir, {{"a", "changed", 0644}}, &changed, &error)) << error;
  EXPECT_TRUE(changed);
  EXPECT_EQ(zkop::testing::ReadFile(dir + "/a"), "changed");
  EXPECT_FALSE(fs::exists(dir + "/sub"));
  EXPECT_FALSE(fs::exists(fs::path(dir) / first_target));  // the old generation is gone
}

}  // namespace
}  // namespace zkop::devkube::pods
