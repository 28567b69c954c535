// Kubernetes manifests as users write them: multi-document YAML read into the JSON objects the
// API takes, and JSON objects written back as YAML (for `zkop-operator render`).
//
// Contract: reading is bounded — the file must be a regular file of at most kMaxManifestBytes,
// and YAML aliases may not expand a document past kMaxManifestNodes nodes or kMaxDepth levels
// (a "billion laughs" document is refused, not expanded). Errors are ManifestError with
// "file:line:column: what" text; nothing else throws. Scalars are typed as YAML 1.2's core
// schema does (plain true/false/null/integers/floats; quoted scalars are strings).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "zkop/kube/error.h"

namespace zkop::kube {

inline constexpr size_t kMaxManifestBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxManifestNodes = 1'000'000;
inline constexpr int kMaxManifestDepth = 100;

class ManifestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The non-empty documents of `text`; `source` names it in errors.
std::vector<Json> ParseManifests(std::string_view text, const std::string& source);
// Reads and parses a file ("-" is standard input).
std::vector<Json> LoadManifestFile(const std::string& path);

// One YAML document (block style, keys in the object's order, strings quoted when YAML would
// read them as something else).
std::string ToYaml(const Json& value);

}  // namespace zkop::kube
