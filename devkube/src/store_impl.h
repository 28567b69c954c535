// Store internals shared by store.cc (types, reads, watch, persistence), store_write.cc
// (create, update, scale) and store_delete.cc (deletion, finalizers, garbage collection,
// namespace termination).
//
// Threading: every member is guarded by `mu`; functions named *Locked expect it held.
// Watch callbacks run with `mu` held (see WatchCallback).
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

class Store::Impl {
 public:
  explicit Impl(Store::Options options) : options_(options) {
    for (const ResourceType& t : BuiltinTypes())
      builtin_types_.push_back(std::make_shared<const ResourceType>(t));
  }

  // ---- types -----------------------------------------------------------------------------
  // Types are shared immutable values: a pointer stays valid after the CRD is gone.
  using TypePtr = std::shared_ptr<const ResourceType>;
  TypePtr TypeLocked(const std::string& group, const std::string& version,
                     const std::string& resource) const;
  // The type an object of group/resource is stored as (a CRD's storage version).
  TypePtr StorageTypeLocked(const std::string& group, const std::string& resource) const;
  // The storage type of a "group/resource" key of objects_.
  TypePtr StorageTypeOfKeyLocked(const std::string& group_resource) const;
  std::vector<ResourceType> TypesLocked() const;
  void RegisterCrdLocked(const Json& crd);
  void UnregisterCrdLocked(const Json& crd);

  // ---- objects ---------------------------------------------------------------------------
  static std::string GroupResource(const std::string& group, const std::string& resource) {
    return group + "/" + resource;
  }
  static std::string ObjectKey(const std::string& ns, const std::string& name) {
    return ns + "/" + name;
  }
  Json* FindLocked(const ResourceType& type, const std::string& ns, const std::string& name);
  // `object` in the version `type` serves (apiVersion rewritten).
  static Json AsVersion(Json object, const ResourceType& type);

  // Stores (ADDED/MODIFIED) or removes (DELETED) `object` as the next resourceVersion,
  // records the event and notifies watchers. Returns the stored object.
  Json CommitLocked(const ResourceType& type, WatchEvent::Type kind, Json object, Json previous);

  Result<Json> CreateLocked(const ResourceType& type, const ResourceRef& ref, Json object,
                            const WriteOptions& options);
  // `subresource`: "" or "status".
  Result<Json> UpdateLocked(const ResourceType& type, const ResourceRef& ref, Json object,
                            const WriteOptions& options);
  Result<Json> ScaleLocked(const ResourceType& type, const Json& object) const;
  Result<Json> UpdateScaleLocked(const ResourceType& type, const ResourceRef& ref,
                                 const Json& scale, const WriteOptions& options);

  // ---- deletion (store_delete.cc) --------------------------------------------------------
  Result<Json> DeleteLocked(const ResourceType& type, const std::string& ns,
                            const std::string& name, const DeleteOptions& options);
  // Removes the object for good and runs the consequences (GC of dependents, foreground
  // owners, CRD cleanup, namespace termination).
  void RemoveLocked(const ResourceType& type, const Json& object);
  // Called after an update: an object marked for deletion whose finalizers are gone is
  // removed.
  bool MaybeFinalizeLocked(const ResourceType& type, const Json& object);
  // Objects whose ownerReferences name `uid`, with their storage types.
  std::vector<std::pair<TypePtr, Json>> DependentsLocked(const std::string& uid) const;
  bool UidExistsLocked(const std::string& uid) const;
  // An owner in foreground deletion whose dependents are gone loses its foregroundDeletion
  // finalizer (and is removed when no finalizer remains).
  void FinishForegroundLocked(const std::string& owner_uid);
  bool NamespaceTerminatingLocked(const std::string& ns) const;
  bool NamespaceExistsLocked(const std::string& ns) const;

  // ---- state -----------------------------------------------------------------------------
  mutable std::mutex mu;
  Store::Options options_;
  uint64_t rv_ = 1;
  // group/resource -> ns/name -> object (storage version)
  std::map<std::string, std::map<std::string, Json>> objects_;
  std::map<std::string, Json> crds_;  // name -> CRD object, mirrors objects_
  std::vector<TypePtr> builtin_types_;
  std::vector<TypePtr> custom_types_;
  std::deque<WatchEvent> history_;
  struct Subscriber {
    WatchRequest request;
    WatchCallback callback;
  };
  std::map<uint64_t, Subscriber> subscribers_;
  uint64_t next_subscriber_ = 1;
  uint32_t next_cluster_ip_ = 10;
};

// Helpers shared by the store's sources.
ApiStatus UnknownResource();  // 404 "the server could not find the requested resource"
std::string ObjectName(const Json& object);
std::string ObjectNamespace(const Json& object);
std::string ObjectUid(const Json& object);
std::vector<std::string> Finalizers(const Json& object);

}  // namespace zkop::devkube
