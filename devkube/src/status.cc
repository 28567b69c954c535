#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

Json ApiStatus::ToJson() const {
  Json s = Json::object();
  s["kind"] = Json::string("Status");
  s["apiVersion"] = Json::string("v1");
  s["metadata"] = Json::object();
  s["status"] = Json::string(ok() ? "Success" : "Failure");
  if (!message.empty()) s["message"] = Json::string(message);
  if (!reason.empty()) s["reason"] = Json::string(reason);
  Json details = Json::object();
  if (!name.empty()) details["name"] = Json::string(name);
  if (!group.empty()) details["group"] = Json::string(group);
  if (!kind.empty()) details["kind"] = Json::string(kind);
  if (!uid.empty()) details["uid"] = Json::string(uid);
  if (!causes.empty()) {
    Json list = Json::array();
    for (size_t i = 0; i < causes.size(); ++i) {
      Json c = Json::object();
      c["reason"] = Json::string(causes[i].reason);
      c["message"] = Json::string(causes[i].message);
      c["field"] = Json::string(causes[i].field);
      list[i] = c;
    }
    details["causes"] = list;
  }
  if (retry_after_seconds > 0) details["retryAfterSeconds"] = Json::number(retry_after_seconds);
  if (details.size() > 0) s["details"] = details;
  s["code"] = Json::number(code);
  return s;
}

ApiStatus ApiStatus::Error(int code, std::string reason, std::string message) {
  ApiStatus s;
  s.code = code;
  s.reason = std::move(reason);
  s.message = std::move(message);
  return s;
}

ApiStatus ApiStatus::BadRequest(std::string message) {
  return Error(400, "BadRequest", std::move(message));
}

ApiStatus ApiStatus::NotFound(const ResourceType& type, const std::string& name) {
  ApiStatus s = Error(404, "NotFound", type.QualifiedResource() + " \"" + name + "\" not found");
  s.name = name;
  s.group = type.group;
  s.kind = type.resource;
  return s;
}

ApiStatus ApiStatus::AlreadyExists(const ResourceType& type, const std::string& name) {
  ApiStatus s =
      Error(409, "AlreadyExists", type.QualifiedResource() + " \"" + name + "\" already exists");
  s.name = name;
  s.group = type.group;
  s.kind = type.resource;
  return s;
}

ApiStatus ApiStatus::Conflict(const ResourceType& type, const std::string& name,
                              const std::string& why) {
  ApiStatus s = Error(
      409, "Conflict",
      "Operation cannot be fulfilled on " + type.QualifiedResource() + " \"" + name + "\": " + why);
  s.name = name;
  s.group = type.group;
  s.kind = type.resource;
  return s;
}

ApiStatus ApiStatus::Invalid(const ResourceType& type, const std::string& name,
                             std::vector<StatusCause> causes) {
  std::string joined;
  for (const StatusCause& c : causes)
    joined += (joined.empty() ? "" : ", ") + c.field + ": " + c.message;
  if (causes.size() > 1) joined = "[" + joined + "]";
  ApiStatus s =
      Error(422, "Invalid", type.QualifiedKind() + " \"" + name + "\" is invalid: " + joined);
  s.name = name;
  s.group = type.group;
  s.kind = type.kind;
  s.causes = std::move(causes);
  return s;
}

const char* WatchEventTypeName(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kAdded:
      return "ADDED";
    case WatchEvent::Type::kModified:
      return "MODIFIED";
    case WatchEvent::Type::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

}  // namespace zkop::devkube
