// The registry side of the agent, behind an interface so the sync engine can be tested with
// an in-memory fake that injects faults (leveldb's Env idea). The production implementation
// (ZkRegistryStore) runs each RegistrySession on its own zkop::zk::Client.
//
// Threading: every method is thread-safe. Completion callbacks may run on any thread
// (including inline, before the call returns); they must not block.
// Async contract: every callback runs exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace zkop::agent {

enum class RegError {
  kOk,
  kNodeExists,
  kNoNode,          // the node, or for a create its parent, does not exist
  kConnectionLoss,  // outcome unknown; the session may survive
  kSessionExpired,  // the session is gone (its ephemeral nodes too)
  kBadVersion,      // a conditional write found another version (compare-and-set lost)
  kClosed,          // the session was closed by us
  kOther,           // anything else (see detail)
};
std::string_view RegErrorName(RegError e);  // "ok", "node_exists", ... (metric labels)

struct RegStatus {
  RegError error = RegError::kOk;
  std::string detail;
  bool ok() const { return error == RegError::kOk; }
};

struct NodeSpec {
  std::string path;
  std::string data;
  bool persistent = false;  // a parent directory; ephemeral (owned by the session) otherwise
};

// A node as read: its data, data version and ephemeralOwner (0 for a persistent node).
struct NodeRead {
  std::string data;
  int32_t version = 0;
  int64_t owner = 0;
};

// One ZooKeeper session. After expiry the implementation creates a new session by itself;
// session_id() then changes (that is how owners notice).
class RegistrySession {
 public:
  virtual ~RegistrySession() = default;
  virtual int64_t session_id() const = 0;  // 0 while there is none
  virtual bool connected() const = 0;
  // Times the connection was regained within the same session (lost connection, then the
  // client moved to another server or the server came back). Monotonic.
  virtual uint64_t reconnects() const = 0;

  // Creates each path (and its missing ancestors) as a persistent node with empty data;
  // an existing node is success. `done` gets the first failure, if any.
  virtual void EnsurePersistent(std::vector<std::string> paths,
                                std::function<void(RegStatus)> done) = 0;
  // One atomic multi creating every node, in order (a parent before its children). `done`
  // gets the overall status and, when it failed, one error per node (the failing node's
  // error; the others kOther or kOk).
  using MultiDone = std::function<void(RegStatus, std::vector<RegError>)>;
  virtual void CreateAll(std::vector<NodeSpec> nodes, MultiDone done) = 0;
  // One atomic multi deleting every path (any version).
  virtual void DeleteAll(std::vector<std::string> paths, MultiDone done) = 0;
  // The names of the children of `path`; kNoNode when it does not exist.
  virtual void Children(std::string path,
                        std::function<void(RegStatus, std::vector<std::string>)> done) = 0;
  // The ephemeralOwner of `path` (0 for a persistent node); kNoNode when absent.
  virtual void Owner(std::string path, std::function<void(RegStatus, int64_t owner)> done) = 0;
  // The data, version and owner of `path`; kNoNode when absent. The data is bounded by the
  // server's jute.maxbuffer (1 MB).
  virtual void Read(std::string path, std::function<void(RegStatus, NodeRead)> done) = 0;
  // Sets the data of `path` when its version is `version` (-1: any); kBadVersion when it is
  // not, kNoNode when absent.
  virtual void Write(std::string path, std::string data, int32_t version,
                     std::function<void(RegStatus)> done) = 0;
  // Closes the session: its ephemeral nodes go at once. Bounded by the implementation's
  // operation timeout. Idempotent.
  virtual void Close() = 0;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;
  // Starts a new session (connecting in the background). `wake` is called (from any thread)
  // whenever the session's state or id changes, so the owner can look again.
  virtual std::unique_ptr<RegistrySession> Open(std::function<void()> wake) = 0;
};

}  // namespace zkop::agent
