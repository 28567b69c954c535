// Maps Kubernetes REST requests onto the Store: discovery, OpenAPI, CRUD, patch, delete,
// subresources, Table output and streamed watches.
//
// Contract: Handle() is called concurrently from connection threads; it never throws and
// always answers (a Status body for every failure).
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "audit.h"
#include "http_server.h"
#include "zkop/devkube/api_server.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

class Security;

class ApiHandler {
 public:
  ApiHandler(Store& store, std::chrono::milliseconds bookmark_interval)
      : store_(store), bookmark_interval_(bookmark_interval) {}
  // The address /api advertises; set once the listener is bound (requests may already run).
  void set_server_address(std::string address) {
    std::lock_guard<std::mutex> lock(mu_);
    server_address_ = std::move(address);
  }

  void Handle(Exchange& ex);
  // Authentication, authorization and the review/token endpoints (security.h) run before
  // routing; null: none. Set before serving.
  void set_security(Security* security) { security_ = security; }
  // Every request's audit record goes to `audit` (audit.h); null: none. Set before serving.
  void set_audit(AuditLog* audit) { audit_ = audit; }

  void InjectFault(Fault fault);
  void ClearFaults();
  std::vector<std::string> RequestLog() const;
  void SetPodLogSource(PodLogSource source);

 private:
  // Handle's work; `seen` gets the request's attributes once authenticated (audit).
  void Serve(Exchange& ex, RequestAttributes* seen);
  void HandlePodLog(Exchange& ex, const ResourceRef& ref);
  // Records the request and plays back a matching fault; true when it answered.
  bool PlayFault(Exchange& ex);
  struct Route;
  void HandleResource(Exchange& ex, const Route& route);
  void HandleWatch(Exchange& ex, const Route& route);

  Store& store_;
  Security* security_ = nullptr;
  AuditLog* audit_ = nullptr;
  std::chrono::milliseconds bookmark_interval_;
  std::string server_address_;
  mutable std::mutex mu_;  // guards server_address_, faults_, log_ and log_source_
  std::vector<Fault> faults_;
  std::deque<std::string> log_;
  PodLogSource log_source_;
};

}  // namespace zkop::devkube
