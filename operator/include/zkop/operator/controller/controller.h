// The controller: informers on ZookeeperClusters and the kinds the operator owns, a
// rate-limited work queue of cluster keys, and the workers that call the Reconciler.
//
//   Controller c(client, options, &metrics);
//   c.StartInformers();                    // standbys too: a warm cache for a fast takeover
//   if (c.WaitForSync(stop)) c.RunWorkers(reconciler, stop);   // blocks until `stop`
//   c.StopInformers();
//
// Contract:
//  - Informers: zookeeperclusters.zkop.io (all of them) and Pods, PersistentVolumeClaims,
//    ConfigMaps, Secrets, Services, PodDisruptionBudgets (policy/v1) labelled
//    app.kubernetes.io/managed-by=zkop; one set per watched namespace, or one set across all
//    namespaces when none is given. Events map to keys as event_router.h says.
//  - As an ObjectCache it answers from those informers (copies; thread-safe). Kinds or
//    namespaces that are not watched read as absent / empty; owned kinds hold only objects
//    labelled managed-by=zkop.
//  - Workers (options.concurrency) call Reconcile for one key at a time each, never two at
//    once for one key. kSuccess → Forget; kRequeue → Forget + AddAfter(min(requested,
//    requeue_cap)); kError (or a throwing Reconcile, a bug) → logged + AddRateLimited.
//  - RunWorkers returns once `stop` is requested and every in-flight Reconcile has returned;
//    the same token is passed to those Reconciles. The queue is shut down then (a controller
//    runs its workers once).
//  - Events that arrive before RunWorkers (a standby's) wait in the queue, deduplicated.
//  - Not copyable; the owner keeps it alive until RunWorkers has returned and the informers
//    are stopped (the destructor stops them).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "zkop/kube/client.h"
#include "zkop/kube/informer.h"
#include "zkop/log/log.h"
#include "zkop/operator/controller/event_router.h"
#include "zkop/operator/controller/heap_trimmer.h"
#include "zkop/operator/controller/metrics.h"
#include "zkop/operator/controller/workqueue.h"
#include "zkop/operator/reconciler.h"

namespace zkop::op::controller {

struct ControllerOptions {
  std::vector<std::string> namespaces;  // empty = all namespaces
  int concurrency = 2;
  std::chrono::milliseconds requeue_cap{std::chrono::seconds(30)};
  std::string owned_selector = std::string(kManagedByLabel) + "=" + kManagedByValue;
  WorkQueueOptions queue;  // its metrics and idle hooks are set by the controller
  // While the workers run, free heap pages go back to the system when the queue drains, at
  // most once per this interval (HeapTrimmer); 0 disables it.
  std::chrono::milliseconds heap_trim_interval{std::chrono::seconds(2)};
  kube::InformerOptions informer;  // template: ns and label_selector are set per informer
};

class Controller : public ObjectCache {
 public:
  // `metrics` may be null (no metrics); otherwise it must outlive the controller.
  Controller(std::shared_ptr<kube::Client> client, ControllerOptions options,
             OperatorMetrics* metrics);
  ~Controller() override;
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // The kinds watched besides ZookeeperClusters.
  static std::vector<kube::ResourceRef> OwnedKinds();

  void StartInformers();
  void StopInformers();  // idempotent; no handler runs after it returns
  bool HasSynced() const;
  // Blocks until every informer has synced (true) or `stop` is requested (false).
  bool WaitForSync(std::stop_token stop) const;

  void RunWorkers(Reconciler& reconciler, std::stop_token stop);

  WorkQueue& queue() { return queue_; }

  // ObjectCache.
  std::optional<kube::Json> Get(const kube::ResourceRef& ref, const std::string& ns,
                                const std::string& name) const override;
  std::vector<kube::Json> List(const kube::ResourceRef& ref, const std::string& ns,
                               const kube::LabelSelector& selector) const override;
  void ForEach(const kube::ResourceRef& ref, const std::string& ns,
               const kube::LabelSelector& selector,
               const std::function<void(const kube::Json&)>& fn) const override;

 private:
  struct Watched {
    kube::ResourceRef ref;
    std::string ns;  // "" = all namespaces
    std::unique_ptr<kube::Informer> informer;
  };
  void Enqueue(const std::vector<std::string>& keys);
  void Worker(Reconciler& reconciler, std::stop_token stop);
  void ProcessOne(Reconciler& reconciler, const std::string& key, const std::stop_token& stop);
  // Informers holding `ref` objects of namespace `ns` ("" = every namespace).
  std::vector<const kube::Informer*> InformersFor(const kube::ResourceRef& ref,
                                                  const std::string& ns) const;

  std::shared_ptr<kube::Client> client_;
  ControllerOptions options_;
  OperatorMetrics* metrics_;
  log::Logger log_{"controller"};
  std::atomic<HeapTrimmer*> trimmer_{nullptr};  // set while RunWorkers runs (the idle hook)
  WorkQueue queue_;
  std::vector<Watched> watched_;
  std::atomic<bool> started_{false};
};

}  // namespace zkop::op::controller
