// Records core/v1 Events on the objects an operator manages, aggregating
// repeats the way client-go's recorder does: the same (object, type, reason,
// message, source) seen again bumps `count` and `lastTimestamp` of the Event
// already written instead of creating a new one.
//
// Contract: thread-safe; Record is synchronous (one API call) and never
// throws; a failure is returned and the caller normally just logs it.
// The aggregation cache is bounded (oldest entries are forgotten first).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "zkop/kube/client.h"

namespace zkop::kube {

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  // `component` is the Event's source.component and reportingController ("zkop-operator").
  EventRecorder(std::shared_ptr<Client> client, std::string component, std::string host = {},
                size_t max_cached = 4096);

  // `involved` is the object the event is about (needs apiVersion, kind,
  // metadata.name; metadata.namespace/uid/resourceVersion when it has them).
  // Returns the Event as written.
  Result<Json> Record(const Json& involved, EventType type, const std::string& reason,
                      const std::string& message);

 private:
  struct Seen {
    std::string ns;
    std::string name;  // the Event's name
    int64_t count = 0;
  };
  Result<Json> CreateNew(const Json& involved, const std::string& ns, EventType type,
                         const std::string& reason, const std::string& message);

  std::shared_ptr<Client> client_;
  std::string component_;
  std::string host_;
  size_t max_cached_;
  std::mutex mu_;  // held across the API call so repeats are counted in order
  std::map<std::string, Seen> seen_;
  std::deque<std::string> order_;  // insertion order of seen_ keys, for eviction
};

// "2026-11-25T15:52:40Z" (RFC 3339, seconds) and "...40.123456Z" (MicroTime).
std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool micro = false);

}  // namespace zkop::kube
