// An in-memory ZooKeeper tree with sessions and fault injection, for the sync engine's
// unit tests. Callbacks run inline (before the call returns), which the engine must handle.
// Thread-safe (one mutex); tests drive it from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "zkop/agent/registry.h"

namespace zkop::agent::testing {

class FakeRegistry : public RegistryStore {
 public:
  struct Node {
    std::string data;
    int64_t owner = 0;  // 0: persistent
    int32_t version = 0;
  };

  std::unique_ptr<RegistrySession> Open(std::function<void()> wake) override;

  // --- inspection -----------------------------------------------------------------------
  std::map<std::string, Node> Nodes();
  // Ephemeral nodes per owning session id.
  std::map<int64_t, std::set<std::string>> EphemeralsBySession();
  size_t opened() const { return opened_; }
  size_t multis() const { return multis_; }
  size_t ops() const { return ops_; }
  size_t reads() const { return reads_; }  // Children() calls answered

  // --- faults ---------------------------------------------------------------------------
  // Expires the session with `id`: its ephemerals go, the handle gets a new id.
  void Expire(int64_t id);
  // Every session handle loses (or regains) its connection; the sessions survive.
  void SetConnected(bool connected);
  // Deletes a node as another client would.
  void ExternalDelete(const std::string& path);
  // Creates a node (and its parents) as another client would.
  void ExternalCreate(const std::string& path);
  // Creates an ephemeral node owned by a session that is not any handle's (a stale node, or
  // a provider's own registration), owned by `owner`.
  void CreateStale(const std::string& path, const std::string& data, int64_t owner = 0x7777);
  // Sets a node's data (version + 1) as another client would.
  void ExternalWrite(const std::string& path, const std::string& data);
  // Runs `f` once, just before the next Write() is applied (another writer getting there
  // between a read and a compare-and-set).
  void BeforeNextWrite(std::function<void()> f);
  // The next `n` operations fail with `error` without being applied (kConnectionLoss after
  // applying when `apply` — the answer was lost).
  void FailNext(int n, RegError error, bool apply = false);
  // Close() calls since creation.
  size_t closes() const { return closes_; }

  struct Handle;

 private:
  friend struct Handle;
  RegStatus Apply(Handle* h, const std::function<RegStatus(int64_t session)>& op);

  std::mutex mu_;
  std::map<std::string, Node> nodes_;
  std::vector<Handle*> handles_;
  int64_t next_session_ = 0x1000;
  size_t opened_ = 0, multis_ = 0, ops_ = 0, closes_ = 0, reads_ = 0;
  int fail_n_ = 0;
  RegError fail_error_ = RegError::kOk;
  bool fail_apply_ = false;
  std::function<void()> before_write_;
  bool connected_ = true;
  uint64_t reconnects_ = 0;  // every handle shares the one connection state
};

}  // namespace zkop::agent::testing
