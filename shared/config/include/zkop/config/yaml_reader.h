// Typed, path-aware reading of YAML configuration.
//
// Every error is a ConfigError whose message reads
//   <file>:<line>:<column>: <key.path>: expected <what>, found <what> [(<how to fix>)]
// so that users can go straight to the offending line. Unknown keys are errors
// (with a "did you mean" when a known key is close).
//
// Threading: a YamlReader is a value; copies share the underlying yaml-cpp node
// and must not be used from several threads at once.
// Exceptions: ConfigError is thrown for bad input; this is setup-time code.
// Bounded: input is checked by CheckYaml (bounded_input.h) before a tree is built, so a
// hostile file fails with a message instead of exhausting memory or time.
#pragma once

#include <yaml-cpp/yaml.h>

#include "zkop/config/bounded_input.h"

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zkop::config {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, std::string path, std::string detail);
  const std::string& file() const { return file_; }
  int line() const { return line_; }      // 1-based; 0 when unknown
  int column() const { return column_; }  // 1-based; 0 when unknown
  const std::string& path() const { return path_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string path_;
  std::string detail_;
};

class YamlReader {
 public:
  // Throws ConfigError when the file cannot be read, is not a regular file, is larger
  // than limits.max_bytes, or is not valid YAML within `limits` (bounded_input.h: depth,
  // alias expansion, duplicate keys).
  static YamlReader LoadFile(const std::string& file, const YamlLimits& limits = {});
  // `name` stands for the file in messages. Same checks as LoadFile.
  static YamlReader LoadString(std::string_view text, std::string name,
                               const YamlLimits& limits = {});

  // The key path of this node: "" for the root, "zookeeper.connect", "services[2].port".
  const std::string& path() const { return path_; }
  const std::string& file() const { return *file_; }
  int line() const;  // 1-based line of this node (or of its parent when it is missing)
  const YAML::Node& node() const { return node_; }

  // True when this node is present and not null.
  bool present() const;
  bool IsMap() const { return present() && node_.IsMap(); }
  bool IsList() const { return present() && node_.IsSequence(); }
  bool IsScalar() const { return present() && node_.IsScalar(); }

  bool Has(std::string_view key) const;
  // The child at `key` (possibly missing). Fails when this node is not a map.
  YamlReader Get(std::string_view key) const;

  // Conversions of this node. Each fails with a precise message.
  std::string AsString() const;
  int64_t AsInt(int64_t min, int64_t max) const;
  bool AsBool() const;
  std::chrono::milliseconds AsDuration() const;
  std::vector<YamlReader> AsList() const;  // the null node is an empty list
  std::vector<std::string> AsStringList() const;
  std::vector<std::pair<std::string, YamlReader>> AsEntries() const;  // map entries in order

  // Child conveniences: the default applies when the key is missing or null.
  std::string RequiredString(std::string_view key) const;
  std::string String(std::string_view key, std::string_view def) const;
  int64_t Int(std::string_view key, int64_t def, int64_t min, int64_t max) const;
  bool Bool(std::string_view key, bool def) const;
  std::chrono::milliseconds Duration(std::string_view key, std::chrono::milliseconds def) const;

  // Fails on the first key of this map that is not in `known`.
  void ExpectKeys(std::initializer_list<std::string_view> known) const;
  void ExpectKeys(const std::vector<std::string>& known) const;

  // Throws ConfigError at this node: "expected <expected>, found <what this node is>".
  [[noreturn]] void FailExpected(std::string_view expected, std::string_view hint = {}) const;
  // Throws ConfigError at this node with a free-form detail.
  [[noreturn]] void Fail(std::string_view detail) const;

  // How a node is described in "found ...": "\"abc\"", "a list", "a mapping", "nothing".
  std::string Describe() const;

 private:
  YamlReader(YAML::Node node, std::shared_ptr<const std::string> file, std::string path,
             YAML::Mark mark);
  std::string ChildPath(std::string_view key) const;

  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
  YAML::Mark mark_;  // where this node (or, when missing, its parent) starts
};

}  // namespace zkop::config
