// From decisions to registry nodes: the interface-level provider nodes and the Dubbo 3
// application-level instance nodes that should exist right now, as NodeKeys, and how to
// render them (Registrations is the agent's NodeRenderer).
//
// Stability: a provider node's name holds `pid` and `timestamp`; both stay fixed while the
// service stays registrable on the same port and process (Registrations remembers when it
// became registrable), so anti-entropy restores the very same node. pid is the listening
// process when visible, else the agent's own pid.
// Node data: the registry host (Curator's default data is the local address) for provider
// nodes; Curator ServiceInstance JSON for instance nodes, whose revision is Dubbo 3.3's MD5
// of the instance's MetadataInfo (zkop/dubbo/metadata.h), published as a metadata report.
//
// Memory: per service, one stamp (24 bytes); paths and URLs are rendered when asked for.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zkop/agent/config.h"
#include "zkop/agent/diagnose.h"
#include "zkop/agent/node.h"
#include "zkop/agent/resolve.h"
#include "zkop/dubbo/metadata.h"
#include "zkop/dubbo/provider_url.h"

namespace zkop::agent {

// For `check` and people: per declared service, its provider URL and the paths of the nodes
// it contributes, for every resolvable service, registrable or not.
struct ServiceNodes {
  std::vector<std::string> urls;
  std::vector<std::vector<std::string>> paths;
  // Instance modes: the service's instance node, and the revision the agent would give it
  // ("" when nothing of its application is registrable).
  std::vector<std::string> instance_paths;
  std::vector<std::string> revisions;
};

// The persistent Dubbo 3 records a desired instance needs (registerMode instance | all):
// its metadata report, and the mapping of each of its interfaces to its application.
struct AppRecord {
  NodeKey key;            // the instance node
  uint32_t instance = 0;  // key.index
  std::string application;
  std::string metadata_path;               // <root>/metadata/<app>/<revision>
  std::vector<std::string> mapping_paths;  // <root>/mapping/<interface>, each once
};

class Registrations : public NodeRenderer {
 public:
  // `config` and `declared` are not owned; they must outlive this object and not change.
  Registrations(const AgentConfig& config, const std::vector<Declared>& declared,
                int64_t agent_pid);

  // The nodes that should exist now (`diagnosis` has one decision per declared service).
  std::vector<NodeKey> Desired(const Diagnosis& diagnosis, int64_t now_ms);
  // Like Desired, and describes every service (a node not registrable now is shown with
  // `now_ms` as its timestamp).
  ServiceNodes Describe(const Diagnosis& diagnosis, int64_t now_ms);

  // The records of the instances among `desired` (as of the last Desired()).
  std::vector<AppRecord> AppRecords(const std::vector<NodeKey>& desired) const;
  // The metadata report's content of an instance (rendered when asked: it lists every
  // service of the application).
  std::string MetadataJson(uint32_t instance) const;
  // The revision an instance node carries ("" when it has none yet).
  const std::string& Revision(uint32_t instance) const;

  std::string Path(const NodeKey& key) const override;
  std::string Data(const NodeKey& key) const override;
  // Provider nodes: `name` decodes to a URL of the same protocol, registry host, port,
  // interface, version and group (any pid, timestamp or other parameter).
  bool HasIncarnations(const NodeKey& key) const override;
  bool IsIncarnation(const NodeKey& key, std::string_view name) const override;
  // Instance nodes: another session's node at the same id whose dubbo.metadata.revision is
  // not the agent's is the provider's own registration (a Dubbo 3 provider registering
  // itself): left alone.
  bool Yields(const NodeKey& key, std::string_view data) const override;

 private:
  struct Stamp {
    int port = 0;
    int64_t pid = 0;
    int64_t ms = 0;  // 0: not registrable
  };
  struct Group {       // one Dubbo 3 instance: an application on a host
    size_t first = 0;  // its first declared service
    std::string json;  // its node's data as of the last Desired()
    std::string revision;
    // As of the last Desired(): its registrable services and their registry ports.
    std::vector<std::pair<uint32_t, int>> members;
  };
  dubbo::AppMetadata Metadata(const Group& group) const;
  dubbo::ProviderSpec Spec(const NodeKey& key) const;  // a provider node's URL parts
  std::vector<NodeKey> Walk(const Diagnosis& diagnosis, int64_t now_ms, ServiceNodes* details);

  const AgentConfig& config_;
  const std::vector<Declared>& declared_;
  int64_t agent_pid_;
  static constexpr uint32_t kNotDuplicate = ~uint32_t{0};
  std::vector<Stamp> stamps_;  // per declared service
  // Per declared service: the earlier one it repeats exactly, or kNotDuplicate; empty when
  // no service repeats another.
  std::vector<uint32_t> duplicate_of_;
  std::vector<uint32_t> group_of_;  // per declared service
  std::vector<Group> groups_;
};

}  // namespace zkop::agent
