// Applying rendered objects: create what is missing, patch what differs in a field the operator
// owns, and leave everything else alone — fields the API server or other controllers default
// or add (a Service's clusterIP, a Pod's defaulted fields, labels a user added) are never
// compared, so a cluster at rest costs no API writes.
//
// Threading: an Applier is used by one reconcile at a time; the client and cache it holds are
// thread-safe.
#pragma once

#include <memory>
#include <string>

#include "zkop/kube/client.h"
#include "zkop/operator/reconciler.h"

namespace zkop::op::cluster {

// True when every field of `desired` has the same value in `live`: objects recursively (fields
// only `live` has are ignored), arrays item by item with the same length, numbers by value.
bool ContainsFields(const Json& live, const Json& desired);

// The part of a rendered object that the operator keeps in line, as a merge patch body:
// metadata labels, annotations and ownerReferences, plus per kind
//   ConfigMap: data; Service, PodDisruptionBudget: spec;
//   Secret: nothing else (the admin password is never rotated behind the ensemble's back);
//   PersistentVolumeClaim: nothing else (claims are immutable but for expansion).
// Pods are never patched (see Applier::Create): their spec is immutable and a changed template
// is a rolling change that the reconciler orders.
Json OwnedFields(const Json& desired);

enum class ApplyAction { kUnchanged, kCreated, kPatched };
std::string_view ApplyActionName(ApplyAction action);

class Applier {
 public:
  // `cache` holds the live objects (informer caches); both must outlive the Applier.
  Applier(std::shared_ptr<kube::Client> client, const ObjectCache* cache);

  // Creates `desired` (with its metadata.namespace and name) when the cache has no such
  // object; an AlreadyExists answer (the cache lagging behind) counts as kUnchanged. When it
  // exists and OwnedFields(desired) differs from it, sends OwnedFields as a merge patch.
  // Errors are the API's.
  kube::Result<ApplyAction> Apply(const kube::ResourceRef& ref, const Json& desired);
  // Only the creating half of Apply: an existing object is left as it is.
  kube::Result<ApplyAction> Create(const kube::ResourceRef& ref, const Json& desired);

  // The API writes this Applier sent.
  int writes() const { return writes_; }

 private:
  std::shared_ptr<kube::Client> client_;
  const ObjectCache* cache_;
  int writes_ = 0;
};

}  // namespace zkop::op::cluster
