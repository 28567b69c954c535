// An informer: a local cache of one resource kind fed by list + watch, with
// event handlers — what a controller watches instead of polling.
//
// Contract:
//  - Start() runs one background thread that lists, then watches from the
//    list's resourceVersion with bookmarks; a watch that ends or breaks is
//    resumed from the last resourceVersion seen (event or BOOKMARK); a 410 Gone
//    (HTTP or ERROR event) triggers a relist. Failures back off exponentially.
//  - Handlers run on that thread, one at a time, in the order of the changes,
//    and see every change exactly once: a relist delivers only the difference
//    from the cache (adds, updates of changed resourceVersions, deletes of
//    vanished objects), and a replayed event whose resourceVersion the cache
//    already holds is dropped. When handlers run, the store already reflects
//    the change.
//  - Resync (if enabled) calls on_update(obj, obj) for every cached object
//    every period, serialized with the other handler calls.
//  - The store getters are thread-safe and return copies.
//  - Memory: the store keeps each object as compact JSON text plus its labels, not as a
//    parsed tree (a cpprestsdk tree takes several times the text's size); getters parse on
//    the way out, which costs about what copying a tree would. A `transform` drops what a
//    controller never reads (e.g. metadata.managedFields) before anything is kept or handled.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "zkop/kube/client.h"

namespace zkop::kube {

struct InformerOptions {
  std::string ns;  // namespace to watch; "" = all namespaces (or cluster-scoped)
  std::string label_selector;
  std::string field_selector;
  std::chrono::milliseconds resync{0};  // 0 = never
  // Server-side watch timeout: each watch asks for a random value in [t, 2t).
  std::chrono::seconds watch_timeout{300};
  int64_t page_size = 500;
  // Applied to every object the informer receives, before it is stored and before handlers
  // see it (client-go's SetTransform). Must keep metadata.namespace, name, labels and
  // resourceVersion. Runs on the informer's thread.
  std::function<void(Json& obj)> transform;
  Backoff::Options backoff{std::chrono::milliseconds(200), std::chrono::seconds(10), 2.0, 0.2};
};

struct EventHandlers {
  std::function<void(const Json& obj)> on_add;
  std::function<void(const Json& old_obj, const Json& new_obj)> on_update;
  std::function<void(const Json& last_known)> on_delete;
};

class Informer {
 public:
  Informer(std::shared_ptr<Client> client, ResourceRef ref, InformerOptions options = {});
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Register before Start(); handlers added later are a programming error.
  void AddHandlers(EventHandlers handlers);
  void Start();
  // Ends the watch and joins the thread; no handler runs after Stop returns.
  void Stop();

  // True once the first list has been delivered to the handlers.
  bool HasSynced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  std::optional<Json> Get(const std::string& ns, const std::string& name) const;
  std::vector<Json> List() const;
  std::vector<Json> ListNamespace(const std::string& ns) const;
  // Objects whose labels match, in namespace `ns` ("" = every namespace); only the matching
  // objects are parsed.
  std::vector<Json> ListByLabels(const LabelSelector& selector, const std::string& ns = "") const;
  // ListByLabels one object at a time: `fn` gets each match parsed, called without the
  // informer's lock held.
  void ForEachByLabels(const LabelSelector& selector, const std::string& ns,
                       const std::function<void(const Json&)>& fn) const;

  struct Stats {
    int64_t lists = 0;             // successful lists (1 + relists)
    int64_t watches = 0;           // watches opened
    int64_t gone = 0;              // 410s that forced a relist
    int64_t bookmarks = 0;         // BOOKMARK events seen
    std::string resource_version;  // where the next watch resumes
  };
  Stats stats() const;

 private:
  void Run(std::stop_token stop);
  // Lists and replaces the cache; false when stopped.
  bool Relist(const std::stop_token& stop, Backoff& backoff);
  // Watches until the stream ends; returns true when a relist is needed.
  bool WatchOnce(const std::stop_token& stop, Backoff& backoff);
  // One cached object: compact JSON text, with what lookups need without parsing it.
  struct Entry {
    std::string text;
    std::string resource_version;
    std::string labels;  // "key\0value\0..." in key order: one allocation instead of a map's
  };
  static std::map<std::string, std::string> LabelsOfEntry(const Entry& entry);
  static Entry MakeEntry(const Json& obj);
  static Json Parse(const Entry& entry);
  // The compact text of the stored objects in `ns` whose labels match (copied under the lock,
  // parsed by the caller without it).
  std::vector<std::string> MatchingTexts(const LabelSelector& selector,
                                         const std::string& ns) const;

  void Apply(WatchEvent event);
  void Replace(std::vector<Json> items);
  void ResyncLoop(std::stop_token stop);

  std::shared_ptr<Client> client_;
  ResourceRef ref_;
  InformerOptions options_;
  std::vector<EventHandlers> handlers_;

  std::mutex dispatch_mu_;  // serializes handler calls (watch thread and resync)
  mutable std::mutex mu_;   // guards everything below
  mutable std::condition_variable synced_cv_;
  std::map<std::string, Entry> store_;  // key "ns/name" (or "name")
  bool synced_ = false;
  Stats stats_;

  std::jthread thread_;
  std::jthread resync_thread_;
};

}  // namespace zkop::kube
