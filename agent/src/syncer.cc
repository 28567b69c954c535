#include "zkop/agent/syncer.h"

#include "syncer_internal.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <thread>

namespace zkop::agent {

std::string_view RegErrorName(RegError e) {
  switch (e) {
    case RegError::kOk:
      return "ok";
    case RegError::kNodeExists:
      return "node_exists";
    case RegError::kNoNode:
      return "no_node";
    case RegError::kConnectionLoss:
      return "connection_loss";
    case RegError::kSessionExpired:
      return "session_expired";
    case RegError::kBadVersion:
      return "bad_version";
    case RegError::kClosed:
      return "closed";
    case RegError::kOther:
      return "other";
  }
  return "other";
}

namespace {

std::string_view Parent(std::string_view path) { return ParentPath(path); }

// The directory to list to see `path`: its parent, "/" at the top.
std::string ListedDir(std::string_view path) {
  std::string_view parent = Parent(path);
  return parent.empty() ? std::string("/") : std::string(parent);
}

}  // namespace

size_t Syncer::ParentKey(std::string_view path) { return std::hash<std::string_view>()(path); }

bool Syncer::KnownParent(std::string_view path) const {
  return std::binary_search(known_parents_.begin(), known_parents_.end(), ParentKey(path));
}

void Syncer::ForgetParent(std::string_view path) {
  size_t key = ParentKey(path);
  auto it = std::lower_bound(known_parents_.begin(), known_parents_.end(), key);
  if (it != known_parents_.end() && *it == key) known_parents_.erase(it);
  std::erase(learned_parents_, key);
}

void Syncer::MergeLearnedParents() {
  if (learned_parents_.empty()) return;
  std::sort(learned_parents_.begin(), learned_parents_.end());
  size_t middle = known_parents_.size();
  known_parents_.insert(known_parents_.end(), learned_parents_.begin(), learned_parents_.end());
  std::inplace_merge(known_parents_.begin(), known_parents_.begin() + middle, known_parents_.end());
  known_parents_.erase(std::unique(known_parents_.begin(), known_parents_.end()),
                       known_parents_.end());
  std::vector<size_t>().swap(learned_parents_);
}

Syncer::Syncer(RegistryStore* store, const NodeRenderer* renderer, SyncOptions options,
               std::function<void()> wake)
    : store_(store), renderer_(renderer), options_(options), wake_(std::move(wake)) {}

Syncer::~Syncer() {
  for (auto& s : shards_) {
    if (s && s->session) s->session->Close();
  }
}

void Syncer::CountError(std::string_view reason) {
  std::lock_guard<std::mutex> l(stats_mu_);
  ++stats_.errors[std::string(reason)];
}

void Syncer::SetOwned(Entry& e, bool owned) {
  if (e.owned == owned) return;
  e.owned = owned;
  shards_[e.shard]->owned += owned ? 1 : -1;
}

void Syncer::MarkOwned(const NodeKey& key, size_t shard) {
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.shard == shard) SetOwned(it->second, true);
}

void Syncer::MarkYielded(const NodeKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.yielded) return;
  SetOwned(it->second, false);
  it->second.yielded = true;
  ++yielded_;
}

std::vector<NodeKey> Syncer::Yielded() const {
  std::vector<NodeKey> out;
  if (yielded_ == 0) return out;
  for (const auto& [key, e] : entries_) {
    if (e.yielded) out.push_back(key);
  }
  return out;
}

RegistrySession* Syncer::PrimarySession() {
  if (shards_.empty() || !shards_[0]->session) ShardFor(0);
  return shards_[0]->session.get();
}

void Syncer::Forget(const NodeKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Shard& sh = *shards_[it->second.shard];
  if (it->second.owned) --sh.owned;
  if (it->second.yielded) --yielded_;
  --sh.nodes;
  sh.bytes -= it->second.cost;
  entries_.erase(it);
}

void Syncer::CheckSessions() {
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (!sh.session) continue;
    int64_t id = sh.session->session_id();
    if (id != 0 && sh.session_id != 0 && id != sh.session_id) {
      // A new session: the old one expired and took its ephemeral nodes with it.
      for (auto& [key, e] : entries_) {
        if (e.shard == i) SetOwned(e, false);
      }
      std::lock_guard<std::mutex> l(stats_mu_);
      ++stats_.expirations;
    }
    uint64_t reconnects = sh.session->reconnects();
    if (reconnects > sh.reconnects_seen) {
      std::lock_guard<std::mutex> l(stats_mu_);
      stats_.reconnects += reconnects - sh.reconnects_seen;
    }
    sh.reconnects_seen = reconnects;
    if (id != 0) sh.session_id = id;
  }
}

bool Syncer::SessionChanged() const {
  for (const auto& sh : shards_) {
    if (sh->session && sh->session_id != 0 && sh->session->session_id() != sh->session_id) {
      return true;  // expired (0) or replaced: what was sent on it will not be answered usefully
    }
  }
  return false;
}

size_t Syncer::ShardFor(int64_t cost) {
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (sh.session && sh.bytes + cost <= options_.path_budget) return i;
  }
  size_t i = 0;
  while (i < shards_.size() && shards_[i]->session) ++i;
  if (i == shards_.size()) shards_.push_back(std::make_unique<Shard>());
  Shard& sh = *shards_[i];
  sh.session = store_->Open(wake_);
  sh.session_id = sh.session->session_id();
  return i;
}

bool Syncer::WaitConnected(Shard& sh) {
  if (sh.session->connected()) return true;
  if (sh.session_id != 0) return false;  // a known session lost its connection: later
  // A freshly opened session connects in the background: give it a moment.
  auto until = Clock::now() +
               std::min<std::chrono::milliseconds>(options_.op_timeout, std::chrono::seconds(1));
  while (!sh.session->connected() && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CheckSessions();
  return sh.session->connected();
}

bool Syncer::DeleteNodes(std::map<size_t, std::vector<NodeKey>> keys, Clock::time_point deadline) {
  bool ok = true;
  Pending c([this] { return SessionChanged(); });
  for (auto& [idx, list] : keys) {
    Shard& sh = *shards_[idx];
    if (!sh.session || !sh.session->connected()) {
      ok = false;
      continue;
    }
    for (size_t start = 0; start < list.size();) {
      // A batch: at most batch_size paths and batch_bytes bytes (jute.maxbuffer is 1 MB).
      std::vector<NodeKey> batch;
      std::vector<std::string> paths;
      size_t bytes = 0;
      for (; start < list.size() && batch.size() < options_.batch_size; ++start) {
        std::string path = renderer_->Path(list[start]);
        if (!batch.empty() && bytes + path.size() > options_.batch_bytes) break;
        bytes += path.size();
        batch.push_back(list[start]);
        paths.push_back(std::move(path));
      }
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
      auto post = c.Begin();
      sh.session->DeleteAll(std::move(paths), [post, batch = std::move(batch), &sh, &c, &ok, this](
                                                  RegStatus st, std::vector<RegError>) {
        post([=, &sh, &c, &ok, this] {
          if (st.ok()) {
            for (const auto& k : batch) Forget(k);
            return;
          }
          // One bad path fails the whole multi: go one by one (paths rendered again
          // rather than held through every batch for this rare case).
          for (const NodeKey& key : batch) {
            auto post1 = c.Begin();
            sh.session->DeleteAll({renderer_->Path(key)},
                                  [post1, key, &ok, this](RegStatus s1, std::vector<RegError>) {
                                    post1([=, &ok, this] {
                                      if (s1.ok() || s1.error == RegError::kNoNode)
                                        return Forget(key);
                                      ok = false;
                                      CountError(RegErrorName(s1.error));
                                    });
                                  });
          }
        });
      });
    }
  }
  if (!c.RunUntil(0, deadline)) {
    CountError("timeout");
    ok = false;
  }
  return ok;
}

// Learns which unknown parents exist by listing directories level by level from the root,
// while a level has at most discovery_fanout directories to list. Below that, a parent whose
// own parent exists is assumed to exist (a registry that has the interface usually has its
// providers directory); one whose parent is absent is absent.
Syncer::Plan Syncer::Discover(const std::vector<std::string>& unknown, Pending& c,
                              Clock::time_point deadline) {
  Plan plan;
  std::map<size_t, std::vector<const std::string*>> levels;  // unknown parents by depth
  for (const auto& name : unknown) {
    plan.parents.emplace(ParentKey(name), Plan::State::kAssumed);
    levels[std::count(name.begin(), name.end(), '/')].push_back(&name);
  }
  RegistrySession* session = nullptr;
  for (const auto& sh : shards_) {
    if (!session && sh->session && sh->session->connected()) session = sh->session.get();
  }
  bool listing = session != nullptr;
  for (auto& [depth, names] : levels) {
    std::set<std::string> dirs;  // existing parents of this level's names, to list
    for (const std::string* name : names) {
      Plan::State parent = Parent(*name).empty() ? Plan::State::kExists : plan.Of(Parent(*name));
      if (parent == Plan::State::kExists) {
        dirs.insert(ListedDir(*name));  // known before, the root, or found just now
      } else if (parent == Plan::State::kAbsent) {
        plan.parents[ParentKey(*name)] = Plan::State::kAbsent;
      }
    }
    listing = listing && dirs.size() <= options_.discovery_fanout;
    if (!listing || dirs.empty()) continue;
    std::map<std::string, std::optional<std::unordered_set<std::string>>> listed;
    for (const auto& dir : dirs) {
      auto post = c.Begin();
      session->Children(
          dir, [post, dir, &listed, this](RegStatus st, std::vector<std::string> kids) {
            post([=, &listed, this, kids = std::move(kids)] {
              if (st.ok()) {
                listed[dir].emplace(kids.begin(), kids.end());
              } else if (st.error == RegError::kNoNode) {
                listed[dir].emplace();  // gone meanwhile: nothing under it exists
              } else {
                CountError(RegErrorName(st.error));  // the level stays assumed (repaired if wrong)
              }
            });
          });
    }
    if (!c.RunUntil(0, deadline)) break;
    for (const std::string* name : names) {
      auto it = listed.find(ListedDir(*name));
      if (it == listed.end() || !it->second) continue;
      bool exists = it->second->count(name->substr(name->rfind('/') + 1)) > 0;
      plan.parents[ParentKey(*name)] = exists ? Plan::State::kExists : Plan::State::kAbsent;
      if (exists) LearnParent(ParentKey(*name));
    }
  }
  return plan;
}

void Syncer::CreateOne(size_t idx, const NodeKey& key, std::string path, int attempts, Pending& c,
                       bool& ok) {
  Shard& sh = *shards_[idx];
  int64_t session_id = sh.session_id;
  auto post = c.Begin();
  sh.session->CreateAll(
      {NodeSpec{path, renderer_->Data(key)}}, [post, key, path, attempts, idx, &sh, &c, &ok, this,
                                               session_id](RegStatus st, std::vector<RegError>) {
        post([=, &sh, &c, &ok, this] {
          if (st.ok()) return MarkOwned(key, idx);
          if (st.error == RegError::kNoNode) ForgetParent(Parent(path));
          if (st.error != RegError::kNodeExists || attempts == 0) {
            ok = false;
            CountError(RegErrorName(st.error));
            return;
          }
          // It exists: ours (an earlier create whose answer was lost), someone else's
          // registration to leave alone, or stale.
          auto post2 = c.Begin();
          sh.session->Read(path, [post2, key, path, attempts, idx, &sh, &c, &ok, this, session_id](
                                     RegStatus s2, NodeRead node) {
            post2([=, &sh, &c, &ok, this, node = std::move(node)] {
              if (s2.ok() && node.owner == session_id) return MarkOwned(key, idx);
              if (!s2.ok() && s2.error != RegError::kNoNode) {
                ok = false;
                CountError(RegErrorName(s2.error));
                return;
              }
              if (s2.ok() && renderer_->Yields(key, node.data)) return MarkYielded(key);
              // Stale (another session's) or gone meanwhile: replace it.
              {
                std::lock_guard<std::mutex> l(stats_mu_);
                ++stats_.restored;
              }
              auto post3 = c.Begin();
              sh.session->DeleteAll({path}, [post3, key, path, attempts, idx, &c, &ok, this](
                                                RegStatus, std::vector<RegError>) {
                post3([=, &c, &ok, this] { CreateOne(idx, key, path, attempts - 1, c, ok); });
              });
            });
          });
        });
      });
}

// A batch failed (an assumed parent was missing, a parent appeared meanwhile, a node
// exists, the connection went): make sure of the parents, then create node by node.
void Syncer::Repair(size_t idx, std::vector<NodeKey> keys, Pending& c, bool& ok) {
  std::set<std::string> dirs;
  for (const auto& key : keys) dirs.emplace(Parent(renderer_->Path(key)));
  dirs.erase("");
  std::vector<size_t> learned;
  for (const auto& d : dirs) {
    for (std::string_view a = d; !a.empty(); a = Parent(a)) learned.push_back(ParentKey(a));
  }
  auto post = c.Begin();
  auto shared = std::make_shared<std::vector<NodeKey>>(std::move(keys));
  shards_[idx]->session->EnsurePersistent(
      std::vector<std::string>(dirs.begin(), dirs.end()),
      [post, shared, learned = std::move(learned), idx, &c, &ok, this](RegStatus st) {
        post([=, &c, &ok, this] {
          if (!st.ok()) {
            ok = false;
            CountError(RegErrorName(st.error));
            return;
          }
          for (size_t k : learned) LearnParent(k);
          for (const auto& key : *shared) CreateOne(idx, key, renderer_->Path(key), 2, c, ok);
        });
      });
}

void Syncer::CreateBatch(size_t idx, std::vector<NodeSpec> nodes, std::vector<Item> items,
                         Pending& c, bool& ok) {
  std::vector<size_t> created;  // the parents this multi creates
  for (const auto& n : nodes) {
    if (n.persistent) created.push_back(ParentKey(n.path));
  }
  auto post = c.Begin();
  shards_[idx]->session->CreateAll(
      std::move(nodes), [post, items = std::move(items), created = std::move(created), idx, &c, &ok,
                         this](RegStatus st, std::vector<RegError>) {
        post([items, created, st, idx, &c, &ok, this] {
          if (!st.ok()) {
            std::vector<NodeKey> keys;
            keys.reserve(items.size());
            for (const auto& item : items) keys.push_back(item.key);
            return Repair(idx, std::move(keys), c, ok);
          }
          for (size_t k : created) LearnParent(k);
          for (const auto& item : items) {
            MarkOwned(item.key, idx);
            LearnParent(item.dir);  // it exists: its child was just created in it
          }
        });
      });
}

bool Syncer::CreateMissing() {
  bool ok = true;
  std::vector<std::vector<Item>> todo(shards_.size());
  for (const auto& [key, e] : entries_) {
    if (!e.owned && !e.yielded) todo[e.shard].push_back(Item{key, 0});
  }
  // Each path is rendered to find its parents, then dropped: held all at once, 10,000 Dubbo
  // paths would be ~5 MB for the length of this call. Batches render them again.
  std::vector<size_t> usable;
  std::vector<std::string> unknown;  // parents not known to exist, each once
  std::unordered_set<size_t> seen;
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (todo[i].empty() || !shards_[i]->session) continue;
    if (!WaitConnected(*shards_[i])) {
      ok = false;
      todo[i].clear();
      continue;
    }
    usable.push_back(i);
    for (auto& item : todo[i]) {
      std::string path = renderer_->Path(item.key);
      item.dir = ParentKey(Parent(path));
      for (std::string_view a = Parent(path); !a.empty(); a = Parent(a)) {
        if (KnownParent(a) || !seen.insert(ParentKey(a)).second) break;
        unknown.emplace_back(a);
      }
    }
    std::sort(todo[i].begin(), todo[i].end(),
              [](const Item& a, const Item& b) { return a.dir < b.dir; });
  }
  if (usable.empty()) return ok;
  auto deadline = Clock::now() + options_.op_timeout;
  Pending c([this] { return SessionChanged(); });
  Plan plan = Discover(unknown, c, deadline);
  std::vector<std::string>().swap(unknown);
  std::unordered_set<size_t>().swap(seen);
  MergeLearnedParents();

  // The absent parents of a path (deepest first). One needed by several sessions is created
  // up front (one round trip); the others go into their session's multis, in the first batch
  // that needs them: a session's requests are applied in order.
  auto absent = [&](std::string_view path) {
    std::vector<std::string_view> need;  // views into `path`
    for (std::string_view a = Parent(path); !a.empty(); a = Parent(a)) {
      if (KnownParent(a) || plan.Of(a) != Plan::State::kAbsent) break;
      need.push_back(a);
    }
    return need;
  };
  bool any_absent = false;
  for (const auto& [key, state] : plan.parents) any_absent |= state == Plan::State::kAbsent;
  if (any_absent) {
    std::unordered_map<size_t, size_t> needed_by;  // absent parent -> shard, or kShared
    constexpr size_t kShared = ~size_t{0};
    std::vector<std::string> shared;
    for (size_t i : usable) {
      for (const auto& item : todo[i]) {
        std::string path = renderer_->Path(item.key);
        for (std::string_view name : absent(path)) {
          auto [it, added] = needed_by.emplace(ParentKey(name), i);
          if (added || it->second == i || it->second == kShared) continue;
          it->second = kShared;
          shared.emplace_back(name);
        }
      }
    }
    if (!shared.empty()) {
      bool shared_ok = true;
      std::vector<size_t> keys;
      for (const auto& name : shared) keys.push_back(ParentKey(name));
      auto post = c.Begin();
      shards_[usable.front()]->session->EnsurePersistent(
          std::move(shared), [post, keys = std::move(keys), &shared_ok, this](RegStatus st) {
            post([=, &shared_ok, this] {
              if (st.ok()) {
                for (size_t k : keys) LearnParent(k);
                return;
              }
              shared_ok = false;
              CountError(RegErrorName(st.error));
            });
          });
      if (!c.RunUntil(0, deadline)) {
        CountError("timeout");
        return false;
      }
      if (!shared_ok) return false;
      MergeLearnedParents();
    }
  }

  // Batches are built as they are sent, round-robin over the sessions, at most
  // max_in_flight in all: only the paths in flight are held.
  std::unordered_set<size_t> claimed;           // absent parents put into a batch already
  std::vector<size_t> next(shards_.size(), 0);  // per session: its first item not yet sent
  auto send_next = [&](size_t i) {
    std::vector<NodeSpec> nodes;
    std::vector<Item> items;
    size_t bytes = 0;
    for (; next[i] < todo[i].size(); ++next[i]) {
      const Item& item = todo[i][next[i]];
      std::string path = renderer_->Path(item.key);
      std::vector<std::string> need;
      for (std::string_view name : absent(path)) {
        if (claimed.count(ParentKey(name))) break;  // an earlier batch of this session makes it
        need.emplace_back(name);
      }
      size_t size = path.size();
      for (const auto& n : need) size += n.size();
      if (!items.empty() && (nodes.size() + need.size() + 1 > options_.batch_size ||
                             bytes + size > options_.batch_bytes)) {
        break;
      }
      for (auto n = need.rbegin(); n != need.rend(); ++n) {
        claimed.insert(ParentKey(*n));
        nodes.push_back(NodeSpec{std::move(*n), "", /*persistent=*/true});
      }
      bytes += size;
      nodes.push_back(NodeSpec{std::move(path), renderer_->Data(item.key)});
      items.push_back(item);
    }
    CreateBatch(i, std::move(nodes), std::move(items), c, ok);
  };
  for (bool any = true; any;) {
    any = false;
    for (size_t i : usable) {
      if (next[i] >= todo[i].size()) continue;
      any = true;
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) {
        CountError("timeout");
        return false;
      }
      send_next(i);
    }
  }
  // Earlier incarnations of these nodes (each node's directory listed once, after its
  // create went out, so the listing never delays a create): replaced once found.
  Pending sweep([this] { return SessionChanged(); });
  std::vector<std::pair<size_t, std::string>> found;
  StartSweep(todo, usable, plan, sweep, found);
  if (!c.RunUntil(0, deadline)) {
    CountError("timeout");
    return false;
  }
  FinishSweep(sweep, found, deadline);
  return ok;
}

bool Syncer::Sync(const std::vector<NodeKey>& desired) {
  CheckSessions();
  ++round_;
  std::vector<const NodeKey*> added;
  for (const auto& k : desired) {
    auto it = entries_.find(k);
    if (it == entries_.end()) {
      added.push_back(&k);
    } else {
      it->second.round = round_;
    }
  }
  std::map<size_t, std::vector<NodeKey>> undesired;
  std::vector<NodeKey> let_go;  // yielded: not ours to delete
  for (const auto& [k, e] : entries_) {
    if (e.round == round_) continue;
    if (e.yielded) {
      let_go.push_back(k);
    } else {
      undesired[e.shard].push_back(k);
    }
  }
  for (const auto& k : let_go) Forget(k);
  bool ok =
      undesired.empty() || DeleteNodes(std::move(undesired), Clock::now() + options_.op_timeout);
  // Path lengths first, then the entries: rendering between the entries' allocations would
  // leave them scattered over the pages the paths used.
  std::vector<uint32_t> costs;
  costs.reserve(added.size());
  for (const NodeKey* k : added) costs.push_back(static_cast<uint32_t>(renderer_->Path(*k).size()));
  entries_.reserve(entries_.size() + added.size());
  for (size_t n = 0; n < added.size(); ++n) {
    const NodeKey* k = added[n];
    if (entries_.count(*k)) continue;  // listed twice
    uint32_t cost = costs[n];
    size_t idx = ShardFor(cost);
    Shard& sh = *shards_[idx];
    ++sh.nodes;
    sh.bytes += cost;
    entries_.emplace(*k, Entry{static_cast<uint32_t>(idx), cost, round_, false, false, false});
  }
  CheckSessions();
  if (!CreateMissing()) ok = false;
  MergeLearnedParents();
  // Extra sessions left empty go; the first one stays (it is the agent's "up" signal).
  for (size_t i = 1; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (sh.session && sh.nodes == 0) {
      sh.session->Close();
      sh.session.reset();
      sh = Shard{};
    }
  }
  if (shards_.empty()) ShardFor(0);  // keep one session even with nothing to register
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    stats_.last_sync_ok = ok;
  }
  PublishStats();
  return ok;
}

size_t Syncer::Verify() {
  CheckSessions();
  Pending c([this] { return SessionChanged(); });
  auto deadline = Clock::now() + options_.op_timeout;
  size_t wrong = 0;
  for (auto& [key, e] : entries_) {
    Shard& sh = *shards_[e.shard];
    if (!e.owned || !sh.session || !sh.session->connected()) continue;
    if (!c.RunUntil(1024, deadline)) break;
    auto post = c.Begin();
    size_t idx = e.shard;
    int64_t session_id = sh.session_id;
    sh.session->Owner(renderer_->Path(key), [post, k = key, idx, &wrong, this, session_id](
                                                RegStatus st, int64_t owner) {
      post([=, &wrong, this] {
        if ((st.ok() && owner != session_id) || st.error == RegError::kNoNode) {
          auto it = entries_.find(k);
          if (it != entries_.end() && it->second.shard == idx && it->second.owned) {
            SetOwned(it->second, false);
            ++wrong;
          }
        }
      });
    });
  }
  if (!c.RunUntil(0, deadline)) CountError("timeout");
  if (wrong) {
    std::lock_guard<std::mutex> l(stats_mu_);
    stats_.restored += wrong;
  }
  PublishStats();
  return wrong;
}

bool Syncer::RemoveAll(Clock::time_point deadline) {
  std::map<size_t, std::vector<NodeKey>> all;
  for (const auto& [key, e] : entries_) {
    if (!e.yielded) all[e.shard].push_back(key);
  }
  bool ok = DeleteNodes(std::move(all), deadline);
  for (auto& shp : shards_) {
    if (shp->session) shp->session->Close();
  }
  PublishStats();
  return ok;
}

void Syncer::PublishStats() {
  std::vector<ShardStats> shards;
  for (const auto& sh : shards_) {
    if (!sh->session) continue;
    ShardStats s;
    s.session_id = sh->session->session_id();
    s.connected = sh->session->connected();
    s.path_bytes = sh->bytes;
    s.nodes = sh->nodes;
    s.owned = sh->owned;
    shards.push_back(s);
  }
  std::lock_guard<std::mutex> l(stats_mu_);
  stats_.shards = std::move(shards);
  stats_.yielded = yielded_;
}

SyncStats Syncer::stats() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  return stats_;
}

bool Syncer::SessionsUp() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  if (stats_.shards.empty()) return false;
  for (const auto& s : stats_.shards) {
    if (!s.connected) return false;
  }
  return true;
}

}  // namespace zkop::agent
