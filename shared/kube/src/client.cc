#include "zkop/kube/client.h"

#include <functional>

namespace zkop::kube {

namespace {

const char* ContentType(PatchType t) {
  switch (t) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kMerge:
      break;
  }
  return "application/merge-patch+json";
}

const Json* Field(const Json& obj, const char* a, const char* b = nullptr) {
  if (!obj.is_object() || !obj.has_field(a)) return nullptr;
  const Json& v = obj.at(a);
  if (!b) return &v;
  if (!v.is_object() || !v.has_field(b)) return nullptr;
  return &v.at(b);
}

std::string MetaString(const Json& obj, const char* key) {
  const Json* v = Field(obj, "metadata", key);
  return v && v->is_string() ? v->as_string() : std::string();
}

std::optional<std::chrono::seconds> RetryAfterHeader(const HttpResponse& r) {
  auto it = r.headers.find("retry-after");
  if (it == r.headers.end()) return std::nullopt;
  try {
    size_t used = 0;
    long s = std::stol(it->second, &used);
    if (used == it->second.size() && s >= 0) return std::chrono::seconds(s);
  } catch (const std::exception&) {
    // An HTTP-date or garbage: fall back to our own backoff.
  }
  return std::nullopt;
}

Result<Json> ParseBody(const HttpResponse& r) {
  if (r.body.empty()) return Json::object();
  try {
    return Json::parse(r.body);
  } catch (const web::json::json_exception& e) {
    return Error(ErrorKind::kDecode, r.status, std::string("response is not JSON: ") + e.what());
  }
}

Error ClientSide(std::string message) {
  return Error(ErrorKind::kBadRequest, 0, std::move(message));
}

}  // namespace

std::string NameOf(const Json& o) { return MetaString(o, "name"); }
std::string NamespaceOf(const Json& o) { return MetaString(o, "namespace"); }
std::string ResourceVersionOf(const Json& o) { return MetaString(o, "resourceVersion"); }
std::string UidOf(const Json& o) { return MetaString(o, "uid"); }

std::map<std::string, std::string> LabelsOf(const Json& o) {
  std::map<std::string, std::string> out;
  const Json* labels = Field(o, "metadata", "labels");
  if (labels && labels->is_object()) {
    for (const auto& [k, v] : labels->as_object()) {
      if (v.is_string()) out[k] = v.as_string();
    }
  }
  return out;
}

Error ErrorFromResponse(const HttpResponse& r) {
  switch (r.failure) {
    case TransportFailure::kConnection:
      return Error(ErrorKind::kConnection, 0, r.failure_message);
    case TransportFailure::kTimeout:
      return Error(ErrorKind::kTimeout, 0, r.failure_message);
    case TransportFailure::kCancelled:
      return Error(ErrorKind::kCancelled, 0, r.failure_message);
    case TransportFailure::kNone:
      break;
  }
  return Error::FromResponse(r.status, r.body, RetryAfterHeader(r));
}

std::string_view WatchEventTypeName(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded:
      return "ADDED";
    case WatchEvent::Type::kModified:
      return "MODIFIED";
    case WatchEvent::Type::kDeleted:
      return "DELETED";
    case WatchEvent::Type::kBookmark:
      return "BOOKMARK";
  }
  return "?";
}

std::string WatchEvent::ResourceVersion() const { return ResourceVersionOf(object); }

Result<std::optional<WatchEvent>> WatchStream::Next() {
  std::string line, error;
  if (!lines_->ReadLine(&line, &error)) {
    if (error.empty()) return std::optional<WatchEvent>();
    return Error(cancel_.stop_requested() ? ErrorKind::kCancelled : ErrorKind::kConnection, 0,
                 error);
  }
  Json ev;
  try {
    ev = Json::parse(line);
  } catch (const web::json::json_exception& e) {
    return Error(ErrorKind::kDecode, 0, std::string("watch event is not JSON: ") + e.what());
  }
  const Json* type = Field(ev, "type");
  const Json* object = Field(ev, "object");
  if (!type || !type->is_string() || !object) {
    return Error(ErrorKind::kDecode, 0, "watch event lacks type or object: " + line.substr(0, 200));
  }
  const std::string& t = type->as_string();
  WatchEvent out{WatchEvent::Type::kAdded, *object};
  if (t == "ADDED") {
    out.type = WatchEvent::Type::kAdded;
  } else if (t == "MODIFIED") {
    out.type = WatchEvent::Type::kModified;
  } else if (t == "DELETED") {
    out.type = WatchEvent::Type::kDeleted;
  } else if (t == "BOOKMARK") {
    out.type = WatchEvent::Type::kBookmark;
  } else if (t == "ERROR") {
    return Error::FromStatus(*object);
  } else {
    return Error(ErrorKind::kDecode, 0, "unknown watch event type \"" + t + "\"");
  }
  return std::optional<WatchEvent>(std::move(out));
}

Client::Client(std::shared_ptr<Transport> transport, std::string default_namespace,
               ClientOptions options)
    : transport_(std::move(transport)),
      default_namespace_(default_namespace.empty() ? "default" : std::move(default_namespace)),
      options_(std::move(options)),
      limiter_(options_.qps, options_.burst) {}

std::shared_ptr<Client> Client::FromConfig(const ClientConfig& config, ClientOptions options) {
  auto transport = NewHttpTransport(config, options.user_agent);
  return std::make_shared<Client>(std::move(transport), config.default_namespace,
                                  std::move(options));
}

std::shared_ptr<Client> Client::WithOptions(ClientOptions options) const {
  return std::make_shared<Client>(transport_, default_namespace_, std::move(options));
}

const std::string& Client::Ns(const ResourceRef& ref, const std::string& ns) const {
  static const std::string kNone;
  if (!ref.namespaced) return kNone;
  return ns.empty() ? default_namespace_ : ns;
}

HttpResponse Client::WithRetries(const Call& call, const std::stop_token& cancel,
                                 const std::function<HttpResponse(const HttpRequest&)>& attempt) {
  HttpRequest req{call.method, call.target, call.content_type, call.body, options_.request_timeout,
                  cancel};
  Backoff backoff(options_.backoff);
  for (int n = 0;; ++n) {
    limiter_.Acquire();
    HttpResponse r = attempt(req);
    if (n + 1 >= options_.max_attempts || cancel.stop_requested()) return r;
    bool transient = r.status >= 500 && r.status != 501;
    transient = transient || r.failure == TransportFailure::kConnection ||
                r.failure == TransportFailure::kTimeout;
    if (!(r.status == 429 || (call.idempotent && transient))) return r;
    std::chrono::milliseconds delay = backoff.Delay(n);
    if (auto ra = ErrorFromResponse(r).retry_after()) {
      delay = std::max<std::chrono::milliseconds>(delay, *ra);
    }
    if (!SleepFor(delay, cancel)) return r;
  }
}

Result<Json> Client::Do(const Call& call, std::stop_token cancel) {
  HttpResponse r =
      WithRetries(call, cancel, [this](const HttpRequest& q) { return transport_->Send(q); });
  if (r.failure != TransportFailure::kNone || r.status < 200 || r.status >= 300) {
    return ErrorFromResponse(r);
  }
  return ParseBody(r);
}

Result<Json> Client::Get(const ResourceRef& ref, const std::string& ns, const std::string& name) {
  if (name.empty()) return ClientSide("get: empty name");
  return Do({"GET", ResourcePath(ref, Ns(ref, ns), name), "", "", true});
}

Result<Json> Client::List(const ResourceRef& ref, const std::string& ns, const ListOptions& options,
                          std::stop_token cancel) {
  return Do({"GET", ResourcePath(ref, Ns(ref, ns)) + ListQuery(options, false), "", "", true},
            cancel);
}

namespace {

// Fetches every page through `page`, restarting once when the continue token expires.
Result<Json> CollectPages(const ListOptions& options,
                          const std::function<Result<Json>(const ListOptions&)>& page) {
  for (int restart = 0;; ++restart) {
    ListOptions o = options;
    if (o.limit <= 0) o.limit = 500;
    o.continue_token.clear();
    Json all = Json::object();
    Json items = Json::array();
    size_t count = 0;
    bool expired = false;
    for (bool first = true;; first = false) {
      Result<Json> r = page(o);
      if (!r.ok()) {
        if (r.Is(ErrorKind::kGone) && !first && restart == 0) {
          expired = true;
          break;
        }
        return r.error();
      }
      Json& body = r.value();
      if (first) {
        all = body;
        if (all.has_field("items")) all.as_object().erase("items");
      }
      if (body.has_array_field("items")) {
        for (auto& item : body.at("items").as_array()) items[count++] = std::move(item);
      }
      const Json* cont = Field(body, "metadata", "continue");
      if (!cont || !cont->is_string() || cont->as_string().empty()) break;
      o.continue_token = cont->as_string();
    }
    if (expired) continue;
    all["items"] = std::move(items);
    if (all.has_object_field("metadata") && all.at("metadata").has_field("continue")) {
      all["metadata"].as_object().erase("continue");
    }
    return all;
  }
}

}  // namespace

Result<Json> Client::ListAll(const ResourceRef& ref, const std::string& ns,
                             const ListOptions& options, std::stop_token cancel) {
  return CollectPages(options, [&](const ListOptions& o) { return List(ref, ns, o, cancel); });
}

Result<Json> Client::ListAllNamespaces(const ResourceRef& ref, const ListOptions& options,
                                       std::stop_token cancel) {
  return CollectPages(options, [&](const ListOptions& o) {
    return Do({"GET", ResourcePath(ref, "") + ListQuery(o, false), "", "", true}, cancel);
  });
}

Result<Json> Client::Create(const ResourceRef& ref, const std::string& ns, Json object) {
  if (!object.is_object()) return ClientSide("create: the object must be a JSON object");
  if (!object.has_field("apiVersion")) object["apiVersion"] = Json::string(ref.ApiVersion());
  if (!object.has_field("kind") && !ref.kind.empty()) object["kind"] = Json::string(ref.kind);
  const std::string& n = Ns(ref, ns);
  std::string declared = NamespaceOf(object);
  if (ref.namespaced && !declared.empty() && declared != n) {
    return ClientSide("create: metadata.namespace \"" + declared +
                      "\" differs from the request's "
                      "namespace \"" +
                      n + "\"");
  }
  return Do({"POST", ResourcePath(ref, n), "application/json", object.serialize(), false});
}

Result<Json> Client::Update(const ResourceRef& ref, const std::string& ns, Json object) {
  std::string name = NameOf(object);
  if (name.empty()) return ClientSide("update: the object has no metadata.name");
  if (!object.has_field("apiVersion")) object["apiVersion"] = Json::string(ref.ApiVersion());
  if (!object.has_field("kind") && !ref.kind.empty()) object["kind"] = Json::string(ref.kind);
  return Do(
      {"PUT", ResourcePath(ref, Ns(ref, ns), name), "application/json", object.serialize(), false});
}

Result<Json> Client::Patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                           const Json& patch, PatchType type) {
  if (name.empty()) return ClientSide("patch: empty name");
  return Do(
      {"PATCH", ResourcePath(ref, Ns(ref, ns), name), ContentType(type), patch.serialize(), false});
}

Result<Json> Client::Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                            const DeleteOptions& options) {
  if (name.empty()) return ClientSide("delete: empty name");
  Json body = Json::object();
  body["apiVersion"] = Json::string("v1");
  body["kind"] = Json::string("DeleteOptions");
  switch (options.propagation) {
    case Propagation::kBackground:
      body["propagationPolicy"] = Json::string("Background");
      break;
    case Propagation::kForeground:
      body["propagationPolicy"] = Json::string("Foreground");
      break;
    case Propagation::kOrphan:
      body["propagationPolicy"] = Json::string("Orphan");
      break;
    case Propagation::kDefault:
      break;
  }
  if (!options.precondition_uid.empty() || !options.precondition_resource_version.empty()) {
    Json pre = Json::object();
    if (!options.precondition_uid.empty()) pre["uid"] = Json::string(options.precondition_uid);
    if (!options.precondition_resource_version.empty()) {
      pre["resourceVersion"] = Json::string(options.precondition_resource_version);
    }
    body["preconditions"] = pre;
  }
  if (options.grace_period_seconds) {
    body["gracePeriodSeconds"] = Json::number(*options.grace_period_seconds);
  }
  return Do({"DELETE", ResourcePath(ref, Ns(ref, ns), name), "application/json", body.serialize(),
             false});
}

Result<Json> Client::GetStatus(const ResourceRef& ref, const std::string& ns,
                               const std::string& name) {
  if (name.empty()) return ClientSide("get status: empty name");
  return Do({"GET", ResourcePath(ref, Ns(ref, ns), name, "status"), "", "", true});
}

Result<Json> Client::UpdateStatus(const ResourceRef& ref, const std::string& ns, Json object) {
  std::string name = NameOf(object);
  if (name.empty()) return ClientSide("update status: the object has no metadata.name");
  if (!object.has_field("apiVersion")) object["apiVersion"] = Json::string(ref.ApiVersion());
  if (!object.has_field("kind") && !ref.kind.empty()) object["kind"] = Json::string(ref.kind);
  return Do({"PUT", ResourcePath(ref, Ns(ref, ns), name, "status"), "application/json",
             object.serialize(), false});
}

Result<Json> Client::PatchStatus(const ResourceRef& ref, const std::string& ns,
                                 const std::string& name, const Json& patch, PatchType type) {
  if (name.empty()) return ClientSide("patch status: empty name");
  return Do({"PATCH", ResourcePath(ref, Ns(ref, ns), name, "status"), ContentType(type),
             patch.serialize(), false});
}

Result<Json> Client::GetScale(const ResourceRef& ref, const std::string& ns,
                              const std::string& name) {
  if (name.empty()) return ClientSide("get scale: empty name");
  return Do({"GET", ResourcePath(ref, Ns(ref, ns), name, "scale"), "", "", true});
}

Result<Json> Client::UpdateScale(const ResourceRef& ref, const std::string& ns, Json scale) {
  std::string name = NameOf(scale);
  if (name.empty()) return ClientSide("update scale: the Scale has no metadata.name");
  if (!scale.has_field("apiVersion")) scale["apiVersion"] = Json::string("autoscaling/v1");
  if (!scale.has_field("kind")) scale["kind"] = Json::string("Scale");
  return Do({"PUT", ResourcePath(ref, Ns(ref, ns), name, "scale"), "application/json",
             scale.serialize(), false});
}

Result<std::unique_ptr<WatchStream>> Client::Watch(const ResourceRef& ref, const std::string& ns,
                                                   const ListOptions& options,
                                                   std::stop_token cancel) {
  return OpenWatch(ResourcePath(ref, Ns(ref, ns)), options, cancel);
}

Result<std::unique_ptr<WatchStream>> Client::WatchAllNamespaces(const ResourceRef& ref,
                                                                const ListOptions& options,
                                                                std::stop_token cancel) {
  return OpenWatch(ResourcePath(ref, ""), options, cancel);
}

Result<std::unique_ptr<WatchStream>> Client::OpenWatch(const std::string& path,
                                                       const ListOptions& options,
                                                       std::stop_token cancel) {
  Call call{"GET", path + ListQuery(options, true), "", "", true};
  // The transport's timeout is an inactivity limit: allow the server's own
  // timeout plus slack before declaring the stream dead.
  auto idle = options.timeout_seconds ? std::chrono::seconds(*options.timeout_seconds + 30)
                                      : std::chrono::seconds(3600);
  std::unique_ptr<LineStream> lines;
  HttpResponse r = WithRetries(call, cancel, [&](const HttpRequest& q) {
    HttpRequest with_idle = q;
    with_idle.timeout = idle;
    lines.reset();
    return transport_->Open(with_idle, &lines);
  });
  if (!lines) {
    if (r.failure == TransportFailure::kNone && r.status >= 200 && r.status < 300) {
      return Error(ErrorKind::kDecode, r.status, "watch answered without a body stream");
    }
    return ErrorFromResponse(r);
  }
  return std::make_unique<WatchStream>(std::move(lines), cancel);
}

}  // namespace zkop::kube
