#include "audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "json_util.h"
#include "k8s_time.h"

namespace zkop::devkube {
namespace {

std::string MicroTime(std::chrono::system_clock::time_point t) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  return FormatUnixTime(us / 1000000, static_cast<int32_t>(us % 1000000) * 1000, true).value_or("");
}

}  // namespace

AuditLog::AuditLog(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) file_ = ::fdopen(fd, "a");
  if (!file_) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("--audit-log " + path + ": cannot open for appending: " + why);
  }
}

AuditLog::~AuditLog() {
  if (file_) std::fclose(file_);
}

void AuditLog::Record(const HttpRequest& request, const RequestAttributes& a, int code,
                      bool streamed, std::chrono::system_clock::time_point received) {
  Json ev = Json::object();
  ev["kind"] = Json::string("Event");
  ev["apiVersion"] = Json::string("audit.k8s.io/v1");
  ev["level"] = Json::string("Metadata");
  ev["auditID"] = Json::string(NewUid());
  ev["stage"] = Json::string(streamed ? "ResponseStarted" : "ResponseComplete");
  std::string uri = request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    uri += sep + k + "=" + v;
    sep = '&';
  }
  ev["requestURI"] = Json::string(uri);
  ev["verb"] = Json::string(a.verb);
  Json user = Json::object();
  user["username"] = Json::string(a.user.name);
  Json groups = Json::array();
  for (size_t i = 0; i < a.user.groups.size(); ++i) groups[i] = Json::string(a.user.groups[i]);
  user["groups"] = groups;
  ev["user"] = user;
  if (a.resource_request) {
    Json ref = Json::object();
    ref["apiGroup"] = Json::string(a.api_group);
    ref["apiVersion"] = Json::string(a.api_version);
    ref["resource"] = Json::string(a.resource);
    if (!a.subresource.empty()) ref["subresource"] = Json::string(a.subresource);
    if (!a.ns.empty()) ref["namespace"] = Json::string(a.ns);
    if (!a.name.empty()) ref["name"] = Json::string(a.name);
    ev["objectRef"] = ref;
  }
  Json status = Json::object();
  status["code"] = Json::number(code);
  ev["responseStatus"] = status;
  ev["requestReceivedTimestamp"] = Json::string(MicroTime(received));
  ev["stageTimestamp"] = Json::string(MicroTime(std::chrono::system_clock::now()));
  const std::string line = ev.serialize() + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace zkop::devkube
