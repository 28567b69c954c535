#include "zkop/agent/syncer.h"

#include <condition_variable>
#include <deque>
#include <functional>
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
    case RegError::kClosed:
      return "closed";
    case RegError::kOther:
      return "other";
  }
  return "other";
}

using Clock = std::chrono::steady_clock;

// Async completions are queued here by whatever thread answers and applied on the syncer
// thread, so all engine state is touched by one thread only. Late answers (after a
// deadline) are dropped with the queue; the next Sync re-derives the truth.
class Syncer::Pending {
 public:
  Pending() : s_(std::make_shared<State>()) {}

  // Call once per submitted operation; the returned function must be called exactly once,
  // from any thread, with the work to apply on the syncer thread.
  std::function<void(std::function<void()>)> Begin() {
    {
      std::lock_guard<std::mutex> l(s_->mu);
      ++s_->outstanding;
    }
    auto s = s_;
    return [s](std::function<void()> apply) {
      std::lock_guard<std::mutex> l(s->mu);
      s->ready.push_back(std::move(apply));
      --s->outstanding;
      s->cv.notify_all();
    };
  }

  // Applies answers until at most `limit` operations are outstanding. False on deadline.
  bool RunUntil(size_t limit, Clock::time_point deadline) {
    while (true) {
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock<std::mutex> l(s_->mu);
        s_->cv.wait_until(l, deadline,
                          [&] { return !s_->ready.empty() || s_->outstanding <= limit; });
        batch.swap(s_->ready);
        if (batch.empty()) return s_->outstanding <= limit;
      }
      for (auto& f : batch) f();
    }
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t outstanding = 0;
    std::deque<std::function<void()>> ready;
  };
  std::shared_ptr<State> s_;
};

namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "" : path.substr(0, slash);
}

int64_t Cost(const std::string& path) { return static_cast<int64_t>(path.size()); }

}  // namespace

size_t Syncer::ParentKey(const std::string& path) { return std::hash<std::string>()(path); }

Syncer::Syncer(RegistryStore* store, SyncOptions options, std::function<void()> wake)
    : store_(store), options_(options), wake_(std::move(wake)) {}

Syncer::~Syncer() {
  for (auto& s : shards_) {
    if (s && s->session) s->session->Close();
  }
}
void Syncer::CountError(const std::string& reason) {
  std::lock_guard<std::mutex> l(stats_mu_);
  ++stats_.errors[reason];
}

void Syncer::SetOwned(Entry& e, bool owned) {
  if (e.owned == owned) return;
  e.owned = owned;
  shards_[e.shard]->owned += owned ? 1 : -1;
}

void Syncer::Forget(std::map<std::string, Entry>::iterator it) {
  Shard& sh = *shards_[it->second.shard];
  if (it->second.owned) --sh.owned;
  --sh.nodes;
  sh.bytes -= Cost(it->first);
  entries_.erase(it);
}

void Syncer::CheckSessions() {
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (!sh.session) continue;
    int64_t id = sh.session->session_id();
    if (id != 0 && sh.session_id != 0 && id != sh.session_id) {
      // A new session: the old one expired and took its ephemeral nodes with it.
      for (auto& [path, e] : entries_) {
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

size_t Syncer::ShardFor(const std::string& path) {
  int64_t cost = Cost(path);
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

namespace {
// Batches of at most batch_size nodes and batch_bytes bytes (ZooKeeper refuses requests
// over its jute.maxbuffer, 1 MB by default).
template <typename T, typename Size>
std::vector<std::vector<T>> Batches(std::vector<T> items, const SyncOptions& o, Size size) {
  std::vector<std::vector<T>> out;
  size_t bytes = 0;
  for (auto& item : items) {
    size_t b = size(item);
    if (out.empty() || out.back().size() >= o.batch_size || bytes + b > o.batch_bytes) {
      out.emplace_back();
      bytes = 0;
    }
    bytes += b;
    out.back().push_back(std::move(item));
  }
  return out;
}
}  // namespace

bool Syncer::DeleteUndesired(const std::map<std::string, std::string>& desired) {
  std::map<size_t, std::vector<std::string>> todo;
  for (const auto& [path, e] : entries_) {
    auto it = desired.find(path);
    if (it == desired.end() || e.data != it->second) todo[e.shard].push_back(path);
  }
  bool ok = true;
  Pending c;
  auto deadline = Clock::now() + options_.op_timeout;
  auto forget = [this](const std::string& path) {
    auto it = entries_.find(path);
    if (it != entries_.end()) Forget(it);
  };
  for (auto& [idx, paths] : todo) {
    Shard& sh = *shards_[idx];
    if (!sh.session->connected()) {
      ok = false;
      continue;
    }
    auto size = [](const std::string& p) { return p.size(); };
    for (auto& batch : Batches(std::move(paths), options_, size)) {
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
      auto post = c.Begin();
      sh.session->DeleteAll(
          batch, [post, batch, &sh, &c, &ok, &forget, this](RegStatus st, std::vector<RegError>) {
            post([=, &sh, &c, &ok, &forget, this] {
              if (st.ok()) {
                for (const auto& p : batch) forget(p);
                return;
              }
              // One bad path fails the whole multi: go one by one.
              for (const auto& p : batch) {
                auto post1 = c.Begin();
                sh.session->DeleteAll(
                    {p}, [post1, p, &ok, &forget, this](RegStatus s1, std::vector<RegError>) {
                      post1([=, &ok, &forget, this] {
                        if (s1.ok() || s1.error == RegError::kNoNode) {
                          forget(p);
                        } else {
                          ok = false;
                          CountError(std::string(RegErrorName(s1.error)));
                        }
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

void Syncer::MarkOwned(const std::string& path, size_t shard) {
  auto it = entries_.find(path);
  if (it != entries_.end() && it->second.shard == shard) SetOwned(it->second, true);
}

void Syncer::CreateOne(size_t idx, const std::string& p, int attempts, Pending& c, bool& ok) {
  Shard& sh = *shards_[idx];
  auto entry = entries_.find(p);
  if (entry == entries_.end()) return;
  int64_t session_id = sh.session_id;
  auto post = c.Begin();
  sh.session->CreateEphemerals(
      {NodeSpec{p, entry->second.data}}, [post, p, attempts, idx, &sh, &c, &ok, this, session_id](
                                             RegStatus st, std::vector<RegError>) {
        post([=, &sh, &c, &ok, this] {
          if (st.ok()) return MarkOwned(p, idx);
          if (st.error == RegError::kNoNode) known_parents_.erase(ParentKey(Parent(p)));
          if (st.error != RegError::kNodeExists || attempts == 0) {
            ok = false;
            CountError(std::string(RegErrorName(st.error)));
            return;
          }
          // It exists: ours (an earlier create whose answer was lost) or stale.
          auto post2 = c.Begin();
          sh.session->Owner(p, [post2, p, attempts, idx, &sh, &c, &ok, this, session_id](
                                   RegStatus s2, int64_t owner) {
            post2([=, &sh, &c, &ok, this] {
              if (s2.ok() && owner == session_id) return MarkOwned(p, idx);
              if (!s2.ok() && s2.error != RegError::kNoNode) {
                ok = false;
                CountError(std::string(RegErrorName(s2.error)));
                return;
              }
              // Stale (another session's) or gone meanwhile: replace it.
              {
                std::lock_guard<std::mutex> l(stats_mu_);
                ++stats_.restored;
              }
              auto post3 = c.Begin();
              sh.session->DeleteAll(
                  {p}, [post3, p, attempts, idx, &c, &ok, this](RegStatus, std::vector<RegError>) {
                    post3([=, &c, &ok, this] { CreateOne(idx, p, attempts - 1, c, ok); });
                  });
            });
          });
        });
      });
}

bool Syncer::CreateMissing() {
  bool ok = true;
  // What each shard lacks (one pass over the entries). Entries are referred to, not copied:
  // a node's path is copied only while its batch is in flight (10,000 paths are ~4.6 MB).
  using EntryRef = std::map<std::string, Entry>::iterator;  // stable: nothing is erased here
  std::vector<std::vector<EntryRef>> missing(shards_.size());
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (!it->second.owned) missing[it->second.shard].push_back(it);
  }
  std::vector<size_t> usable;
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (missing[i].empty() || !shards_[i]->session) continue;
    if (!WaitConnected(*shards_[i])) {
      ok = false;
      continue;
    }
    usable.push_back(i);
  }
  if (usable.empty()) return ok;
  auto deadline = Clock::now() + options_.op_timeout;
  Pending c;

  // Persistent parents first (any session may create them).
  std::set<std::string> parents;
  for (size_t i : usable) {
    for (const auto& it : missing[i]) {
      std::string parent = Parent(it->first);
      if (!parent.empty() && !known_parents_.count(ParentKey(parent))) parents.insert(parent);
    }
  }
  if (!parents.empty()) {
    bool parents_ok = true;
    auto post = c.Begin();
    std::vector<std::string> list(parents.begin(), parents.end());
    parents.clear();
    std::vector<size_t> keys;  // remembered on success: hashes, not more copies of the paths
    keys.reserve(list.size());
    for (const auto& parent : list) keys.push_back(ParentKey(parent));
    shards_[usable.front()]->session->EnsurePersistent(
        std::move(list), [post, keys = std::move(keys), this, &parents_ok](RegStatus st) {
          post([keys, st, this, &parents_ok] {
            if (st.ok()) {
              known_parents_.insert(keys.begin(), keys.end());
            } else {
              parents_ok = false;
              CountError(std::string(RegErrorName(st.error)));
            }
          });
        });
    if (!c.RunUntil(0, deadline)) {
      CountError("timeout");
      return false;
    }
    if (!parents_ok) return false;
  }

  // Batched multis, round-robin over the sessions, at most max_in_flight in all. A failed
  // batch is retried node by node to find and resolve the culprit.
  auto size = [](const EntryRef& it) { return it->first.size() + it->second.data.size(); };
  std::vector<std::vector<std::vector<EntryRef>>> batches;
  for (size_t i : usable) batches.push_back(Batches(std::move(missing[i]), options_, size));
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (size_t k = 0; k < usable.size(); ++k) {
      if (round >= batches[k].size()) continue;
      any = true;
      size_t idx = usable[k];
      std::vector<EntryRef> refs = std::move(batches[k][round]);
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
      std::vector<NodeSpec> nodes;
      nodes.reserve(refs.size());
      for (const auto& it : refs) nodes.push_back(NodeSpec{it->first, it->second.data});
      auto post = c.Begin();
      shards_[idx]->session->CreateEphemerals(
          std::move(nodes),
          [post, refs = std::move(refs), idx, &c, &ok, this](RegStatus st, std::vector<RegError>) {
            post([=, &c, &ok, this] {
              for (const auto& it : refs) {
                if (!st.ok()) {
                  CreateOne(idx, it->first, 2, c, ok);
                } else if (it->second.shard == idx) {
                  SetOwned(it->second, true);
                }
              }
            });
          });
    }
    if (!any) break;
  }
  if (!c.RunUntil(0, deadline)) {
    CountError("timeout");
    return false;
  }
  return ok;
}

bool Syncer::Sync(const std::map<std::string, std::string>& desired) {
  CheckSessions();
  bool ok = DeleteUndesired(desired);
  for (const auto& [path, data] : desired) {
    if (entries_.count(path)) continue;
    size_t idx = ShardFor(path);
    Shard& sh = *shards_[idx];
    ++sh.nodes;
    sh.bytes += Cost(path);
    entries_.emplace(path, Entry{idx, false, data});
  }
  CheckSessions();
  if (!CreateMissing()) ok = false;
  // Extra sessions left empty go; the first one stays (it is the agent's "up" signal).
  for (size_t i = 1; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (sh.session && sh.nodes == 0) {
      sh.session->Close();
      sh.session.reset();
      sh = Shard{};
    }
  }
  if (shards_.empty()) ShardFor("");  // keep one session even with nothing to register
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    stats_.last_sync_ok = ok;
  }
  PublishStats();
  return ok;
}

size_t Syncer::Verify() {
  CheckSessions();
  Pending c;
  auto deadline = Clock::now() + options_.op_timeout;
  size_t wrong = 0;
  for (auto& [path, e] : entries_) {
    Shard& sh = *shards_[e.shard];
    if (!e.owned || !sh.session || !sh.session->connected()) continue;
    if (!c.RunUntil(1024, deadline)) break;
    auto post = c.Begin();
    size_t idx = e.shard;
    int64_t session_id = sh.session_id;
    std::string p = path;
    sh.session->Owner(p, [post, p, idx, &wrong, this, session_id](RegStatus st, int64_t owner) {
      post([=, &wrong, this] {
        if ((st.ok() && owner != session_id) || st.error == RegError::kNoNode) {
          auto it = entries_.find(p);
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
  Pending c;
  bool ok = true;
  std::map<size_t, std::vector<std::string>> by_shard;
  for (const auto& [path, e] : entries_) by_shard[e.shard].push_back(path);
  for (auto& [idx, paths] : by_shard) {
    Shard& sh = *shards_[idx];
    if (!sh.session || !sh.session->connected()) {
      ok = false;
      continue;
    }
    auto size = [](const std::string& p) { return p.size(); };
    for (auto& batch : Batches(std::move(paths), options_, size)) {
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
      auto post = c.Begin();
      sh.session->DeleteAll(
          batch, [post, batch, &sh, &c, &ok, this](RegStatus st, std::vector<RegError>) {
            post([=, &sh, &c, &ok, this] {
              auto forget = [this](const std::string& p) {
                auto it = entries_.find(p);
                if (it != entries_.end()) Forget(it);
              };
              if (st.ok()) {
                for (const auto& p : batch) forget(p);
                return;
              }
              for (const auto& p : batch) {
                auto post1 = c.Begin();
                sh.session->DeleteAll({p},
                                      [post1, p, &ok, forget](RegStatus s1, std::vector<RegError>) {
                                        post1([=, &ok] {
                                          if (s1.ok() || s1.error == RegError::kNoNode) {
                                            forget(p);
                                          } else {
                                            ok = false;
                                          }
                                        });
                                      });
              }
            });
          });
    }
  }
  if (!c.RunUntil(0, deadline)) ok = false;
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
