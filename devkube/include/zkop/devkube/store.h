// The emulator's object store: what kube-apiserver + etcd + the garbage collector do for the
// resources zkop uses, in memory. The HTTP layer (ApiServer) is a thin translation onto this
// class, and in-process users (tests, the local pod runtime) call it directly with the same
// semantics.
//
// Contract:
//  - Thread-safe: every method may be called from any thread; each write is atomic and gets
//    the next value of one global resourceVersion counter.
//  - Never throws on bad input: failures come back as an ApiStatus shaped like the real
//    server's metav1.Status (code, reason, message, details).
//  - Objects are web::json::value documents exactly as the API serves them (apiVersion, kind,
//    metadata, spec, status). Custom resources are stored once, in the CRD's storage version,
//    and served in the version the caller names (conversion strategy None).
#pragma once

#include <cpprest/json.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zkop/devkube/resource_types.h"

namespace zkop::devkube {

// One entry of metav1.StatusDetails.causes.
struct StatusCause {
  std::string reason;  // "FieldValueInvalid", "FieldValueRequired", ...
  std::string message;
  std::string field;  // "spec.replicas"
};

// The outcome of an operation: success (code < 400) or a metav1.Status failure.
struct ApiStatus {
  int code = 200;
  std::string reason;  // "NotFound", "AlreadyExists", "Conflict", "Invalid", "Expired", ...
  std::string message;
  std::string name, group, kind;  // details; omitted from JSON when empty
  std::string uid;
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;

  bool ok() const { return code < 400; }
  // {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
  web::json::value ToJson() const;

  static ApiStatus Error(int code, std::string reason, std::string message);
  static ApiStatus BadRequest(std::string message);
  static ApiStatus NotFound(const ResourceType& type, const std::string& name);
  static ApiStatus AlreadyExists(const ResourceType& type, const std::string& name);
  static ApiStatus Conflict(const ResourceType& type, const std::string& name,
                            const std::string& why);
  // 422 Invalid: message "<Kind.group> \"<name>\" is invalid: <cause>[, <cause>...]".
  static ApiStatus Invalid(const ResourceType& type, const std::string& name,
                           std::vector<StatusCause> causes);
};

template <typename T>
struct Result {
  ApiStatus status;
  T value{};
  std::vector<std::string> warnings;  // sent as HTTP "Warning: 299 - ..." headers
  bool ok() const { return status.ok(); }
};

// Names a resource, a collection or a subresource. `ns` is empty for cluster-scoped
// resources and, in List/Watch, for "all namespaces"; in Create it may be empty, and then the
// object's metadata.namespace (or "default") is used. `subresource` is "", "status" or
// "scale".
struct ResourceRef {
  std::string group;
  std::string version;
  std::string resource;
  std::string ns;
  std::string name;
  std::string subresource;
};

struct ListOptions {
  std::string label_selector;  // labels.Parse syntax: a=b,c!=d,e in (f,g),!h
  std::string field_selector;  // metadata.name=x, metadata.namespace!=y, ...
  int64_t limit = 0;           // 0: everything
  std::string continue_token;  // from a previous page's metadata.continue
};

// How a write treats fields the schema does not know (the fieldValidation query parameter).
enum class FieldValidation { kIgnore, kWarn, kStrict };

struct WriteOptions {
  bool dry_run = false;  // validate and answer, change nothing
  FieldValidation field_validation = FieldValidation::kWarn;
};

enum class PatchType {
  kMerge,      // application/merge-patch+json (RFC 7386)
  kJson,       // application/json-patch+json (RFC 6902)
  kStrategic,  // application/strategic-merge-patch+json (built-in types only)
  kApply,      // application/apply-patch+yaml (approximated: see docs/devkube.md)
};

enum class Propagation { kBackground, kForeground, kOrphan };

struct DeleteOptions {
  std::optional<Propagation> propagation;  // default Background
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<int64_t> grace_period_seconds;  // pods bound to a node only
  bool dry_run = false;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  uint64_t resource_version = 0;
  std::string group, resource;
  web::json::value object;    // the object after the change (for DELETED: its last state)
  web::json::value previous;  // the object before the change (null for ADDED)
};
const char* WatchEventTypeName(WatchEvent::Type type);  // "ADDED", "MODIFIED", "DELETED"

struct WatchRequest {
  std::string group, version, resource;
  std::string ns;  // empty: all namespaces
  // Deliver changes after this resourceVersion (from the bounded history). Without it, the
  // current objects are delivered as ADDED first (like resourceVersion unset/"0").
  std::optional<uint64_t> from_resource_version;
};

// Unsubscribes in its destructor. Must be destroyed before the Store.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// Called once per event, in resourceVersion order, with the Store's lock held: it must be
// quick, must not block and must not call back into the Store (queue the event instead).
using WatchCallback = std::function<void(const WatchEvent&)>;

class Store {
 public:
  struct Options {
    size_t watch_history = 5000;  // events kept for watch resume; older ones answer 410
  };
  explicit Store(Options options);
  Store() : Store(Options{}) {}
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  std::optional<ResourceType> FindType(const std::string& group, const std::string& version,
                                       const std::string& resource) const;
  std::vector<ResourceType> Types() const;  // built-ins first, then custom resources
  uint64_t CurrentResourceVersion() const;

  Result<web::json::value> Get(const ResourceRef& ref) const;
  // A <Kind>List with metadata.resourceVersion (and metadata.continue when limited).
  Result<web::json::value> List(const ResourceRef& ref, const ListOptions& options) const;
  Result<web::json::value> Create(const ResourceRef& ref, web::json::value object,
                                  const WriteOptions& options = {});
  // PUT: optimistic concurrency when metadata.resourceVersion is set (409 when stale).
  // ref.subresource "status" changes only status; "scale" takes an autoscaling/v1 Scale.
  Result<web::json::value> Update(const ResourceRef& ref, web::json::value object,
                                  const WriteOptions& options = {});
  Result<web::json::value> Patch(const ResourceRef& ref, PatchType type, const std::string& body,
                                 const WriteOptions& options = {});
  // Removes the object, or marks it (deletionTimestamp) while finalizers remain; dependents
  // (ownerReferences) are collected per the propagation policy. Answers the object's last
  // state.
  Result<web::json::value> Delete(const ResourceRef& ref, const DeleteOptions& options = {});
  // Deletes every object of the collection matching the selectors (deletecollection).
  Result<web::json::value> DeleteCollection(const ResourceRef& ref, const ListOptions& list,
                                            const DeleteOptions& options = {});

  // Subscribes to changes. Fails with 410 Expired when from_resource_version is older than
  // the history window, 404 when the resource type is unknown.
  Result<std::unique_ptr<Subscription>> Watch(const WatchRequest& request, WatchCallback callback);

  // Persistence: every object plus the counter, and the inverse (into an empty store).
  web::json::value Snapshot() const;
  ApiStatus Restore(const web::json::value& snapshot);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace zkop::devkube
