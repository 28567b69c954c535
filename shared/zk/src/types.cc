#include "zkop/zk/types.h"

namespace zkop::zk {

bool IsEphemeral(CreateMode mode) {
  return mode == CreateMode::kEphemeral || mode == CreateMode::kEphemeralSequential;
}

Op Op::Create(std::string path, std::string data, CreateMode mode, Acl acl) {
  Op op;
  op.type = Type::kCreate;
  op.path = std::move(path);
  op.data = std::move(data);
  op.mode = mode;
  op.acl = std::move(acl);
  return op;
}

Op Op::Delete(std::string path, int version) {
  Op op;
  op.type = Type::kDelete;
  op.path = std::move(path);
  op.version = version;
  return op;
}

Op Op::SetData(std::string path, std::string data, int version) {
  Op op;
  op.type = Type::kSetData;
  op.path = std::move(path);
  op.data = std::move(data);
  op.version = version;
  return op;
}

Op Op::Check(std::string path, int version) {
  Op op;
  op.type = Type::kCheck;
  op.path = std::move(path);
  op.version = version;
  return op;
}

std::string_view StateName(State s) {
  switch (s) {
    case State::kConnecting:
      return "connecting";
    case State::kConnected:
      return "connected";
    case State::kReadOnly:
      return "read-only";
    case State::kExpired:
      return "expired";
    case State::kAuthFailed:
      return "auth-failed";
    case State::kClosed:
      return "closed";
  }
  return "unknown";
}

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kCreated:
      return "created";
    case EventType::kDeleted:
      return "deleted";
    case EventType::kDataChanged:
      return "data-changed";
    case EventType::kChildrenChanged:
      return "children-changed";
    case EventType::kSessionExpired:
      return "session-expired";
    case EventType::kClosed:
      return "closed";
  }
  return "unknown";
}

}  // namespace zkop::zk
