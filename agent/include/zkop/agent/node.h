// Registry nodes as small values. The sync engine holds, for every node it manages, only a
// NodeKey; the node's path and data are rendered by a NodeRenderer when they are needed
// (create, verify, delete). 10,000 Dubbo provider paths held as text would be ~4.6 MB; as
// keys they are ~0.5 MB.
//
// Contract for renderers: Path(key) is a pure function of the key for the renderer's
// lifetime (equal keys, equal paths), so a node can be found again to be verified or deleted
// long after it stopped being desired. Data(key) is only asked for keys that are currently
// desired. Different keys may render the same path (a node whose data changed): the engine
// deletes the old key's node before it creates the new one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace zkop::agent {

struct NodeKey {
  uint32_t kind = 0;   // the renderer's own kinds (provider, instance, literal, ...)
  uint32_t index = 0;  // what the renderer renders from (a service, an application, ...)
  int64_t port = 0;
  int64_t pid = 0;
  int64_t stamp_ms = 0;
  uint64_t revision = 0;  // a fingerprint of the data, when it can change for the same node
  friend bool operator==(const NodeKey&, const NodeKey&) = default;
};

struct NodeKeyHash {
  size_t operator()(const NodeKey& k) const;
};

class NodeRenderer {
 public:
  virtual ~NodeRenderer() = default;
  virtual std::string Path(const NodeKey& key) const = 0;
  virtual std::string Data(const NodeKey& key) const = 0;
  // Whether the registration of `key` may also exist under other names: earlier
  // incarnations (a Dubbo provider URL with another pid or timestamp, left by a killed or
  // crashed agent). The engine then lists the node's directory when it creates the node.
  virtual bool HasIncarnations(const NodeKey&) const { return false; }
  // True when `name`, a child of the directory of Path(key) other than the node itself, is
  // such an incarnation. Must be thread-safe (called on registry threads) and never say
  // yes for a node of another host or port.
  virtual bool IsIncarnation(const NodeKey&, std::string_view /*name*/) const { return false; }
  // True when a node found at Path(key), owned by a session that is not the engine's and
  // holding `data`, is someone else's registration (a provider that registers itself): the
  // engine then leaves it alone — neither replaces nor deletes it — for as long as `key`
  // stays desired. Otherwise such a node is stale and replaced.
  virtual bool Yields(const NodeKey&, std::string_view /*data*/) const { return false; }
};

// A renderer over explicit (path, data) pairs, for tools, benchmarks and tests: Keys() turns
// a path -> data map into keys, the same key for the same pair every time. Holds every pair
// it was ever given (not meant for a long-running process with changing nodes).
// Not thread-safe.
class LiteralNodes : public NodeRenderer {
 public:
  std::vector<NodeKey> Keys(const std::map<std::string, std::string>& nodes);
  std::string Path(const NodeKey& key) const override { return pairs_.at(key.index).first; }
  std::string Data(const NodeKey& key) const override { return pairs_.at(key.index).second; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
  std::map<std::pair<std::string, std::string>, uint32_t> index_;
};

}  // namespace zkop::agent
