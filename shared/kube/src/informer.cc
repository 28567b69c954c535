#include "zkop/kube/informer.h"

#include <cstdint>
#include <random>
#include <stdexcept>

namespace zkop::kube {

namespace {

std::string KeyOf(const Json& obj) {
  std::string ns = NamespaceOf(obj);
  return ns.empty() ? NameOf(obj) : ns + "/" + NameOf(obj);
}

}  // namespace

Informer::Entry Informer::MakeEntry(const Json& obj) {
  const std::string text = obj.serialize();
  if (text.size() > UINT32_MAX) {
    // Far beyond what an API server accepts (etcd's object limit is 1.5 MiB).
    throw std::length_error("informer: object " + KeyOf(obj) + " is over 4 GiB");
  }
  if (!deflater_) deflater_.emplace(text);
  std::string labels;
  for (const auto& [key, value] : LabelsOf(obj)) {
    labels.append(key).push_back('\0');
    labels.append(value).push_back('\0');
  }
  const std::string deflated = deflater_->Deflate(text);
  Entry entry;
  entry.resource_version = ResourceVersionOf(obj);
  entry.bytes.reserve(labels.size() + deflated.size());  // from empty: the size asked, no slack
  entry.bytes.append(labels).append(deflated);
  entry.labels_size = static_cast<uint32_t>(labels.size());  // < text.size()
  entry.text_size = static_cast<uint32_t>(text.size());
  return entry;
}

std::map<std::string, std::string> Informer::LabelsOfEntry(const Entry& entry) {
  std::map<std::string, std::string> out;
  const std::string_view s = entry.labels();
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t key_end = s.find('\0', pos);
    const size_t value_end = s.find('\0', key_end + 1);
    out.emplace(s.substr(pos, key_end - pos), s.substr(key_end + 1, value_end - key_end - 1));
    pos = value_end + 1;
  }
  return out;
}

Json Informer::Parse(std::string_view key, std::string_view deflated, uint32_t text_size) const {
  const std::string what = "informer cache " + ref_.resource + " " + std::string(key);
  return Json::parse(deflater_->Inflate(deflated, text_size, what));
}

Json Informer::Parse(std::string_view key, const Entry& entry) const {
  return Parse(key, entry.deflated(), entry.text_size);
}

void Informer::Count(const Entry& entry, int sign) {
  stats_.objects += sign;
  stats_.text_bytes += sign * int64_t{entry.text_size};
  stats_.stored_bytes += sign * static_cast<int64_t>(entry.deflated().size());
}

Informer::Informer(std::shared_ptr<Client> client, ResourceRef ref, InformerOptions options)
    : client_(std::move(client)), ref_(std::move(ref)), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(EventHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
  if (options_.resync.count() > 0) {
    resync_thread_ = std::jthread([this](std::stop_token stop) { ResyncLoop(stop); });
  }
}

void Informer::Stop() {
  if (resync_thread_.joinable()) {
    resync_thread_.request_stop();
    resync_thread_.join();
  }
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

std::optional<Json> Informer::Get(const std::string& ns, const std::string& name) const {
  DeflatedCopy copy{ns.empty() ? name : ns + "/" + name, {}, 0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = store_.find(copy.key);
    if (it == store_.end()) return std::nullopt;
    copy.deflated = it->second.deflated();
    copy.text_size = it->second.text_size;
  }
  return Parse(copy.key, copy.deflated, copy.text_size);
}

std::vector<Json> Informer::List() const { return ListByLabels(LabelSelector(), ""); }

std::vector<Json> Informer::ListNamespace(const std::string& ns) const {
  return ListByLabels(LabelSelector(), ns);
}

std::vector<Informer::DeflatedCopy> Informer::Matching(const LabelSelector& selector,
                                                       const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DeflatedCopy> out;
  const std::string prefix = ns.empty() ? "" : ns + "/";
  for (auto it = store_.lower_bound(prefix); it != store_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    if (selector.empty() || selector.Matches(LabelsOfEntry(it->second))) {
      out.push_back({it->first, std::string(it->second.deflated()), it->second.text_size});
    }
  }
  return out;
}

std::vector<Json> Informer::ListByLabels(const LabelSelector& selector,
                                         const std::string& ns) const {
  std::vector<Json> out;
  for (const DeflatedCopy& copy : Matching(selector, ns)) {
    out.push_back(Parse(copy.key, copy.deflated, copy.text_size));
  }
  return out;
}

void Informer::ForEachByLabels(const LabelSelector& selector, const std::string& ns,
                               const std::function<void(const Json&)>& fn) const {
  for (const DeflatedCopy& copy : Matching(selector, ns)) {
    fn(Parse(copy.key, copy.deflated, copy.text_size));
  }
}

Informer::Stats Informer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Informer::Run(std::stop_token stop) {
  Backoff backoff(options_.backoff);
  while (!stop.stop_requested()) {
    if (!Relist(stop, backoff)) return;
    while (!stop.stop_requested()) {
      if (WatchOnce(stop, backoff)) break;
    }
  }
}

bool Informer::Relist(const std::stop_token& stop, Backoff& backoff) {
  ListOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.limit = options_.page_size;
  for (int attempt = 0;; ++attempt) {
    Result<Json> list = options_.ns.empty() && ref_.namespaced
                            ? client_->ListAllNamespaces(ref_, o, stop)
                            : client_->ListAll(ref_, options_.ns, o, stop);
    if (stop.stop_requested()) return false;
    if (list.ok()) {
      std::vector<Json> items;
      if (list.value().has_array_field("items")) {
        for (Json& item : list.value().at("items").as_array()) items.push_back(std::move(item));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.lists++;
        stats_.resource_version = ResourceVersionOf(list.value());
      }
      Replace(std::move(items));
      return true;
    }
    if (!SleepFor(backoff.Delay(attempt), stop)) return false;
  }
}

bool Informer::WatchOnce(const std::stop_token& stop, Backoff& backoff) {
  ListOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.allow_bookmarks = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    o.resource_version = stats_.resource_version;
  }
  static thread_local std::mt19937 rng(std::random_device{}());
  int64_t t = std::max<int64_t>(1, options_.watch_timeout.count());
  o.timeout_seconds = static_cast<int>(std::uniform_int_distribution<int64_t>(t, 2 * t - 1)(rng));

  auto gone = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.gone++;
    return true;
  };
  Result<std::unique_ptr<WatchStream>> watch = options_.ns.empty() && ref_.namespaced
                                                   ? client_->WatchAllNamespaces(ref_, o, stop)
                                                   : client_->Watch(ref_, options_.ns, o, stop);
  if (!watch.ok()) {
    if (watch.Is(ErrorKind::kGone)) return gone();
    int n = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = static_cast<int>(std::min<int64_t>(stats_.watches, 8));
    }
    SleepFor(backoff.Delay(n), stop);
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.watches++;
  }
  while (!stop.stop_requested()) {
    Result<std::optional<WatchEvent>> ev = watch.value()->Next();
    if (!ev.ok()) {
      if (ev.Is(ErrorKind::kGone)) return gone();
      if (!ev.Is(ErrorKind::kCancelled)) SleepFor(backoff.Delay(0), stop);
      return false;
    }
    if (!ev.value()) return false;  // the server's timeout: resume
    Apply(std::move(*ev.value()));
  }
  return false;
}

void Informer::Apply(WatchEvent event) {
  std::string rv = event.ResourceVersion();
  if (event.type == WatchEvent::Type::kBookmark) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bookmarks++;
    if (!rv.empty()) stats_.resource_version = rv;
    return;
  }
  if (options_.transform) options_.transform(event.object);
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  std::string key = KeyOf(event.object);
  // Deflated before taking the lock (wasted on a replay, which is rare).
  Entry entry;
  if (event.type != WatchEvent::Type::kDeleted) entry = MakeEntry(event.object);
  std::optional<Entry> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!rv.empty()) stats_.resource_version = rv;
    auto it = store_.find(key);
    if (it != store_.end()) old = it->second;
    if (event.type == WatchEvent::Type::kDeleted) {
      if (!old) return;  // never delivered: nothing to take back
      Count(it->second, -1);
      store_.erase(it);
    } else {
      if (old && old->resource_version == rv) return;  // a replay
      if (old) Count(it->second, -1);
      Entry& stored = store_[key];
      stored = std::move(entry);
      Count(stored, +1);
    }
  }
  for (const EventHandlers& h : handlers_) {
    if (event.type == WatchEvent::Type::kDeleted) {
      if (h.on_delete) h.on_delete(event.object);
    } else if (old) {
      if (h.on_update) h.on_update(Parse(key, *old), event.object);
    } else if (h.on_add) {
      h.on_add(event.object);
    }
  }
}

void Informer::Replace(std::vector<Json> items) {
  std::lock_guard<std::mutex> dispatch(dispatch_mu_);
  std::map<std::string, Entry> fresh;
  for (Json& item : items) {
    if (options_.transform) options_.transform(item);
    fresh[KeyOf(item)] = MakeEntry(item);
  }
  items.clear();
  struct Updated {
    std::string key;
    Entry old_entry, new_entry;
  };
  std::vector<std::pair<std::string, Entry>> deleted, added;
  std::vector<Updated> updated;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, entry] : store_) {
      if (!fresh.count(key)) deleted.emplace_back(key, entry);
    }
    for (const auto& [key, entry] : fresh) {
      auto it = store_.find(key);
      if (it == store_.end()) {
        added.emplace_back(key, entry);
      } else if (it->second.resource_version != entry.resource_version) {
        updated.push_back({key, it->second, entry});
      }
    }
    store_ = std::move(fresh);
    stats_.objects = stats_.text_bytes = stats_.stored_bytes = 0;
    for (const auto& [key, entry] : store_) Count(entry, +1);
  }
  for (const EventHandlers& h : handlers_) {
    for (const auto& [key, entry] : deleted) {
      if (h.on_delete) h.on_delete(Parse(key, entry));
    }
    for (const Updated& u : updated) {
      if (h.on_update) h.on_update(Parse(u.key, u.old_entry), Parse(u.key, u.new_entry));
    }
    for (const auto& [key, entry] : added) {
      if (h.on_add) h.on_add(Parse(key, entry));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!synced_) {
    synced_ = true;
    synced_cv_.notify_all();
  }
}

void Informer::ResyncLoop(std::stop_token stop) {
  while (SleepFor(options_.resync, stop)) {
    std::lock_guard<std::mutex> dispatch(dispatch_mu_);
    if (!HasSynced()) continue;
    for (const Json& obj : List()) {
      for (const EventHandlers& h : handlers_) {
        if (h.on_update) h.on_update(obj, obj);
      }
    }
  }
}

}  // namespace zkop::kube
