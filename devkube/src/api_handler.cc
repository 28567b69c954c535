#include "api_handler.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include "discovery.h"
#include "json_util.h"
#include "protobuf_body.h"
#include "security.h"
#include "selectors.h"
#include "table.h"
#include "zkop/log/log.h"

namespace zkop::devkube {

struct ApiHandler::Route {
  ResourceRef ref;
  ResourceType type;
};

namespace {

using Clock = std::chrono::system_clock;
const log::Logger kLog("devkube.api");

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.serialize();
  return r;
}

HttpResponse StatusResponse(const ApiStatus& status) {
  HttpResponse r = JsonResponse(status.code, status.ToJson());
  if (status.retry_after_seconds > 0)
    r.headers.emplace_back("Retry-After", std::to_string(status.retry_after_seconds));
  return r;
}

template <typename T>
void AddWarnings(HttpResponse& r, const Result<T>& result) {
  for (const auto& w : result.warnings) {
    std::string escaped;
    for (char c : w) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    r.headers.emplace_back("Warning", "299 - \"" + escaped + "\"");
  }
}

bool WantsTable(const std::string& accept) {
  return accept.find("as=Table") != std::string::npos &&
         accept.find("g=meta.k8s.io") != std::string::npos;
}

std::string Query(const HttpRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? "" : it->second;
}

// A boolean query parameter as the real server converts it (apimachinery's
// Convert_Slice_string_To_bool): absent is false; "0" and any case of "false" are false;
// every other value, "" included (`?watch`), is true.
bool TrueParam(const HttpRequest& req, const std::string& key) {
  auto it = req.query.find(key);
  if (it == req.query.end()) return false;
  std::string v = it->second;
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v != "0" && v != "false";
}

ApiStatus PathNotFound() {
  return ApiStatus::Error(404, "NotFound", "the server could not find the requested resource");
}

WriteOptions WriteOptionsFrom(const HttpRequest& req, ApiStatus* error) {
  WriteOptions o;
  std::string dry = Query(req, "dryRun");
  if (!dry.empty() && dry != "All")
    *error = ApiStatus::BadRequest("dryRun: Unsupported value: \"" + dry +
                                   "\": supported values: \"All\"");
  o.dry_run = dry == "All";
  std::string fv = Query(req, "fieldValidation");
  if (fv == "Strict")
    o.field_validation = FieldValidation::kStrict;
  else if (fv == "Ignore")
    o.field_validation = FieldValidation::kIgnore;
  else if (fv.empty() || fv == "Warn")
    o.field_validation = FieldValidation::kWarn;
  else
    *error = ApiStatus::BadRequest("fieldValidation: Unsupported value: \"" + fv +
                                   "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
  return o;
}

DeleteOptions DeleteOptionsFrom(const HttpRequest& req, ApiStatus* error) {
  DeleteOptions o;
  Json body = Json::object();
  if (!req.body.empty() && IsProtobufContentType(req.content_type)) {
    Result<Json> decoded = DecodeProtobufBody(req.body, "v1", "DeleteOptions");
    if (!decoded.ok()) {
      *error = decoded.status;
      return o;
    }
    body = decoded.value;
  } else if (!req.body.empty()) {
    std::string why;
    auto parsed = ParseJson(req.body, &why);
    if (!parsed || !parsed->is_object()) {
      *error = ApiStatus::BadRequest("DeleteOptions: " + (parsed ? "expected an object" : why));
      return o;
    }
    body = *parsed;
  }
  std::string policy = GetString(body, {"propagationPolicy"});
  if (policy.empty()) policy = Query(req, "propagationPolicy");
  if (policy == "Background")
    o.propagation = Propagation::kBackground;
  else if (policy == "Foreground")
    o.propagation = Propagation::kForeground;
  else if (policy == "Orphan")
    o.propagation = Propagation::kOrphan;
  else if (!policy.empty())
    *error = ApiStatus::BadRequest("propagationPolicy: Unsupported value: \"" + policy +
                                   "\": supported values: \"Background\", \"Foreground\", "
                                   "\"Orphan\"");
  if (const Json* orphan = Find(body, {"orphanDependents"}); orphan && orphan->is_boolean())
    if (orphan->as_bool()) o.propagation = Propagation::kOrphan;
  if (const Json* uid = Find(body, {"preconditions", "uid"}); uid && uid->is_string())
    o.precondition_uid = uid->as_string();
  if (const Json* rv = Find(body, {"preconditions", "resourceVersion"}); rv && rv->is_string())
    o.precondition_resource_version = rv->as_string();
  if (const Json* g = Find(body, {"gracePeriodSeconds"}); g && g->is_integer())
    o.grace_period_seconds = g->as_number().to_int64();
  std::string g = Query(req, "gracePeriodSeconds");
  if (!g.empty() && g.size() < 12 && g.find_first_not_of("0123456789") == std::string::npos)
    o.grace_period_seconds = std::stoll(g);
  o.dry_run = Query(req, "dryRun") == "All" ||
              (Find(body, {"dryRun"}) && body.at("dryRun").is_array() && body.at("dryRun").size());
  return o;
}

ListOptions ListOptionsFrom(const HttpRequest& req) {
  ListOptions o;
  o.label_selector = Query(req, "labelSelector");
  o.field_selector = Query(req, "fieldSelector");
  o.continue_token = Query(req, "continue");
  std::string limit = Query(req, "limit");
  if (!limit.empty() && limit.find_first_not_of("0123456789") == std::string::npos &&
      limit.size() < 12)
    o.limit = std::stoll(limit);
  return o;
}

// A watcher's queue, fed by the Store's callback (under the Store lock) and drained by the
// connection thread.
struct WatchQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<WatchEvent> events;
};

}  // namespace

void ApiHandler::InjectFault(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(fault));
}

void ApiHandler::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::vector<std::string> ApiHandler::RequestLog() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {log_.begin(), log_.end()};
}

bool ApiHandler::PlayFault(Exchange& ex) {
  const HttpRequest& req = ex.request();
  std::optional<Fault> hit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string line = req.method + " " + req.path;
    std::string sep = "?";
    for (const auto& [k, v] : req.query) {
      line += sep + k + "=" + v;
      sep = "&";
    }
    log_.push_back(std::move(line));
    if (log_.size() > 1000) log_.pop_front();
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
      if ((!it->method.empty() && it->method != req.method) ||
          req.path.rfind(it->path_prefix, 0) != 0)
        continue;
      hit = *it;
      if (--it->times <= 0) faults_.erase(it);
      break;
    }
  }
  if (!hit) return false;
  if (hit->delay.count() > 0) std::this_thread::sleep_for(hit->delay);
  if (hit->status == 0) return false;
  static const std::map<int, std::string> kReasons = {
      {401, "Unauthorized"},    {403, "Forbidden"},     {409, "Conflict"},
      {429, "TooManyRequests"}, {500, "InternalError"}, {503, "ServiceUnavailable"},
      {504, "Timeout"}};
  auto reason = kReasons.find(hit->status);
  ApiStatus s = ApiStatus::Error(hit->status, reason == kReasons.end() ? "" : reason->second,
                                 "injected fault: " + std::to_string(hit->status));
  s.retry_after_seconds = hit->retry_after_seconds;
  ex.Respond(StatusResponse(s));
  return true;
}

void ApiHandler::SetPodLogSource(PodLogSource source) {
  std::lock_guard<std::mutex> lock(mu_);
  log_source_ = std::move(source);
}

void ApiHandler::HandlePodLog(Exchange& ex, const ResourceRef& ref) {
  const HttpRequest& req = ex.request();
  if (req.method != "GET")
    return ex.Respond(StatusResponse(
        ApiStatus::Error(405, "MethodNotAllowed",
                         "the server does not allow this method on the requested resource")));
  ResourceRef pod_ref = ref;
  pod_ref.subresource.clear();
  Result<Json> pod = store_.Get(pod_ref);
  if (!pod.ok()) return ex.Respond(StatusResponse(pod.status));
  std::vector<std::string> names;
  for (const char* list : {"containers", "initContainers"})
    if (const Json* cs = Find(pod.value, {"spec", list}); cs && cs->is_array())
      for (const Json& c : cs->as_array()) names.push_back(GetString(c, {"name"}));
  std::string container = Query(req, "container");
  if (container.empty()) {
    const Json* cs = Find(pod.value, {"spec", "containers"});
    if (!cs || !cs->is_array() || cs->size() != 1) {
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : " ") + n;
      return ex.Respond(
          StatusResponse(ApiStatus::BadRequest("a container name must be specified for pod " +
                                               ref.name + ", choose one of: [" + all + "]")));
    }
    container = names.front();
  }
  if (std::find(names.begin(), names.end(), container) == names.end())
    return ex.Respond(StatusResponse(
        ApiStatus::BadRequest("container " + container + " is not valid for pod " + ref.name)));
  PodLogSource source;
  {
    std::lock_guard<std::mutex> lock(mu_);
    source = log_source_;
  }
  std::optional<std::string> path =
      source ? source(ref.ns, ref.name, container) : std::optional<std::string>();
  if (!path)
    return ex.Respond(StatusResponse(
        ApiStatus::BadRequest("container \"" + container + "\" in pod \"" + ref.name +
                              "\" is waiting to start: ContainerCreating")));
  std::ifstream in(*path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::streamoff offset_at_read = static_cast<std::streamoff>(text.size());
  std::string tail = Query(req, "tailLines");
  if (!tail.empty() && tail.size() < 9 &&
      tail.find_first_not_of("0123456789") == std::string::npos) {
    // Keep the last N lines (a final newline does not start a line).
    size_t want = std::stoul(tail), seen = 0, pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') --pos;
    while (pos > 0 && seen < want) {
      size_t nl = text.rfind('\n', pos - 1);
      if (nl == std::string::npos) {
        pos = 0;
        break;
      }
      if (++seen == want) {
        pos = nl + 1;
        break;
      }
      pos = nl;
    }
    text = want == 0 ? "" : text.substr(pos);
  }
  if (!TrueParam(req, "follow")) return ex.Respond({200, "text/plain", text, {}});
  // follow: stream what the file gains until the client leaves or the pod is gone.
  if (!ex.BeginStream(200, "text/plain") || (!text.empty() && !ex.WriteChunk(text))) return;
  std::streamoff offset = offset_at_read;
  while (!ex.Stopping() && !ex.ClientClosed() && store_.Get(pod_ref).ok()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ifstream more(*path, std::ios::binary);
    more.seekg(offset);
    std::string fresh((std::istreambuf_iterator<char>(more)), std::istreambuf_iterator<char>());
    if (fresh.empty()) continue;
    offset += static_cast<std::streamoff>(fresh.size());
    if (!ex.WriteChunk(fresh)) return;
  }
}

void ApiHandler::Handle(Exchange& ex) {
  if (!audit_) return Serve(ex, nullptr);
  AuditedExchange audited(ex, *audit_);
  Serve(audited, &audited.attributes());
}

void ApiHandler::Serve(Exchange& ex, RequestAttributes* seen) {
  const HttpRequest& req = ex.request();
  kLog.Debug("request", {{"method", req.method}, {"path", req.path}});
  if (PlayFault(ex)) return;
  if (security_ && security_->Intercept(ex, seen)) return;
  std::vector<std::string> seg = Split(req.path);
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (get) {
    if (req.path == "/version" || req.path == "/version/")
      return ex.Respond(JsonResponse(200, VersionInfo()));
    if (req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz")
      return ex.Respond({200, "text/plain; charset=utf-8", "ok", {}});
    if (req.path == "/api") {
      std::string address;
      {
        std::lock_guard<std::mutex> lock(mu_);
        address = server_address_;
      }
      return ex.Respond(JsonResponse(200, CoreApiVersions(address)));
    }
    if (req.path == "/apis") return ex.Respond(JsonResponse(200, ApiGroupList(store_.Types())));
    if (seg.size() == 2 && seg[0] == "apis") {
      auto g = ApiGroup(store_.Types(), seg[1]);
      return ex.Respond(g ? JsonResponse(200, *g) : StatusResponse(PathNotFound()));
    }
    if ((seg.size() == 2 && seg[0] == "api") || (seg.size() == 3 && seg[0] == "apis")) {
      auto list = seg[0] == "api" ? ApiResourceList(store_.Types(), "", seg[1])
                                  : ApiResourceList(store_.Types(), seg[1], seg[2]);
      return ex.Respond(list ? JsonResponse(200, *list) : StatusResponse(PathNotFound()));
    }
    if (seg.size() >= 2 && seg[0] == "openapi") {
      if (seg.size() == 2 && seg[1] == "v3")
        return ex.Respond(JsonResponse(200, OpenApiV3Index(store_.Types())));
      if (seg[1] == "v3" && seg.size() >= 4) {
        std::optional<Json> doc;
        if (seg[2] == "api" && seg.size() == 4) doc = OpenApiV3Document(store_.Types(), "", seg[3]);
        if (seg[2] == "apis" && seg.size() == 5)
          doc = OpenApiV3Document(store_.Types(), seg[3], seg[4]);
        if (doc) return ex.Respond(JsonResponse(200, *doc));
      }
      // No /openapi/v2: kubectl then takes patch strategies from its compiled-in types.
      return ex.Respond({404, "text/plain; charset=utf-8", "404 page not found\n", {}});
    }
  }
  // Resource paths: /api/v1/... and /apis/<group>/<version>/...
  Route route;
  size_t at;
  if (seg.size() >= 3 && seg[0] == "api") {
    route.ref.version = seg[1];
    at = 2;
  } else if (seg.size() >= 4 && seg[0] == "apis") {
    route.ref.group = seg[1];
    route.ref.version = seg[2];
    at = 3;
  } else {
    return ex.Respond({404, "text/plain; charset=utf-8", "404 page not found\n", {}});
  }
  std::vector<std::string> rest(seg.begin() + at, seg.end());
  const std::string& g = route.ref.group;
  const std::string& v = route.ref.version;
  std::optional<ResourceType> type;
  if (rest.size() >= 3 && rest[0] == "namespaces" && (type = store_.FindType(g, v, rest[2])) &&
      type->namespaced) {
    route.ref.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  } else {
    type = store_.FindType(g, v, rest[0]);
    if (type && type->namespaced && rest.size() > 1) type.reset();  // needs a namespace
  }
  if (!type || rest.size() > 3) return ex.Respond(StatusResponse(PathNotFound()));
  // Responses are always JSON: a client that accepts nothing else gets what a JSON-only
  // server sends (clients list application/json after protobuf and get JSON).
  if (AcceptsOnlyProtobuf(req.accept))
    return ex.Respond(StatusResponse(
        ApiStatus::Error(406, "NotAcceptable",
                         "only the following media types are accepted: application/json, "
                         "application/json;as=Table;v=v1;g=meta.k8s.io")));
  route.type = *type;
  route.ref.resource = rest[0];
  if (rest.size() >= 2) route.ref.name = rest[1];
  if (rest.size() == 3) {
    route.ref.subresource = rest[2];
    bool log = rest[2] == "log" && type->group.empty() && type->resource == "pods";
    bool known = (rest[2] == "status" && type->status_subresource) ||
                 (rest[2] == "scale" && type->scale) || log;
    if (!known) return ex.Respond(StatusResponse(PathNotFound()));
    if (log) return HandlePodLog(ex, route.ref);
  }
  HandleResource(ex, route);
}

void ApiHandler::HandleResource(Exchange& ex, const Route& route) {
  const HttpRequest& req = ex.request();
  const ResourceRef& ref = route.ref;
  const std::string& m = req.method;
  auto respond = [&](const Result<Json>& r, int ok_code) {
    HttpResponse out = r.ok() ? JsonResponse(ok_code, r.value) : StatusResponse(r.status);
    AddWarnings(out, r);
    ex.Respond(out);
  };
  auto parse_body = [&](Json* out) {
    if (IsProtobufContentType(req.content_type)) {
      Result<Json> decoded = DecodeProtobufBody(req.body, route.type.ApiVersion(), route.type.kind);
      if (!decoded.ok()) {
        ex.Respond(StatusResponse(decoded.status));
        return false;
      }
      *out = std::move(decoded.value);
      return true;
    }
    std::string why;
    auto body = ParseJson(req.body, &why);
    if (!body) {
      if (req.content_type.find("yaml") != std::string::npos)
        body = ParseYamlAsJson(req.body, &why);
      if (!body) {
        ex.Respond(StatusResponse(
            ApiStatus::BadRequest("the body of the request could not be decoded as JSON: " + why)));
        return false;
      }
    }
    *out = *body;
    return true;
  };
  ApiStatus error;
  if (m == "GET" || m == "HEAD") {
    if (ref.name.empty() && TrueParam(req, "watch")) return HandleWatch(ex, route);
    Result<Json> r = ref.name.empty() ? store_.List(ref, ListOptionsFrom(req)) : store_.Get(ref);
    if (r.ok() && WantsTable(req.accept) && ref.subresource != "scale") {
      std::vector<Json> objects;
      Json meta = Json::object();
      if (ref.name.empty()) {
        for (const Json& item : r.value["items"].as_array()) objects.push_back(item);
        meta = r.value["metadata"];
      } else {
        objects.push_back(r.value);
        meta["resourceVersion"] = r.value["metadata"]["resourceVersion"];
      }
      r.value = ToTable(route.type, objects, meta, ParseIncludeObject(Query(req, "includeObject")),
                        Clock::now());
    }
    return respond(r, 200);
  }
  if (m == "POST" && ref.name.empty()) {
    if (route.type.namespaced && ref.ns.empty()) return ex.Respond(StatusResponse(PathNotFound()));
    WriteOptions o = WriteOptionsFrom(req, &error);
    Json body;
    if (!error.ok()) return ex.Respond(StatusResponse(error));
    if (!parse_body(&body)) return;
    return respond(store_.Create(ref, body, o), 201);
  }
  if (m == "PUT" && !ref.name.empty()) {
    WriteOptions o = WriteOptionsFrom(req, &error);
    Json body;
    if (!error.ok()) return ex.Respond(StatusResponse(error));
    if (!parse_body(&body)) return;
    return respond(store_.Update(ref, body, o), 200);
  }
  if (m == "PATCH" && !ref.name.empty()) {
    WriteOptions o = WriteOptionsFrom(req, &error);
    if (!error.ok()) return ex.Respond(StatusResponse(error));
    std::string ct = req.content_type.substr(0, req.content_type.find(';'));
    PatchType pt;
    if (ct == "application/merge-patch+json")
      pt = PatchType::kMerge;
    else if (ct == "application/json-patch+json")
      pt = PatchType::kJson;
    else if (ct == "application/strategic-merge-patch+json")
      pt = PatchType::kStrategic;
    else if (ct == "application/apply-patch+yaml")
      pt = PatchType::kApply;
    else
      return ex.Respond(StatusResponse(ApiStatus::Error(
          415, "UnsupportedMediaType",
          "the body of the request was in an unknown format - accepted media types include: "
          "application/json-patch+json, application/merge-patch+json, "
          "application/apply-patch+yaml, application/strategic-merge-patch+json")));
    return respond(store_.Patch(ref, pt, req.body, o), 200);
  }
  if (m == "DELETE") {
    DeleteOptions o = DeleteOptionsFrom(req, &error);
    if (!error.ok()) return ex.Respond(StatusResponse(error));
    if (ref.name.empty())
      return respond(store_.DeleteCollection(ref, ListOptionsFrom(req), o), 200);
    Result<Json> r = store_.Delete(ref, o);
    // 202 while the object stays (finalizers, graceful pod deletion), 200 once it is gone.
    bool pending = r.ok() && store_.Get(ref).ok() &&
                   GetString(store_.Get(ref).value, {"metadata", "uid"}) ==
                       GetString(r.value, {"metadata", "uid"});
    return respond(r, pending ? 202 : 200);
  }
  ApiStatus s = ApiStatus::Error(405, "MethodNotAllowed",
                                 "the server does not allow this method on the requested resource");
  ex.Respond(StatusResponse(s));
}

void ApiHandler::HandleWatch(Exchange& ex, const Route& route) {
  const HttpRequest& req = ex.request();
  std::string error;
  auto labels = LabelSelector::Parse(Query(req, "labelSelector"), &error);
  std::vector<std::string> allowed = {"metadata.name", "metadata.namespace"};
  allowed.insert(allowed.end(), route.type.field_labels.begin(), route.type.field_labels.end());
  auto fields =
      labels ? FieldSelector::Parse(Query(req, "fieldSelector"), allowed, &error) : std::nullopt;
  if (!labels || !fields) return ex.Respond(StatusResponse(ApiStatus::BadRequest(error)));
  WatchRequest wr{route.ref.group, route.ref.version, route.ref.resource, route.ref.ns, {}};
  std::string rv = Query(req, "resourceVersion");
  if (!rv.empty() && rv != "0") {
    if (rv.find_first_not_of("0123456789") != std::string::npos || rv.size() > 19)
      return ex.Respond(StatusResponse(ApiStatus::BadRequest("resourceVersion: Invalid value: \"" +
                                                             rv + "\": must be an integer")));
    wr.from_resource_version = std::stoull(rv);
  }
  auto queue = std::make_shared<WatchQueue>();
  auto sub = store_.Watch(wr, [queue](const WatchEvent& ev) {
    std::lock_guard<std::mutex> lock(queue->mu);
    queue->events.push_back(ev);
    queue->cv.notify_one();
  });
  const bool table = WantsTable(req.accept);
  const IncludeObject include = ParseIncludeObject(Query(req, "includeObject"));
  auto encode = [&](const char* type, const Json& object) {
    Json ev = Json::object();
    ev["type"] = Json::string(type);
    ev["object"] = object;
    return ev.serialize() + "\n";
  };
  if (!sub.ok()) {
    if (sub.status.code != 410) return ex.Respond(StatusResponse(sub.status));
    // Like the real server: a 200 stream whose only event is an ERROR carrying 410 Expired.
    if (ex.BeginStream(200, "application/json"))
      ex.WriteChunk(encode("ERROR", sub.status.ToJson()));
    return;
  }
  std::string timeout = Query(req, "timeoutSeconds");
  auto duration = std::chrono::seconds(1800);
  if (!timeout.empty() && timeout.find_first_not_of("0123456789") == std::string::npos &&
      timeout.size() < 9)
    duration = std::chrono::seconds(std::stoll(timeout));
  const auto deadline = std::chrono::steady_clock::now() + duration;
  const bool bookmarks = TrueParam(req, "allowWatchBookmarks");
  auto next_bookmark = std::chrono::steady_clock::now() + bookmark_interval_;
  uint64_t last_rv = wr.from_resource_version.value_or(0);
  if (!ex.BeginStream(200, "application/json")) return;
  auto selected = [&](const Json& obj) {
    if (obj.is_null()) return false;
    const Json* l = Find(obj, {"metadata", "labels"});
    return labels->Matches(l ? *l : Json::null()) && fields->Matches(obj);
  };
  while (true) {
    std::deque<WatchEvent> batch;
    {
      std::unique_lock<std::mutex> lock(queue->mu);
      queue->cv.wait_for(lock, std::chrono::milliseconds(200),
                         [&] { return !queue->events.empty(); });
      batch.swap(queue->events);
    }
    for (const WatchEvent& ev : batch) {
      last_rv = std::max(last_rv, ev.resource_version);
      bool now_in = selected(ev.object);
      bool was_in = ev.type == WatchEvent::Type::kModified && selected(ev.previous);
      const char* type = WatchEventTypeName(ev.type);
      if (ev.type == WatchEvent::Type::kModified) {
        if (now_in && !was_in)
          type = "ADDED";
        else if (!now_in && was_in)
          type = "DELETED";
        else if (!now_in)
          continue;
      } else if (!now_in) {
        continue;
      }
      Json object = ev.object;
      if (table) object = ToTable(route.type, {ev.object}, Json::object(), include, Clock::now());
      if (!ex.WriteChunk(encode(type, object))) return;
    }
    auto now = std::chrono::steady_clock::now();
    if (ex.Stopping() || ex.ClientClosed() || now >= deadline) return;
    if (bookmarks && now >= next_bookmark) {
      next_bookmark = now + bookmark_interval_;
      uint64_t current = store_.CurrentResourceVersion();
      bool idle;
      {
        std::lock_guard<std::mutex> lock(queue->mu);
        idle = queue->events.empty();
      }
      // Every event up to `current` was queued before it was read; the queue is empty, so
      // all of them have been written: `current` is a safe resume point.
      if (idle) {
        Json obj = Json::object();
        obj["kind"] = Json::string(route.type.kind);
        obj["apiVersion"] = Json::string(route.type.ApiVersion());
        obj["metadata"] = Json::object();
        obj["metadata"]["resourceVersion"] =
            Json::string(std::to_string(std::max(current, last_rv)));
        if (!ex.WriteChunk(encode("BOOKMARK", obj))) return;
      }
    }
  }
}

}  // namespace zkop::devkube
