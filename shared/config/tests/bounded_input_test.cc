// Bounded configuration input: hostile files and YAML fail fast with a precise message.
#include "zkop/config/bounded_input.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "zkop/config/yaml_reader.h"

namespace zkop::config {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// 9 levels of 9 aliases: 469 bytes that expand to ~387 million nodes.
std::string BillionLaughs(int levels) {
  std::string y =
      "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (int i = 1; i < levels; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int k = 1; k < 9; ++k) y += "," + p;
    y += "]\n";
  }
  return y;
}

class TempFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zkop-bounded-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST(CheckYaml, BillionLaughsFailsFastWithThePlace) {
  auto start = std::chrono::steady_clock::now();
  std::string err = ErrorOf([] { CheckYaml(BillionLaughs(9), "boom.yml"); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_THAT(err, HasSubstr("boom.yml:"));
  EXPECT_THAT(err, HasSubstr("billion laughs"));
  // YamlReader refuses it before building a tree.
  err = ErrorOf([] { YamlReader::LoadString(BillionLaughs(9), "boom.yml"); });
  EXPECT_THAT(err, HasSubstr("billion laughs"));
  // A little aliasing is fine.
  EXPECT_NO_THROW(CheckYaml(BillionLaughs(3), "ok.yml"));
}

TEST(CheckYaml, DepthIsBounded) {
  std::string deep(100000, '[');
  std::string err = ErrorOf([&] { CheckYaml(deep, "deep.yml"); });
  EXPECT_THAT(err, HasSubstr("deep.yml:1:"));
  EXPECT_THAT(err, HasSubstr("nested more than 64 levels"));
  std::string block;
  for (int i = 0; i < 80; ++i) block += std::string(i * 2, ' ') + "k" + std::to_string(i) + ":\n";
  err = ErrorOf([&] { CheckYaml(block, "deep2.yml"); });
  EXPECT_THAT(err, HasSubstr("deep2.yml:65:"));
}

TEST(CheckYaml, DuplicateKeysAreRefused) {
  std::string err = ErrorOf([] { CheckYaml("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yml"); });
  EXPECT_EQ(err, "dup.yml:4:3: duplicate key \"c\" (first set on line 3); remove one of them");
  // The same key in different maps, or in different documents, is fine.
  EXPECT_NO_THROW(CheckYaml("a: {c: 1}\nb: {c: 1}\n---\na: 2\n", "ok.yml"));
  YamlLimits lax;
  lax.allow_duplicate_keys = true;
  EXPECT_NO_THROW(CheckYaml("a: 1\na: 2\n", "dup.yml", lax));
}

TEST(CheckYaml, SizeIsBounded) {
  YamlLimits small;
  small.max_bytes = 10;
  EXPECT_THAT(ErrorOf([&] { CheckYaml("a: 0123456789\n", "big.yml", small); }),
              HasSubstr("big.yml: the YAML is 14 bytes, more than the limit of 10"));
}

TEST_F(TempFiles, OnlyRegularFilesAreRead) {
  std::string out, error;
  EXPECT_FALSE(ReadRegularFile("/dev/zero", 1 << 20, &out, &error));
  EXPECT_EQ(error, "is a character device, not a regular file");
  EXPECT_FALSE(ReadRegularFile(dir_, 1 << 20, &out, &error));
  EXPECT_EQ(error, "is a directory, not a regular file");
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ReadRegularFile(fifo, 1 << 20, &out, &error));  // no writer: must not block
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(error, "is a FIFO, not a regular file");
  EXPECT_FALSE(ReadRegularFile(dir_ + "/missing", 1 << 20, &out, &error));
  EXPECT_EQ(error, "cannot open the file: No such file or directory");
  std::string big = dir_ + "/big";
  std::ofstream(big) << std::string(100, 'x');
  EXPECT_FALSE(ReadRegularFile(big, 99, &out, &error));
  EXPECT_EQ(error, "is 100 bytes, more than the limit of 99");
  EXPECT_TRUE(ReadRegularFile(big, 100, &out, &error));
  EXPECT_EQ(out.size(), 100u);
  std::string link = dir_ + "/link";
  ASSERT_EQ(symlink(big.c_str(), link.c_str()), 0);
  EXPECT_TRUE(ReadRegularFile(link, 100, &out, &error));

  EXPECT_EQ(ErrorOf([&] { YamlReader::LoadFile(dir_); }),
            dir_ + ": is a directory, not a regular file (give the path of a readable YAML file)");
  EXPECT_EQ(ErrorOf([] { YamlReader::LoadFile("/dev/zero"); }),
            "/dev/zero: is a character device, not a regular file (give the path of a readable "
            "YAML file)");
}

}  // namespace
}  // namespace zkop::config
