#include "zkop/agent/node.h"

namespace zkop::agent {

size_t NodeKeyHash::operator()(const NodeKey& k) const {
  uint64_t h = 1469598103934665603ULL;
  for (uint64_t v : {uint64_t{k.kind}, uint64_t{k.index}, static_cast<uint64_t>(k.port),
                     static_cast<uint64_t>(k.pid), static_cast<uint64_t>(k.stamp_ms), k.revision}) {
    h = (h ^ v) * 1099511628211ULL;
    h ^= h >> 29;
  }
  return static_cast<size_t>(h);
}

std::vector<NodeKey> LiteralNodes::Keys(const std::map<std::string, std::string>& nodes) {
  std::vector<NodeKey> out;
  out.reserve(nodes.size());
  for (const auto& pair : nodes) {
    auto [it, added] = index_.emplace(pair, static_cast<uint32_t>(pairs_.size()));
    if (added) pairs_.push_back(pair);
    NodeKey k;
    k.index = it->second;
    out.push_back(k);
  }
  return out;
}

}  // namespace zkop::agent
