// Dubbo 3 metadata in ZooKeeper for the agent's application-level instances
// (registerMode instance | all), written as Apache Dubbo 3.3's ZookeeperMetadataReport and
// MetadataServiceNameMapping write it:
//  - the metadata report <root>/metadata/<app>/<revision>: a persistent node holding the
//    MetadataInfo JSON, created when absent (or set when blank), never overwritten — a
//    revision names one content;
//  - the mapping <root>/mapping/<interface>: a persistent node holding comma-joined
//    application names; the agent's application is appended with a compare-and-set on the
//    node's version (retried when another writer won), so applications sharing an interface
//    all stay listed. Nothing is ever removed from it (as in Dubbo: an application without
//    instances costs consumers nothing).
// Both are persistent: the agent never deletes them (nor anything it did not create).
//
// An instance node is only registered once its metadata report exists (Published() says
// which), so a consumer that sees the instance always finds its metadata.
//
// Threading: one thread (the agent loop). Never throws; failures are retried next round.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "zkop/agent/desired.h"
#include "zkop/agent/registry.h"

namespace zkop::agent {

struct PublishStats {
  uint64_t reports_written = 0;            // metadata reports created
  uint64_t mappings_written = 0;           // mapping nodes created or appended to
  uint64_t cas_retries = 0;                // compare-and-set attempts lost to another writer
  std::map<std::string, uint64_t> errors;  // by reason (RegErrorName or "timeout")
};

class MetadataPublisher {
 public:
  explicit MetadataPublisher(std::chrono::milliseconds op_timeout) : op_timeout_(op_timeout) {}

  // Makes sure the records' metadata reports and mappings are in ZooKeeper, through
  // `session` (writes only what is not known to be there; with `verify`, looks again at
  // everything). `json` renders an instance's metadata report content.
  // Returns false when something could not be written (retried on the next call).
  bool Publish(RegistrySession* session, const std::vector<AppRecord>& records,
               const std::function<std::string(uint32_t instance)>& json, bool verify);
  // True once the metadata report of `record` has been seen in ZooKeeper.
  bool Published(const AppRecord& record) const;
  const PublishStats& stats() const { return stats_; }

 private:
  struct Write;  // one node to make sure of
  void CountError(std::string_view reason);

  std::chrono::milliseconds op_timeout_;
  // Hashes of metadata report paths, and of mapping path + application, known written.
  std::unordered_set<size_t> done_;
  std::unordered_set<size_t> reports_seen_;  // metadata reports ever confirmed (by path)
  PublishStats stats_;
};

}  // namespace zkop::agent
