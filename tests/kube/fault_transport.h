// A Transport that wraps another and injects faults, for the client's retry,
// backoff and leader-election tests (leveldb Env style): scripted answers for
// the next matching requests, and a "blocked network" switch.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "zkop/kube/transport.h"

namespace zkop::kube::testing {

struct InjectedFault {
  std::string method;       // "" = any
  int status = 0;           // 0 = a connection failure (no HTTP answer)
  std::string retry_after;  // Retry-After header value, if any
  std::string body;
};

class FaultTransport : public Transport {
 public:
  explicit FaultTransport(std::shared_ptr<Transport> inner) : inner_(std::move(inner)) {}

  // The next request with a matching method gets `fault` instead of reaching the server.
  void Inject(InjectedFault fault) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back(std::move(fault));
  }
  // While blocked, every request fails as a connection failure after a short wait.
  void SetBlocked(bool blocked) { blocked_ = blocked; }

  // "METHOD target" of every request seen, including faulted ones.
  std::vector<std::string> Log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  std::vector<std::chrono::steady_clock::time_point> Times() const {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }

  HttpResponse Send(const HttpRequest& request) override {
    HttpResponse faulted;
    if (Intercept(request, &faulted)) return faulted;
    return inner_->Send(request);
  }

  HttpResponse Open(const HttpRequest& request, std::unique_ptr<LineStream>* stream) override {
    HttpResponse faulted;
    if (Intercept(request, &faulted)) return faulted;
    return inner_->Open(request, stream);
  }

 private:
  bool Intercept(const HttpRequest& request, HttpResponse* out) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(request.method + " " + request.target);
      times_.push_back(std::chrono::steady_clock::now());
    }
    if (blocked_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      out->failure = TransportFailure::kConnection;
      out->failure_message = "injected: network blocked";
      return true;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
      if (!it->method.empty() && it->method != request.method) continue;
      if (it->status == 0) {
        out->failure = TransportFailure::kConnection;
        out->failure_message = "injected: connection refused";
      } else {
        out->status = it->status;
        out->body = it->body;
        if (!it->retry_after.empty()) out->headers["retry-after"] = it->retry_after;
      }
      faults_.erase(it);
      return true;
    }
    return false;
  }

  std::shared_ptr<Transport> inner_;
  mutable std::mutex mu_;
  std::deque<InjectedFault> faults_;
  std::vector<std::string> log_;
  std::vector<std::chrono::steady_clock::time_point> times_;
  std::atomic<bool> blocked_{false};
};

}  // namespace zkop::kube::testing
