// Membership changes through ZooKeeper's dynamic reconfiguration, as the super user whose
// digest lives in the cluster's Secret (never skipACL).
//
// Contract: every call is synchronous and bounded by the admin's operation timeout; nothing
// throws. A reconfig is incremental and conditional on the config version the caller read, so
// two operators (or one that restarted) can never apply a change twice. A call whose outcome is
// unknown (connection lost after sending) is reported as such: the caller reads the config back
// and decides — that is what makes each step idempotent.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "zkop/zk/ensemble_config.h"
#include "zkop/zk/status.h"

namespace zkop::op::cluster {

class EnsembleAdmin {
 public:
  virtual ~EnsembleAdmin() = default;
  // The committed membership, read after a sync with the leader.
  virtual zk::Status ReadConfig(zk::EnsembleConfig* out) = 0;
  // reconfig -add `member` (its server line), if the config is still at `from_version`.
  virtual zk::Status Add(const zk::Member& member, int64_t from_version,
                         zk::EnsembleConfig* out) = 0;
  // reconfig -remove `id`, if the config is still at `from_version`.
  virtual zk::Status Remove(int id, int64_t from_version, zk::EnsembleConfig* out) = 0;
  // A write through the new configuration's quorum (a removal is confirmed by it before the
  // removed member's Pod goes): sets /zkop/membership (super-only ACL) to `note`.
  virtual zk::Status ConfirmWithWrite(const std::string& note) = 0;
};

// Connects as super:<password> to `connect` (member Pod addresses). Fails with the client's
// status when no member answers within `timeout`.
zk::Status ConnectEnsembleAdmin(const std::string& connect, const std::string& password,
                                std::chrono::milliseconds timeout,
                                std::unique_ptr<EnsembleAdmin>* out);

}  // namespace zkop::op::cluster
