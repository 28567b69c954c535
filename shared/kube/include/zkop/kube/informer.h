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
//  - Memory: the store keeps each object as compact JSON text, not as a parsed tree (a
//    cpprestsdk tree takes several times the text's size), and that text deflated (raw zlib,
//    4 KiB window) with a preset dictionary: the compact text of the first object the informer
//    ever stores (from its first list, or its first event when that list was empty), its last
//    4 KiB, fixed for the informer's lifetime. Objects of one kind written by one controller are
//    near-identical, so each keeps mostly back-references into the dictionary (with 100
//    clusters, zkop-operator's 1,300 cached objects keep 180 KiB for 990 KiB of text; a Pod's
//    660 bytes become 120). A first object unlike the later ones only costs ratio, never
//    correctness (a ZookeeperCluster stored before it had a status: 1,410 bytes become 430);
//    objects unlike the dictionary still get about plain deflate's ratio.
//    stats().text_bytes / stored_bytes say what it achieves. Labels and resourceVersion stay
//    uncompressed, so label lookups inflate only the matches. Getters copy the deflated bytes
//    under the lock and inflate and parse outside it, which costs about what copying a tree
//    would. A `transform` drops what a controller never reads (e.g. metadata.managedFields)
//    before anything is kept or handled.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "zkop/kube/client.h"
#include "zkop/kube/dictionary_deflater.h"

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
    int64_t objects = 0;           // objects in the store
    int64_t text_bytes = 0;        // their compact JSON text
    int64_t stored_bytes = 0;      // that text as stored (deflated)
  };
  Stats stats() const;

 private:
  void Run(std::stop_token stop);
  // Lists and replaces the cache; false when stopped.
  bool Relist(const std::stop_token& stop, Backoff& backoff);
  // Watches until the stream ends; returns true when a relist is needed.
  bool WatchOnce(const std::stop_token& stop, Backoff& backoff);
  // One cached object: its compact JSON text deflated with `deflater_`, with what lookups need
  // without inflating it. One string holds the labels ("key\0value\0..." in key order) and then
  // the deflated text: one allocation per object besides the map node.
  struct Entry {
    std::string resource_version;
    std::string bytes;
    uint32_t labels_size = 0;
    uint32_t text_size = 0;

    std::string_view labels() const { return std::string_view(bytes).substr(0, labels_size); }
    std::string_view deflated() const { return std::string_view(bytes).substr(labels_size); }
  };
  // A stored object's deflated text, copied out under the lock to be inflated without it.
  struct DeflatedCopy {
    std::string key;
    std::string deflated;
    uint32_t text_size = 0;
  };
  static std::map<std::string, std::string> LabelsOfEntry(const Entry& entry);
  // Informer thread only: the first call fixes the dictionary.
  Entry MakeEntry(const Json& obj);
  Json Parse(std::string_view key, std::string_view deflated, uint32_t text_size) const;
  Json Parse(std::string_view key, const Entry& entry) const;
  // The stored objects in `ns` whose labels match (copied under the lock).
  std::vector<DeflatedCopy> Matching(const LabelSelector& selector, const std::string& ns) const;
  void Count(const Entry& entry, int sign);  // stats_ for an entry added (+1) or removed (-1)

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
  // Set by the informer thread just before it stores its first object, never changed after;
  // readers use it only for an entry they found under mu_, which orders the two.
  std::optional<DictionaryDeflater> deflater_;
  bool synced_ = false;
  Stats stats_;

  std::jthread thread_;
  std::jthread resync_thread_;
};

}  // namespace zkop::kube
