// Observing an ensemble: what Kubernetes says about each member (its Pod and PVC, from the
// informer caches) and what ZooKeeper says (srvr and conf, asked at the member's Pod address).
//
// The ZooKeeper side is behind MemberProbe so unit tests run without servers. Probing is
// read-only and bounded in time (every member is asked in parallel; each answer within the
// probe's timeout).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zkop/operator/cluster/spec.h"
#include "zkop/operator/reconciler.h"
#include "zkop/zk/ensemble_config.h"
#include "zkop/zk/four_letter.h"

namespace zkop::op::cluster {

// What one member's server answered.
struct ServerObservation {
  bool answered = false;  // srvr answered with a mode
  zk::ServerMode mode = zk::ServerMode::kUnknown;
  std::string version;  // "3.8.0" (the build suffix dropped)
  int64_t zxid = -1;
  std::optional<zk::EnsembleConfig> config;  // the membership the member serves (conf)
  std::string error;                         // why it did not answer
};

class MemberProbe {
 public:
  virtual ~MemberProbe() = default;
  // `address` is "ip:port". Thread-safe; returns within the probe's own timeout.
  virtual ServerObservation Probe(const std::string& address) = 0;
};

// srvr + conf four-letter words over TCP.
std::unique_ptr<MemberProbe> NewFourLetterProbe(std::chrono::milliseconds timeout);

// The "membership:" part of a conf answer (server lines and version), parsed.
std::optional<zk::EnsembleConfig> MembershipFromConf(const std::string& conf);

struct MemberState {
  int id = 0;
  std::string pod;  // name
  bool pod_exists = false;
  bool pod_terminating = false;  // deletionTimestamp set
  bool pod_ready = false;        // the Ready condition
  std::string pod_ip;
  std::string pod_uid;
  std::string phase;           // Pending, Running, Failed, ...
  std::string waiting_reason;  // e.g. CrashLoopBackOff, CreateContainerConfigError
  std::string waiting_message;
  int restarts = 0;
  std::string template_hash;  // the Pod's zkop.io/pod-template-hash
  bool claim_exists = false;
  bool claim_terminating = false;
  ServerObservation server;

  bool Serving() const {
    return server.answered &&
           (server.mode == zk::ServerMode::kLeader || server.mode == zk::ServerMode::kFollower ||
            server.mode == zk::ServerMode::kObserver);
  }
  // Its Pod exists and is Ready, and the server serves (in quorum, synced).
  bool Ready() const { return pod_exists && pod_ready && Serving(); }
  // "ip:2181" ("[ip]:2181" for IPv6); "" without a Pod address.
  std::string ClientAddress() const;
};

struct Observation {
  std::vector<MemberState> members;     // by id: every id that has a Pod or a claim, plus `ids`
  std::vector<std::string> stray_pods;  // Pods with the cluster's labels but no member name

  const MemberState* Find(int id) const;  // nullptr when no member has that id
};

// Reads the cluster's Pods and PVCs from `cache` and probes every member Pod that has an
// address. `ids` are the members the cluster should have (they appear even without objects).
Observation Observe(const ClusterSpec& spec, const std::vector<int>& ids, const ObjectCache& cache,
                    MemberProbe& probe);

}  // namespace zkop::op::cluster
