// The one HTTP endpoint of a zkop process: /metrics (Prometheus text format from a
// prometheus-cpp Registry), /healthz and /readyz.
//
// Contract:
//  - The constructor binds synchronously; a bind failure throws std::runtime_error that
//    names the address and the reason ("127.0.0.1:9464 is already in use by another
//    process; choose another metricsAddress"). Nothing else throws.
//  - Requests are served on one internal thread; slow clients time out after 10 s.
//  - /metrics is the registry plus every collectable added with AddCollectable, collected
//    at each scrape on a second internal thread (one scrape at a time), so a collectable
//    that asks the network (the operator's ensemble metrics) never delays /healthz or
//    /readyz. A collectable must return within its own time bound.
//  - SetReady / SetLive may be called from any thread.
//  - /healthz answers 200 "ok" while live, 503 with the reason otherwise; /readyz likewise
//    for readiness (starts not ready: "starting").
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>

namespace zkop::http {

struct Endpoint {
  std::string host;  // "0.0.0.0", "127.0.0.1", "::1"
  uint16_t port = 0;
};

// Parses "host:port", ":port" (all interfaces) or "[v6]:port". Returns false and sets
// *error on anything else.
bool ParseEndpoint(const std::string& text, Endpoint* out, std::string* error);

class HealthServer {
 public:
  HealthServer(const std::string& address, std::shared_ptr<prometheus::Registry> registry);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // The port actually bound (useful with port 0).
  uint16_t port() const;

  void SetReady(bool ready, const std::string& reason = "");
  void SetLive(bool live, const std::string& reason = "");

  // Adds families collected at every /metrics scrape, after the registry's. Thread-safe.
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkop::http
