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

namespace {

using Clock = std::chrono::steady_clock;

// Async completions are queued here by whatever thread answers and applied on the syncer
// thread, so all engine state is touched by one thread only. Late answers (after a
// deadline) are dropped with the queue; the next Sync re-derives the truth.
class Completions {
 public:
  Completions() : s_(std::make_shared<State>()) {}

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

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "" : path.substr(0, slash);
}

int64_t Cost(const std::string& path) { return static_cast<int64_t>(path.size()); }

}  // namespace

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

void Syncer::CheckSessions() {
  for (auto& sh : shards_) {
    if (!sh->session) continue;
    int64_t id = sh->session->session_id();
    if (id != 0 && sh->session_id != 0 && id != sh->session_id) {
      // A new session: the old one expired and took its ephemeral nodes with it.
      sh->owned.clear();
      std::lock_guard<std::mutex> l(stats_mu_);
      ++stats_.expirations;
    }
    uint64_t reconnects = sh->session->reconnects();
    if (reconnects > sh->reconnects_seen) {
      std::lock_guard<std::mutex> l(stats_mu_);
      stats_.reconnects += reconnects - sh->reconnects_seen;
    }
    sh->reconnects_seen = reconnects;
    if (id != 0) sh->session_id = id;
  }
}

size_t Syncer::ShardFor(const std::string& path) {
  int64_t cost = Cost(path);
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (sh.session && sh.bytes + cost <= options_.path_budget) return i;
  }
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (!shards_[i]->session) {
      shards_[i]->session = store_->Open(wake_);
      shards_[i]->session_id = shards_[i]->session->session_id();
      return i;
    }
  }
  auto sh = std::make_unique<Shard>();
  sh->session = store_->Open(wake_);
  sh->session_id = sh->session->session_id();
  shards_.push_back(std::move(sh));
  return shards_.size() - 1;
}

bool Syncer::DeleteUndesired(const std::map<std::string, std::string>& desired) {
  std::map<size_t, std::vector<std::string>> todo;
  for (const auto& [path, idx] : shard_of_) {
    auto it = desired.find(path);
    if (it == desired.end() || data_of_[path] != it->second) todo[idx].push_back(path);
  }
  bool ok = true;
  Completions c;
  auto deadline = Clock::now() + options_.op_timeout;
  auto forget = [this](size_t idx, const std::string& path) {
    Shard& sh = *shards_[idx];
    sh.owned.erase(path);
    if (sh.assigned.erase(path)) sh.bytes -= Cost(path);
    shard_of_.erase(path);
    data_of_.erase(path);
  };
  for (auto& [idx, paths] : todo) {
    Shard& sh = *shards_[idx];
    if (!sh.session->connected()) {
      ok = false;
      continue;
    }
    for (size_t start = 0; start < paths.size(); start += options_.batch_size) {
      std::vector<std::string> batch(
          paths.begin() + start,
          paths.begin() + std::min(paths.size(), start + options_.batch_size));
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
      auto post = c.Begin();
      sh.session->DeleteAll(
          batch, [post, batch, idx, this, &c, &ok, &forget](RegStatus st, std::vector<RegError>) {
            post([=, this, &c, &ok, &forget] {
              if (st.ok()) {
                for (const auto& p : batch) forget(idx, p);
                return;
              }
              // One bad path fails the whole multi: go one by one.
              for (const auto& p : batch) {
                auto post1 = c.Begin();
                shards_[idx]->session->DeleteAll(
                    {p}, [post1, p, idx, this, &ok, &forget](RegStatus s1, std::vector<RegError>) {
                      post1([=, this, &ok, &forget] {
                        if (s1.ok() || s1.error == RegError::kNoNode) {
                          forget(idx, p);
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

bool Syncer::CreateMissing(Shard& sh, const std::map<std::string, std::string>& desired) {
  std::vector<std::string> missing;
  for (const auto& p : sh.assigned) {
    if (!sh.owned.count(p)) missing.push_back(p);
  }
  if (missing.empty()) return true;
  if (!sh.session->connected()) {
    if (sh.session_id != 0) return false;  // a known session lost its connection: later
    // A freshly opened session connects in the background: give it a moment.
    auto until = Clock::now() +
                 std::min<std::chrono::milliseconds>(options_.op_timeout, std::chrono::seconds(3));
    while (!sh.session->connected() && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    CheckSessions();
    if (!sh.session->connected()) return false;
  }
  auto deadline = Clock::now() + options_.op_timeout;
  Completions c;
  bool ok = true;

  std::set<std::string> parents;
  for (const auto& p : missing) {
    std::string parent = Parent(p);
    if (!parent.empty() && !known_parents_.count(parent)) parents.insert(parent);
  }
  if (!parents.empty()) {
    auto post = c.Begin();
    std::vector<std::string> list(parents.begin(), parents.end());
    sh.session->EnsurePersistent(list, [post, list, this, &ok](RegStatus st) {
      post([=, this, &ok] {
        if (st.ok()) {
          known_parents_.insert(list.begin(), list.end());
        } else {
          ok = false;
          CountError(std::string(RegErrorName(st.error)));
        }
      });
    });
    if (!c.RunUntil(0, deadline) || !ok) {
      if (ok) CountError("timeout");
      return false;
    }
  }

  int64_t session_id = sh.session_id;
  std::vector<std::string> retry;
  auto node = [&desired](const std::string& p) { return NodeSpec{p, desired.at(p)}; };
  for (size_t start = 0; start < missing.size(); start += options_.batch_size) {
    std::vector<std::string> batch(
        missing.begin() + start,
        missing.begin() + std::min(missing.size(), start + options_.batch_size));
    std::vector<NodeSpec> nodes;
    nodes.reserve(batch.size());
    for (const auto& p : batch) nodes.push_back(node(p));
    if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
    auto post = c.Begin();
    sh.session->CreateEphemerals(std::move(nodes),
                                 [post, batch, &sh, &retry](RegStatus st, std::vector<RegError>) {
                                   post([=, &sh, &retry] {
                                     if (st.ok()) {
                                       sh.owned.insert(batch.begin(), batch.end());
                                     } else {
                                       retry.insert(retry.end(), batch.begin(), batch.end());
                                     }
                                   });
                                 });
  }
  if (!c.RunUntil(0, deadline)) {
    CountError("timeout");
    return false;
  }
  if (retry.empty()) return ok;

  // Node by node: find what failed the batch and resolve it.
  std::function<void(const std::string&, int)> create_one;
  create_one = [&](const std::string& p, int attempts) {
    auto post = c.Begin();
    sh.session->CreateEphemerals({node(p)}, [post, p, attempts, &sh, &c, &ok, &create_one, this,
                                             session_id](RegStatus st, std::vector<RegError>) {
      post([=, &sh, &c, &ok, &create_one, this] {
        if (st.ok()) {
          sh.owned.insert(p);
          return;
        }
        if (st.error == RegError::kNoNode) known_parents_.erase(Parent(p));
        if (st.error != RegError::kNodeExists || attempts == 0) {
          ok = false;
          CountError(std::string(RegErrorName(st.error)));
          return;
        }
        // It exists: ours (an earlier create whose answer was lost) or stale.
        auto post2 = c.Begin();
        sh.session->Owner(p, [post2, p, attempts, &sh, &c, &ok, &create_one, this, session_id](
                                 RegStatus s2, int64_t owner) {
          post2([=, &sh, &c, &ok, &create_one, this] {
            if (s2.ok() && owner == session_id) {
              sh.owned.insert(p);
              return;
            }
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
                {p}, [post3, p, attempts, &create_one](RegStatus, std::vector<RegError>) {
                  post3([=, &create_one] { create_one(p, attempts - 1); });
                });
          });
        });
      });
    });
  };
  for (const auto& p : retry) {
    if (!c.RunUntil(options_.max_in_flight * 64, deadline)) break;
    create_one(p, 2);
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
    if (shard_of_.count(path)) continue;
    size_t idx = ShardFor(path);
    shards_[idx]->assigned.insert(path);
    shards_[idx]->bytes += Cost(path);
    shard_of_[path] = idx;
    data_of_[path] = data;
  }
  CheckSessions();
  for (auto& sh : shards_) {
    if (sh->session && !CreateMissing(*sh, desired)) ok = false;
  }
  // Extra sessions left empty go; the first one stays (it is the agent's "up" signal).
  for (size_t i = 1; i < shards_.size(); ++i) {
    Shard& sh = *shards_[i];
    if (sh.session && sh.assigned.empty()) {
      sh.session->Close();
      sh.session.reset();
      sh.session_id = 0;
      sh.owned.clear();
      sh.reconnects_seen = 0;
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
  Completions c;
  auto deadline = Clock::now() + options_.op_timeout;
  size_t wrong = 0;
  for (auto& shp : shards_) {
    Shard& sh = *shp;
    if (!sh.session || !sh.session->connected()) continue;
    int64_t session_id = sh.session_id;
    std::vector<std::string> owned(sh.owned.begin(), sh.owned.end());
    for (const auto& p : owned) {
      if (!c.RunUntil(1024, deadline)) break;
      auto post = c.Begin();
      sh.session->Owner(p, [post, p, &sh, &wrong, session_id](RegStatus st, int64_t owner) {
        post([=, &sh, &wrong] {
          if ((st.ok() && owner != session_id) || st.error == RegError::kNoNode) {
            sh.owned.erase(p);
            ++wrong;
          }
        });
      });
    }
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
  Completions c;
  bool ok = true;
  for (auto& shp : shards_) {
    Shard& sh = *shp;
    if (!sh.session || sh.assigned.empty()) continue;
    if (!sh.session->connected()) {
      ok = false;
      continue;
    }
    std::vector<std::string> paths(sh.assigned.begin(), sh.assigned.end());
    for (size_t start = 0; start < paths.size(); start += options_.batch_size) {
      std::vector<std::string> batch(
          paths.begin() + start,
          paths.begin() + std::min(paths.size(), start + options_.batch_size));
      if (!c.RunUntil(options_.max_in_flight - 1, deadline)) break;
      auto post = c.Begin();
      sh.session->DeleteAll(batch, [post, batch, &sh, &c, &ok](RegStatus st,
                                                               std::vector<RegError>) {
        post([=, &sh, &c, &ok] {
          if (st.ok()) {
            for (const auto& p : batch) sh.owned.erase(p);
            return;
          }
          for (const auto& p : batch) {
            auto post1 = c.Begin();
            sh.session->DeleteAll({p}, [post1, p, &sh, &ok](RegStatus s1, std::vector<RegError>) {
              post1([=, &sh, &ok] {
                if (s1.ok() || s1.error == RegError::kNoNode) {
                  sh.owned.erase(p);
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
    s.nodes = sh->assigned.size();
    s.owned = sh->owned.size();
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
