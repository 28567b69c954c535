#include "zkop/kube/events.h"

#include <ctime>

namespace zkop::kube {

namespace {

std::string StringAt(const Json& obj, const char* key) {
  return obj.is_object() && obj.has_string_field(key) ? obj.at(key).as_string() : std::string();
}

}  // namespace

std::string FormatRfc3339(std::chrono::system_clock::time_point t, bool micro) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us));
    out += frac;
  }
  return out + "Z";
}

EventRecorder::EventRecorder(std::shared_ptr<Client> client, std::string component,
                             std::string host, size_t max_cached)
    : client_(std::move(client)),
      component_(std::move(component)),
      host_(std::move(host)),
      max_cached_(std::max<size_t>(1, max_cached)) {}

Result<Json> EventRecorder::Record(const Json& involved, EventType type, const std::string& reason,
                                   const std::string& message) {
  std::string ns = NamespaceOf(involved);
  if (ns.empty()) ns = "default";  // events on cluster-scoped objects live in "default"
  std::string type_name = type == EventType::kWarning ? "Warning" : "Normal";
  std::string key = ns + "\x1f" + StringAt(involved, "kind") + "\x1f" + NameOf(involved) + "\x1f" +
                    UidOf(involved) + "\x1f" + type_name + "\x1f" + reason + "\x1f" + message;

  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    Json patch = Json::object();
    patch["count"] = Json::number(it->second.count + 1);
    patch["lastTimestamp"] = Json::string(FormatRfc3339(std::chrono::system_clock::now()));
    Result<Json> r = client_->Patch(resources::Events(), it->second.ns, it->second.name, patch,
                                    PatchType::kMerge);
    if (r.ok()) {
      it->second.count++;
      return r;
    }
    if (!r.Is(ErrorKind::kNotFound)) return r;
    // The Event expired (the API server's event TTL): start a new series.
  }
  Result<Json> created = CreateNew(involved, ns, type, reason, message);
  if (!created.ok()) return created;
  if (it == seen_.end()) {
    order_.push_back(key);
    if (order_.size() > max_cached_) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
  }
  seen_[key] = Seen{ns, NameOf(created.value()), 1};
  return created;
}

Result<Json> EventRecorder::CreateNew(const Json& involved, const std::string& ns, EventType type,
                                      const std::string& reason, const std::string& message) {
  auto now = std::chrono::system_clock::now();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));

  Json ref = Json::object();
  for (const char* k : {"apiVersion", "kind"}) {
    if (involved.has_string_field(k)) ref[k] = involved.at(k);
  }
  ref["name"] = Json::string(NameOf(involved));
  if (!NamespaceOf(involved).empty()) ref["namespace"] = Json::string(NamespaceOf(involved));
  if (!UidOf(involved).empty()) ref["uid"] = Json::string(UidOf(involved));
  if (!ResourceVersionOf(involved).empty()) {
    ref["resourceVersion"] = Json::string(ResourceVersionOf(involved));
  }

  Json ev = Json::object();
  ev["metadata"] = Json::object();
  ev["metadata"]["name"] = Json::string(NameOf(involved) + suffix);
  ev["metadata"]["namespace"] = Json::string(ns);
  ev["involvedObject"] = ref;
  ev["reason"] = Json::string(reason);
  ev["message"] = Json::string(message);
  ev["type"] = Json::string(type == EventType::kWarning ? "Warning" : "Normal");
  ev["count"] = Json::number(1);
  std::string ts = FormatRfc3339(now);
  ev["firstTimestamp"] = Json::string(ts);
  ev["lastTimestamp"] = Json::string(ts);
  ev["source"] = Json::object();
  ev["source"]["component"] = Json::string(component_);
  if (!host_.empty()) ev["source"]["host"] = Json::string(host_);
  ev["reportingComponent"] = Json::string(component_);
  if (!host_.empty()) ev["reportingInstance"] = Json::string(host_);
  return client_->Create(resources::Events(), ns, ev);
}

}  // namespace zkop::kube
