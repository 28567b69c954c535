// Value types of the ZooKeeper client: node metadata, ACLs, create modes, operation
// results and multi (transaction) operations. All are plain values, safe to copy and to
// move between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zkop/zk/status.h"

namespace zkop::zk {

// Node metadata (ZooKeeper's Stat). Versions start at 0; `ephemeral_owner` is the
// session id owning an ephemeral node and 0 for persistent nodes.
struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t pzxid = 0;
  int64_t ctime_ms = 0;
  int64_t mtime_ms = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
};

// Permission bits (ZOO_PERM_*).
namespace perm {
inline constexpr int kRead = 1 << 0;
inline constexpr int kWrite = 1 << 1;
inline constexpr int kCreate = 1 << 2;
inline constexpr int kDelete = 1 << 3;
inline constexpr int kAdmin = 1 << 4;
inline constexpr int kAll = kRead | kWrite | kCreate | kDelete | kAdmin;
}  // namespace perm

struct AclEntry {
  int perms = 0;
  std::string scheme;  // "world", "auth", "digest", "ip"
  std::string id;      // "anyone", "", "user:base64(sha1(user:password))", "10.0.0.0/8"
  bool operator==(const AclEntry&) const = default;
};
using Acl = std::vector<AclEntry>;

enum class CreateMode {
  kPersistent,
  kEphemeral,
  kPersistentSequential,
  kEphemeralSequential,
  kContainer,
};
bool IsEphemeral(CreateMode mode);

// Every result carries `status`; the other fields are meaningful only when status.ok().
struct CreateResult {
  Status status;
  std::string path;  // the created path (with the sequence suffix for sequential modes)
  Stat stat;
};
struct StatResult {  // exists, set, delete (stat unset for delete)
  Status status;
  Stat stat;
};
struct DataResult {  // get, getConfig, reconfig
  Status status;
  std::string data;
  Stat stat;
};
struct ChildrenResult {
  Status status;
  std::vector<std::string> children;  // names, not paths; order as the server sends them
  Stat stat;                          // of the parent
};

// One operation of a multi (transaction). Build with the factories.
struct Op {
  enum class Type { kCreate, kDelete, kSetData, kCheck };
  Type type = Type::kCheck;
  std::string path;
  std::string data;
  int version = -1;  // -1: no version check (delete, set); check requires a real version
  CreateMode mode = CreateMode::kPersistent;
  Acl acl;  // create only; empty means the client's default ACL

  static Op Create(std::string path, std::string data, CreateMode mode = CreateMode::kPersistent,
                   Acl acl = {});
  static Op Delete(std::string path, int version = -1);
  static Op SetData(std::string path, std::string data, int version = -1);
  static Op Check(std::string path, int version);
};

struct OpResult {
  Error error = Error::kOk;  // per-op outcome; kOk for all ops of an applied transaction
  std::string path;          // create: the created path
  Stat stat;                 // set: the new stat
};
// A multi either applies every op or none. On failure `status` is the first failing op's
// error and `results` says which op failed (the others carry kOk or kRuntimeInconsistency
// mapped to kSystemError, as the server reports them).
struct MultiResult {
  Status status;
  std::vector<OpResult> results;
};

// Connection / session state as the owner sees it.
enum class State {
  kConnecting,  // no connection yet, or connection lost; the session (if any) may survive
  kConnected,   // connected; requests flow
  kReadOnly,    // connected to a read-only server (not used by zkop ensembles)
  kExpired,     // the session expired; a new one is being created
  kAuthFailed,  // the server rejected our credentials; a new handle is being created
  kClosed,      // Close() was called
};
std::string_view StateName(State s);

// An event delivered to a one-shot watch.
enum class EventType {
  kCreated,
  kDeleted,
  kDataChanged,
  kChildrenChanged,
  kSessionExpired,  // the session that held the watch expired; the watch is gone
  kClosed,          // the Client closed; the watch is gone
};
std::string_view EventTypeName(EventType t);
struct WatchEvent {
  EventType type;
  std::string path;
};

}  // namespace zkop::zk
