// Leader election on a coordination.k8s.io/v1 Lease with client-go's
// semantics (k8s.io/client-go/tools/leaderelection):
//  - a candidate takes the lease when it does not exist, is free (empty
//    holderIdentity) or has not changed for leaseDurationSeconds as observed
//    on the candidate's own clock (no trust in other hosts' clocks);
//  - taking it from another holder sets acquireTime and bumps leaseTransitions;
//  - the leader renews (renewTime) every retry_period; when it cannot renew
//    for renew_deadline it stops leading. Since renew_deadline < lease_duration,
//    it stops before anyone else may take over;
//  - all writes are conditional on resourceVersion, so two candidates can never
//    both win the same round.
//
// Threading: Run blocks the calling thread. on_started_leading runs on its own
// thread with a stop token that is stopped when leadership ends; it must return
// then (Run joins it before returning). on_stopped_leading and on_new_leader run
// on Run's thread. IsLeader/Leader are thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>

#include "zkop/kube/client.h"

namespace zkop::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per candidate, e.g. the pod name
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  bool release_on_cancel = true;  // free the lease when Run is stopped while leading

  std::function<void(std::stop_token)> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  // Throws std::invalid_argument on an inconsistent configuration (empty
  // names, renew_deadline >= lease_duration, retry_period >= renew_deadline).
  // The elector talks through its own view of `client`: one attempt per call,
  // request timeout at most renew_deadline / 2.
  LeaderElector(std::shared_ptr<Client> client, LeaderElectionConfig config);

  // Campaigns until elected, leads until leadership is lost or `stop` is
  // requested, then returns (once on_stopped_leading has run, if it led).
  void Run(std::stop_token stop);

  bool IsLeader() const { return leading_.load(); }
  std::string Leader() const;  // the last observed holder ("" when none)

 private:
  // One round of client-go's tryAcquireOrRenew.
  bool TryAcquireOrRenew();
  void Release();
  void ObserveHolder(const std::string& holder);

  std::shared_ptr<Client> client_;
  LeaderElectionConfig config_;
  std::atomic<bool> leading_{false};

  mutable std::mutex mu_;
  std::string observed_holder_;
  Json observed_spec_;  // the Lease spec as last read or written
  std::chrono::steady_clock::time_point observed_time_;
  std::string observed_rv_;
};

}  // namespace zkop::kube
