// Result codes of every ZooKeeper operation in zkop.
//
// Contract:
//  - `Error` names every outcome a caller may need to branch on. FromZooCode maps each
//    C client code (ZOK, ZNONODE, ... from <zookeeper/zookeeper.h>) to exactly one Error;
//    codes zkop does not know map to kUnknown and keep the raw number in the detail.
//  - `Status` is a value: a code plus a human-readable detail (the path, the server, what
//    to do). Its ToString() never contains credentials: callers never put them in `detail`.
//  - Nothing here throws or allocates on the success path.
#pragma once

#include <string>
#include <string_view>

namespace zkop::zk {

enum class Error {
  kOk = 0,
  // Per-node outcomes: the request reached the ensemble and was refused.
  kNoNode,                   // ZNONODE: the node (or, for create, its parent) does not exist
  kNodeExists,               // ZNODEEXISTS
  kBadVersion,               // ZBADVERSION: the expected version did not match
  kNotEmpty,                 // ZNOTEMPTY: the node has children
  kNoChildrenForEphemerals,  // ZNOCHILDRENFOREPHEMERALS
  kNoAuth,                   // ZNOAUTH: the session lacks the permission the ACL requires
  kInvalidAcl,               // ZINVALIDACL
  kBadArguments,             // ZBADARGUMENTS: malformed path, data, ACL or reconfig request
  kReconfigInProgress,       // ZRECONFIGINPROGRESS: retry later
  kNewConfigNoQuorum,        // ZNEWCONFIGNOQUORUM: joining servers are not connected/synced
  kReconfigDisabled,         // ZRECONFIGDISABLED: server runs without reconfigEnabled=true
  kUnimplemented,            // ZUNIMPLEMENTED
  kThrottled,                // ZTHROTTLEDOP: not executed, retry
  kNotReadOnly,              // ZNOTREADONLY: write sent to a read-only server
  // Session and transport outcomes: the request may or may not have been applied.
  kConnectionLoss,    // ZCONNECTIONLOSS: the session survives; the op's effect is unknown
  kOperationTimeout,  // ZOPERATIONTIMEOUT, or a sync call's deadline passed
  kSessionExpired,    // ZSESSIONEXPIRED: ephemerals of the session are gone
  kSessionMoved,      // ZSESSIONMOVED
  kAuthFailed,        // ZAUTHFAILED: the handle is unusable
  kClosing,           // ZCLOSING: the handle is being closed
  kInvalidState,      // ZINVALIDSTATE: the handle is expired or auth-failed
  kMarshallingError,  // ZMARSHALLINGERROR: out of memory or oversized request
  kSystemError,       // ZSYSTEMERROR and the ZRUNTIME/ZDATAINCONSISTENCY family
  // zkop's own outcomes.
  kConnectTimeout,  // no session could be established before the caller's deadline
  kWouldDeadlock,   // a blocking call was made on the C client's completion thread
  kClosed,          // the Client was closed (or is being destroyed)
  kIoError,         // socket error talking to a server (four-letter words)
  kParseError,      // a server answer zkop could not parse
  kUnknown,         // a C client code zkop does not know (detail carries the number)
};

// "NONODE", "CONNECTIONLOSS", ... (stable, for logs and metrics labels).
std::string_view ErrorName(Error e);
// One sentence saying what the error means for the caller.
std::string_view ErrorMeaning(Error e);
// Maps a C client return code. `rc` values zkop does not know give kUnknown.
Error FromZooCode(int rc);
// True for outcomes after which a write may or may not have been applied
// (kConnectionLoss, kOperationTimeout).
bool IsOutcomeUnknown(Error e);

class Status {
 public:
  Status() = default;
  explicit Status(Error code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {}
  // From a C client code; for unknown codes the number is appended to `detail`.
  static Status FromZoo(int rc, std::string detail = {});

  bool ok() const { return code_ == Error::kOk; }
  Error code() const { return code_; }
  const std::string& detail() const { return detail_; }
  // "NONODE: node does not exist (/a/b)" or "OK".
  std::string ToString() const;

 private:
  Error code_ = Error::kOk;
  std::string detail_;
};

}  // namespace zkop::zk
