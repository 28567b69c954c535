#include "zkop/kube/error.h"

namespace zkop::kube {

namespace {

std::string StringField(const Json& obj, const char* key) {
  if (obj.is_object() && obj.has_string_field(key)) return obj.at(key).as_string();
  return {};
}

ErrorKind KindFor(int code, const std::string& reason) {
  if (reason == "AlreadyExists") return ErrorKind::kAlreadyExists;
  if (reason == "Timeout" || reason == "ServerTimeout") return ErrorKind::kTimeout;
  if (reason == "Expired") return ErrorKind::kGone;
  switch (code) {
    case 400:
      return ErrorKind::kBadRequest;
    case 401:
      return ErrorKind::kUnauthorized;
    case 403:
      return ErrorKind::kForbidden;
    case 404:
      return ErrorKind::kNotFound;
    case 405:
      return ErrorKind::kMethodNotAllowed;
    case 409:
      return ErrorKind::kConflict;
    case 410:
      return ErrorKind::kGone;
    case 422:
      return ErrorKind::kInvalid;
    case 429:
      return ErrorKind::kTooManyRequests;
    case 504:
      return ErrorKind::kTimeout;
    default:
      return code >= 500 && code < 600 ? ErrorKind::kServerError : ErrorKind::kOther;
  }
}

}  // namespace

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadRequest:
      return "BadRequest";
    case ErrorKind::kUnauthorized:
      return "Unauthorized";
    case ErrorKind::kForbidden:
      return "Forbidden";
    case ErrorKind::kNotFound:
      return "NotFound";
    case ErrorKind::kMethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorKind::kAlreadyExists:
      return "AlreadyExists";
    case ErrorKind::kConflict:
      return "Conflict";
    case ErrorKind::kGone:
      return "Gone";
    case ErrorKind::kInvalid:
      return "Invalid";
    case ErrorKind::kTooManyRequests:
      return "TooManyRequests";
    case ErrorKind::kServerError:
      return "ServerError";
    case ErrorKind::kTimeout:
      return "Timeout";
    case ErrorKind::kConnection:
      return "Connection";
    case ErrorKind::kDecode:
      return "Decode";
    case ErrorKind::kCancelled:
      return "Cancelled";
    case ErrorKind::kOther:
      return "Other";
  }
  return "Other";
}

Error Error::FromStatus(const Json& status) {
  int code = 0;
  if (status.is_object() && status.has_number_field("code")) code = status.at("code").as_integer();
  std::string reason = StringField(status, "reason");
  std::string message = StringField(status, "message");
  Error e(KindFor(code, reason), code, message.empty() ? reason : message);
  e.reason_ = std::move(reason);
  if (status.is_object() && status.has_object_field("details")) {
    const Json& details = status.at("details");
    if (details.has_number_field("retryAfterSeconds")) {
      e.retry_after_ = std::chrono::seconds(details.at("retryAfterSeconds").as_integer());
    }
    if (details.has_array_field("causes")) {
      for (const Json& c : details.at("causes").as_array()) {
        e.causes_.push_back(
            Cause{StringField(c, "reason"), StringField(c, "message"), StringField(c, "field")});
      }
    }
  }
  return e;
}

Error Error::FromResponse(int http_status, const std::string& body,
                          std::optional<std::chrono::seconds> retry_after) {
  Json status;
  try {
    if (!body.empty()) status = Json::parse(body);
  } catch (const web::json::json_exception&) {
    status = Json();
  }
  Error e(ErrorKind::kOther, http_status, "");
  if (status.is_object() && StringField(status, "kind") == "Status") {
    e = FromStatus(status);
    e.http_status_ = http_status;
    if (e.reason_ != "AlreadyExists" && e.reason_ != "Timeout" && e.reason_ != "Expired") {
      e.kind_ = KindFor(http_status, e.reason_);
    }
  } else {
    e.kind_ = KindFor(http_status, "");
    e.message_ = body.size() > 200 ? body.substr(0, 200) + "..." : body;
  }
  if (e.message_.empty()) e.message_ = "HTTP " + std::to_string(http_status);
  if (retry_after) e.retry_after_ = retry_after;
  return e;
}

std::string Error::ToString() const {
  std::string out(ErrorKindName(kind_));
  if (http_status_ != 0) out += " (" + std::to_string(http_status_) + ")";
  out += ": " + message_;
  if (!causes_.empty()) {
    out += " [";
    for (size_t i = 0; i < causes_.size(); ++i) {
      if (i) out += "; ";
      out += causes_[i].field.empty() ? causes_[i].message
                                      : causes_[i].field + ": " + causes_[i].message;
    }
    out += "]";
  }
  if (retry_after_) out += " (retry after " + std::to_string(retry_after_->count()) + "s)";
  return out;
}

}  // namespace zkop::kube
