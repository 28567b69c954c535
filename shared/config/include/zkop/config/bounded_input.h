// Bounded reading of configuration input: files that are what they claim to be and no
// bigger than a cap, and YAML whose size, nesting, alias expansion and keys are checked
// before anything walks it.
//
// Why: a YAML alias may name a node that names other aliases ("billion laughs"): 469 bytes
// that expand to 10^9 nodes for anyone who walks the tree (yaml-cpp shares aliased nodes,
// so parsing is cheap and the walk is what explodes). `/dev/zero` never ends; a FIFO with no
// writer blocks open(2) forever; a directory reads as empty. Every config and provider file
// zkop reads goes through here.
//
// Errors: ReadRegularFile returns false with a reason (the caller names the file);
// CheckYaml throws ConfigError naming file:line:column and what to fix. Never hangs: files
// are opened with O_NONBLOCK and refused unless regular.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zkop::config {

// Reads `path` into `*out` when it is a regular file (after following symlinks) of at most
// `max_bytes` bytes. On failure returns false and sets `*error` to the reason, e.g.
// "is not a regular file (a FIFO)" or "is larger than 16777216 bytes".
bool ReadRegularFile(const std::string& path, size_t max_bytes, std::string* out,
                     std::string* error);

struct YamlLimits {
  size_t max_bytes = 16 * 1024 * 1024;  // of the text
  size_t max_depth = 64;                // nested collections
  // Nodes after expanding every alias, over all documents. Without aliases this is just
  // the number of nodes (a 10,000-service agent config has ~150,000).
  size_t max_nodes = 2'000'000;
  bool allow_duplicate_keys = false;  // YAML 1.2 forbids them; Spring Boot refuses them
};

// Streams `text` through the YAML parser (no tree is built) and throws ConfigError at the
// first problem: invalid YAML, too large, too deep, an alias expanding past max_nodes, or a
// duplicate scalar key in a mapping (naming the line of the first occurrence). `name`
// stands for the file in messages.
void CheckYaml(std::string_view text, const std::string& name, const YamlLimits& limits = {});

}  // namespace zkop::config
