// The emulator's kube-controller-manager: controllers that run in-process beside the Store
// and act on it like the real ones act through the API.
//  - Deployment (workloads.h): ReplicaSets per pod template, rolling updates / Recreate,
//    revisions, history cleanup, status and conditions.
//  - ReplicaSet (workloads.h): Pods from the template up to spec.replicas, status.
//  - ServiceAccount (optional): a "default" ServiceAccount in every namespace, and the
//    kube-root-ca.crt ConfigMap (key ca.crt) in every namespace, as the real
//    serviceaccount-token and root-ca-cert-publisher controllers do.
//
// Contract: the constructor subscribes to the Store and starts one worker thread; it returns
// at once. Work is keyed (an object changed several times is synced once) and every known
// Deployment/ReplicaSet is resynced every `resync` (minReadySeconds, progress deadlines).
// The destructor unsubscribes and joins; it must run before the Store goes. Nothing throws
// after construction; failed writes are retried on the next resync.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "zkop/devkube/store.h"

namespace zkop::devkube {

class ControllerManager {
 public:
  struct Options {
    bool service_accounts = false;
    std::string ca_pem;  // published as kube-root-ca.crt with service_accounts
    std::chrono::milliseconds resync{1000};
  };
  ControllerManager(Store& store, Options options);
  ~ControllerManager();
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

 private:
  struct Key {
    char kind;  // 'D' deployment, 'R' replicaset, 'N' namespace
    std::string ns, name;
    bool operator<(const Key& o) const {
      return std::tie(kind, ns, name) < std::tie(o.kind, o.ns, o.name);
    }
  };
  void Enqueue(Key key);  // may run under the Store lock: only touches the queue
  void Run();
  void Sync(const Key& key);
  void SyncNamespace(const std::string& ns);
  void ResyncAll();

  Store& store_;
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Key> queue_;
  bool stop_ = false;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::thread worker_;
};

}  // namespace zkop::devkube
