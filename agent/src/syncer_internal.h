// Internals shared by the Syncer's source files (syncer.cc, syncer_sweep.cc). Not an API.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pending.h"
#include "zkop/agent/syncer.h"

namespace zkop::agent {

// A node to create: its key, and the hash of its parent directory (sorting by it puts
// siblings next to each other). Its path is rendered when its batch is built.
struct Syncer::Item {
  NodeKey key;
  size_t dir = 0;
};

// What CreateMissing learned about the parents that were not known to exist.
// By hash of the parent's path (see ParentKey): a cold start has two new parents per node.
struct Syncer::Plan {
  enum class State { kExists, kAbsent, kAssumed };
  std::unordered_map<size_t, State> parents;
  State Of(std::string_view path) const {
    auto it = parents.find(ParentKey(path));
    return it == parents.end() ? State::kExists : it->second;  // not unknown: known to exist
  }
};

// "/a/b/c" -> "/a/b"; "/a" and "" -> "" (the root needs no creating).
inline std::string_view ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

}  // namespace zkop::agent
