// The audit log (`zkop-devkube --audit-log FILE`, ApiServerOptions::audit_log): one JSON line
// per request, the shape of kube-apiserver's audit.k8s.io/v1 Event at level Metadata, stage
// ResponseStarted for watches and log streams and ResponseComplete for everything else — the
// stage at which the response code is known. Fields: auditID, stage, requestURI, verb,
// user {username, groups} (after impersonation: the user the request acts as), objectRef {apiGroup,
// apiVersion, resource, subresource, namespace, name}, responseStatus {code},
// requestReceivedTimestamp, stageTimestamp. Tests use it to see exactly which
// (group, resource, verb) a ServiceAccount used.
//
// Contract: Record() is thread-safe; each line is written and flushed whole. The constructor
// throws std::runtime_error naming the file when it cannot be opened (append mode, 0600).
// Request bodies and tokens are never written.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "auth.h"
#include "http_server.h"

namespace zkop::devkube {

class AuditLog {
 public:
  explicit AuditLog(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void Record(const HttpRequest& request, const RequestAttributes& attributes, int code,
              bool streamed, std::chrono::system_clock::time_point received);

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
};

// Wraps the Exchange of one request: the first response (Respond or BeginStream) is recorded
// with the attributes Security filled in (the user after authentication and impersonation).
class AuditedExchange : public Exchange {
 public:
  AuditedExchange(Exchange& inner, AuditLog& log)
      : inner_(inner),
        log_(log),
        attributes_(ParseRequestAttributes(inner.request())),
        received_(std::chrono::system_clock::now()) {}

  RequestAttributes& attributes() { return attributes_; }

  const HttpRequest& request() const override { return inner_.request(); }
  void Respond(const HttpResponse& response) override {
    Record(response.status, false);
    inner_.Respond(response);
  }
  bool BeginStream(int status, const std::string& content_type) override {
    Record(status, true);
    return inner_.BeginStream(status, content_type);
  }
  bool WriteChunk(const std::string& data) override { return inner_.WriteChunk(data); }
  bool ClientClosed() override { return inner_.ClientClosed(); }
  bool Stopping() const override { return inner_.Stopping(); }

 private:
  void Record(int code, bool streamed) {
    if (recorded_) return;
    recorded_ = true;
    log_.Record(inner_.request(), attributes_, code, streamed, received_);
  }

  Exchange& inner_;
  AuditLog& log_;
  RequestAttributes attributes_;
  std::chrono::system_clock::time_point received_;
  bool recorded_ = false;
};

}  // namespace zkop::devkube
