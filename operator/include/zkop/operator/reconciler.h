// The seam between the controller machinery (informers, work queue, workers, leader
// election: operator/src/controller) and the cluster logic (operator/src/cluster).
//
// Contract:
//  - The controller calls Reconcile for a key "namespace/name" of a ZookeeperCluster on one
//    of its worker threads, never concurrently for the same key; different keys run in
//    parallel (--concurrency).
//  - A reconcile reads watched objects from the ObjectCache (informer caches), never by
//    polling the API; it writes through the API client it was built with.
//  - `stop` is requested when the process shuts down or loses leadership: finish the current
//    step (never leave a half-done step unrecorded) and return.
//  - Reconcile never throws; a failure is returned as kError and the controller retries the
//    key with exponential backoff. kRequeue asks to look again after a delay (ZooKeeper state
//    still settling); the controller caps the delay.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "zkop/kube/client.h"
#include "zkop/kube/resource.h"

namespace zkop::op {

using kube::Json;

// Read access to the watched objects. Thread-safe; returns copies. What the caches keep of an
// object is everything but metadata.managedFields and, for Pods, spec: the operator never reads
// a live Pod's spec (a Pod is compared with its desired form by its template-hash annotation),
// and dropping it is most of what a cached Pod would cost.
class ObjectCache {
 public:
  virtual ~ObjectCache() = default;
  virtual std::optional<Json> Get(const kube::ResourceRef& ref, const std::string& ns,
                                  const std::string& name) const = 0;
  // Objects of `ref` in namespace `ns` whose labels match `selector`.
  virtual std::vector<Json> List(const kube::ResourceRef& ref, const std::string& ns,
                                 const kube::LabelSelector& selector) const = 0;
  // Calls `fn` with each object List would return, holding one parsed object at a time: a
  // scan of every cluster costs one parsed object, not all of them at once (a parsed tree is
  // several times its compact text). `fn` may read the cache. The default calls List.
  virtual void ForEach(const kube::ResourceRef& ref, const std::string& ns,
                       const kube::LabelSelector& selector,
                       const std::function<void(const Json&)>& fn) const {
    for (const Json& obj : List(ref, ns, selector)) fn(obj);
  }
};

struct ReconcileRequest {
  std::string ns;
  std::string name;
  std::string Key() const { return ns + "/" + name; }
};

struct ReconcileOutcome {
  enum class Result { kSuccess, kRequeue, kError };
  Result result = Result::kSuccess;
  std::chrono::milliseconds requeue_after{0};  // kRequeue only
  std::string error;                           // kError only: what failed

  static ReconcileOutcome Done() { return {}; }
  static ReconcileOutcome RequeueAfter(std::chrono::milliseconds after) {
    return {Result::kRequeue, after, {}};
  }
  static ReconcileOutcome Failed(std::string what) {
    return {Result::kError, std::chrono::milliseconds(0), std::move(what)};
  }
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual ReconcileOutcome Reconcile(const ReconcileRequest& request, std::stop_token stop) = 0;
};

}  // namespace zkop::op
