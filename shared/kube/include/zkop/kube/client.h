// The Kubernetes API client: any group/version/resource as JSON.
//
// Contract:
//  - Never throws on a call; every call returns Result<...> (see error.h).
//  - Thread-safe: one Client is shared by all of a process's threads.
//  - Every request first takes a token from the client-side rate limiter
//    (qps/burst), and is retried with exponential backoff and jitter only
//    where that is safe:
//      reads (get, list, watch establishment): 429, 5xx, timeouts, connection
//        failures;
//      writes (create, update, patch, delete): 429 only — the server answers
//        429 before it acts, so nothing can be applied twice.
//    A Retry-After from the server is honoured (the delay is at least that).
//  - An empty namespace means the client's default namespace for namespaced
//    resources (ignored for cluster-scoped ones); use ListAllNamespaces for
//    lists across namespaces.
#pragma once

#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "zkop/kube/backoff.h"
#include "zkop/kube/config.h"
#include "zkop/kube/error.h"
#include "zkop/kube/resource.h"
#include "zkop/kube/transport.h"

namespace zkop::kube {

struct ClientOptions {
  double qps = 50;  // <= 0 disables the limit
  int burst = 100;
  std::chrono::milliseconds request_timeout{30000};
  int max_attempts = 5;  // including the first
  Backoff::Options backoff;
  std::string user_agent = "zkop";
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902); the patch is an array
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
};

enum class Propagation { kDefault, kBackground, kForeground, kOrphan };

struct DeleteOptions {
  Propagation propagation = Propagation::kDefault;
  std::string precondition_uid;               // delete only this incarnation
  std::string precondition_resource_version;  // delete only this version
  std::optional<int64_t> grace_period_seconds;
};

// One event of a watch stream.
struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type;
  Json object;
  std::string ResourceVersion() const;
};
std::string_view WatchEventTypeName(WatchEvent::Type t);

// An open watch: events in the order the server sent them.
// Not thread-safe; cancel through the stop token given to Client::Watch.
class WatchStream {
 public:
  WatchStream(std::unique_ptr<LineStream> lines, std::stop_token cancel)
      : lines_(std::move(lines)), cancel_(std::move(cancel)) {}
  // The next event; nullopt when the server ended the stream cleanly (its
  // timeout: resume from the last resourceVersion). An ERROR event is returned
  // as its decoded Error — kGone (410) means "relist"; a broken or cancelled
  // stream as kConnection / kCancelled; an undecodable line as kDecode.
  Result<std::optional<WatchEvent>> Next();

 private:
  std::unique_ptr<LineStream> lines_;
  std::stop_token cancel_;
};

class Client {
 public:
  Client(std::shared_ptr<Transport> transport, std::string default_namespace,
         ClientOptions options = {});
  // A client on the real HTTP transport. Throws ConfigError on bad TLS material.
  static std::shared_ptr<Client> FromConfig(const ClientConfig& config, ClientOptions options = {});

  const std::string& default_namespace() const { return default_namespace_; }
  const ClientOptions& options() const { return options_; }
  // A client on the same transport with other options (its own rate limiter).
  std::shared_ptr<Client> WithOptions(ClientOptions options) const;

  Result<Json> Get(const ResourceRef& ref, const std::string& ns, const std::string& name);
  // One page; its metadata.continue is the token of the next page ("" at the end).
  Result<Json> List(const ResourceRef& ref, const std::string& ns, const ListOptions& options = {},
                    std::stop_token cancel = {});
  // Every page (pages of options.limit, default 500), as one List whose
  // metadata.resourceVersion is the first page's. A continue token that expired
  // mid-way (410) restarts the listing from the beginning once.
  Result<Json> ListAll(const ResourceRef& ref, const std::string& ns,
                       const ListOptions& options = {}, std::stop_token cancel = {});
  Result<Json> ListAllNamespaces(const ResourceRef& ref, const ListOptions& options = {},
                                 std::stop_token cancel = {});

  // `object` gets apiVersion/kind filled from `ref` when it lacks them; its
  // metadata.namespace, when set, must agree with `ns`.
  Result<Json> Create(const ResourceRef& ref, const std::string& ns, Json object);
  // PUT of the whole object; metadata.resourceVersion makes it conditional
  // (kConflict when stale).
  Result<Json> Update(const ResourceRef& ref, const std::string& ns, Json object);
  Result<Json> Patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                     const Json& patch, PatchType type = PatchType::kMerge);
  // Answers the deleted object, or a Status when deletion is still pending.
  Result<Json> Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                      const DeleteOptions& options = {});

  // The `status` subresource.
  Result<Json> GetStatus(const ResourceRef& ref, const std::string& ns, const std::string& name);
  Result<Json> UpdateStatus(const ResourceRef& ref, const std::string& ns, Json object);
  Result<Json> PatchStatus(const ResourceRef& ref, const std::string& ns, const std::string& name,
                           const Json& patch, PatchType type = PatchType::kMerge);

  // The `scale` subresource (an autoscaling/v1 Scale object).
  Result<Json> GetScale(const ResourceRef& ref, const std::string& ns, const std::string& name);
  Result<Json> UpdateScale(const ResourceRef& ref, const std::string& ns, Json scale);

  // Opens a watch (allowWatchBookmarks as in options). Establishment is
  // retried like a read; an HTTP 410 is returned as kGone. Stopping `cancel`
  // ends the stream from any thread.
  Result<std::unique_ptr<WatchStream>> Watch(const ResourceRef& ref, const std::string& ns,
                                             const ListOptions& options,
                                             std::stop_token cancel = {});
  Result<std::unique_ptr<WatchStream>> WatchAllNamespaces(const ResourceRef& ref,
                                                          const ListOptions& options,
                                                          std::stop_token cancel = {});

 private:
  struct Call {
    std::string method;
    std::string target;
    std::string content_type;
    std::string body;
    bool idempotent = false;  // may be retried after 5xx / connection failure
  };
  Result<Json> Do(const Call& call, std::stop_token cancel = {});
  Result<std::unique_ptr<WatchStream>> OpenWatch(const std::string& path,
                                                 const ListOptions& options,
                                                 std::stop_token cancel);
  // Runs `attempt` with rate limiting and the retry policy; returns the last
  // response and sets *error when it is a failure.
  HttpResponse WithRetries(const Call& call, const std::stop_token& cancel,
                           const std::function<HttpResponse(const HttpRequest&)>& attempt);
  const std::string& Ns(const ResourceRef& ref, const std::string& ns) const;

  std::shared_ptr<Transport> transport_;
  std::string default_namespace_;
  ClientOptions options_;
  RateLimiter limiter_;
};

// Converts a transport failure or non-2xx answer into an Error.
Error ErrorFromResponse(const HttpResponse& response);

// Small accessors for the JSON objects the API returns ("" / empty when absent).
std::string NameOf(const Json& object);
std::string NamespaceOf(const Json& object);
std::string ResourceVersionOf(const Json& object);
std::string UidOf(const Json& object);
std::map<std::string, std::string> LabelsOf(const Json& object);

}  // namespace zkop::kube
