#include "zkop/zk/status.h"

#include <zookeeper/zookeeper.h>

namespace zkop::zk {

std::string_view ErrorName(Error e) {
  switch (e) {
    case Error::kOk:
      return "OK";
    case Error::kNoNode:
      return "NONODE";
    case Error::kNodeExists:
      return "NODEEXISTS";
    case Error::kBadVersion:
      return "BADVERSION";
    case Error::kNotEmpty:
      return "NOTEMPTY";
    case Error::kNoChildrenForEphemerals:
      return "NOCHILDRENFOREPHEMERALS";
    case Error::kNoAuth:
      return "NOAUTH";
    case Error::kInvalidAcl:
      return "INVALIDACL";
    case Error::kBadArguments:
      return "BADARGUMENTS";
    case Error::kReconfigInProgress:
      return "RECONFIGINPROGRESS";
    case Error::kNewConfigNoQuorum:
      return "NEWCONFIGNOQUORUM";
    case Error::kReconfigDisabled:
      return "RECONFIGDISABLED";
    case Error::kUnimplemented:
      return "UNIMPLEMENTED";
    case Error::kThrottled:
      return "THROTTLED";
    case Error::kNotReadOnly:
      return "NOTREADONLY";
    case Error::kConnectionLoss:
      return "CONNECTIONLOSS";
    case Error::kOperationTimeout:
      return "OPERATIONTIMEOUT";
    case Error::kSessionExpired:
      return "SESSIONEXPIRED";
    case Error::kSessionMoved:
      return "SESSIONMOVED";
    case Error::kAuthFailed:
      return "AUTHFAILED";
    case Error::kClosing:
      return "CLOSING";
    case Error::kInvalidState:
      return "INVALIDSTATE";
    case Error::kMarshallingError:
      return "MARSHALLINGERROR";
    case Error::kSystemError:
      return "SYSTEMERROR";
    case Error::kConnectTimeout:
      return "CONNECTTIMEOUT";
    case Error::kWouldDeadlock:
      return "WOULDDEADLOCK";
    case Error::kClosed:
      return "CLOSED";
    case Error::kIoError:
      return "IOERROR";
    case Error::kParseError:
      return "PARSEERROR";
    case Error::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

std::string_view ErrorMeaning(Error e) {
  switch (e) {
    case Error::kOk:
      return "ok";
    case Error::kNoNode:
      return "node does not exist";
    case Error::kNodeExists:
      return "node already exists";
    case Error::kBadVersion:
      return "node version does not match the expected version";
    case Error::kNotEmpty:
      return "node has children";
    case Error::kNoChildrenForEphemerals:
      return "ephemeral nodes cannot have children";
    case Error::kNoAuth:
      return "not authorized: the session lacks the permission the ACL requires";
    case Error::kInvalidAcl:
      return "invalid ACL";
    case Error::kBadArguments:
      return "invalid arguments";
    case Error::kReconfigInProgress:
      return "another reconfiguration is in progress; retry";
    case Error::kNewConfigNoQuorum:
      return "no quorum of the new configuration is connected and synced with the leader";
    case Error::kReconfigDisabled:
      return "reconfiguration is disabled on the server";
    case Error::kUnimplemented:
      return "operation not implemented by the server";
    case Error::kThrottled:
      return "operation throttled by the server; retry";
    case Error::kNotReadOnly:
      return "write sent to a read-only server";
    case Error::kConnectionLoss:
      return "connection to the server lost; the session may survive and the operation may "
             "or may not have been applied";
    case Error::kOperationTimeout:
      return "no answer in time; the operation may or may not have been applied";
    case Error::kSessionExpired:
      return "session expired; its ephemeral nodes are gone";
    case Error::kSessionMoved:
      return "session moved to another server";
    case Error::kAuthFailed:
      return "authentication failed";
    case Error::kClosing:
      return "client is closing";
    case Error::kInvalidState:
      return "handle is expired or failed authentication";
    case Error::kMarshallingError:
      return "request could not be encoded (too large?)";
    case Error::kSystemError:
      return "system error in the ZooKeeper client";
    case Error::kConnectTimeout:
      return "could not establish a ZooKeeper session in time";
    case Error::kWouldDeadlock:
      return "blocking call on the ZooKeeper completion thread refused (it would deadlock); "
             "use the async form";
    case Error::kClosed:
      return "client is closed";
    case Error::kIoError:
      return "socket error";
    case Error::kParseError:
      return "unexpected answer";
    case Error::kUnknown:
      return "unknown ZooKeeper error";
  }
  return "unknown ZooKeeper error";
}

Error FromZooCode(int rc) {
  switch (rc) {
    case ZOK:
      return Error::kOk;
    case ZNONODE:
      return Error::kNoNode;
    case ZNODEEXISTS:
      return Error::kNodeExists;
    case ZBADVERSION:
      return Error::kBadVersion;
    case ZNOTEMPTY:
      return Error::kNotEmpty;
    case ZNOCHILDRENFOREPHEMERALS:
      return Error::kNoChildrenForEphemerals;
    case ZNOAUTH:
      return Error::kNoAuth;
    case ZINVALIDACL:
      return Error::kInvalidAcl;
    case ZBADARGUMENTS:
      return Error::kBadArguments;
    case ZRECONFIGINPROGRESS:
      return Error::kReconfigInProgress;
    case ZNEWCONFIGNOQUORUM:
      return Error::kNewConfigNoQuorum;
    case ZRECONFIGDISABLED:
      return Error::kReconfigDisabled;
    case ZUNIMPLEMENTED:
      return Error::kUnimplemented;
    case ZTHROTTLEDOP:
      return Error::kThrottled;
    case ZNOTREADONLY:
      return Error::kNotReadOnly;
    case ZCONNECTIONLOSS:
      return Error::kConnectionLoss;
    case ZOPERATIONTIMEOUT:
      return Error::kOperationTimeout;
    case ZSESSIONEXPIRED:
      return Error::kSessionExpired;
    case ZSESSIONMOVED:
      return Error::kSessionMoved;
    case ZAUTHFAILED:
      return Error::kAuthFailed;
    case ZSESSIONCLOSEDREQUIRESASLAUTH:
      return Error::kAuthFailed;
    case ZCLOSING:
      return Error::kClosing;
    case ZINVALIDSTATE:
      return Error::kInvalidState;
    case ZMARSHALLINGERROR:
      return Error::kMarshallingError;
    case ZSYSTEMERROR:
    case ZRUNTIMEINCONSISTENCY:
    case ZDATAINCONSISTENCY:
    case ZAPIERROR:
    case ZINVALIDCALLBACK:
    case ZNOWATCHER:
    case ZEPHEMERALONLOCALSESSION:
    case ZSSLCONNECTIONERROR:
      return Error::kSystemError;
    default:
      return Error::kUnknown;
  }
}

bool IsOutcomeUnknown(Error e) {
  return e == Error::kConnectionLoss || e == Error::kOperationTimeout;
}

Status Status::FromZoo(int rc, std::string detail) {
  Error e = FromZooCode(rc);
  if (e == Error::kUnknown || e == Error::kSystemError) {
    std::string code = "C client code " + std::to_string(rc) + " (" + zerror(rc) + ")";
    detail = detail.empty() ? code : detail + "; " + code;
  }
  return Status(e, std::move(detail));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorName(code_));
  out += ": ";
  out += ErrorMeaning(code_);
  if (!detail_.empty()) {
    out += " (";
    out += detail_;
    out += ")";
  }
  return out;
}

}  // namespace zkop::zk
