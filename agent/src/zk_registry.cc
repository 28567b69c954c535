#include "zkop/agent/zk_registry.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "zkop/zk/client.h"

namespace zkop::agent {

namespace {

RegError Map(zk::Error e) {
  switch (e) {
    case zk::Error::kOk:
      return RegError::kOk;
    case zk::Error::kNodeExists:
      return RegError::kNodeExists;
    case zk::Error::kNoNode:
      return RegError::kNoNode;
    case zk::Error::kBadVersion:
      return RegError::kBadVersion;
    case zk::Error::kConnectionLoss:
    case zk::Error::kOperationTimeout:
      return RegError::kConnectionLoss;
    case zk::Error::kSessionExpired:
    case zk::Error::kInvalidState:
      return RegError::kSessionExpired;
    case zk::Error::kClosing:
    case zk::Error::kClosed:
      return RegError::kClosed;
    default:
      return RegError::kOther;
  }
}

RegStatus FromStatus(const zk::Status& s) { return RegStatus{Map(s.code()), s.ToString()}; }

zk::ClientOptions MakeOptions(const ZkRegistryOptions& options, int index) {
  zk::ClientOptions o;
  o.connect = options.connect;
  o.session_timeout = options.session_timeout;
  o.resolve_interval = options.resolve_interval;
  o.name = "agent-" + std::to_string(index);
  return o;
}

// Creates persistent nodes and their ancestors fast: level by level (shortest paths first),
// skipping what GetChildren shows exists, the rest as batched multis; a batch that fails
// (someone created a node meanwhile) is redone node by node, where NodeExists is fine.
// Runs on the client's completion thread through async calls only.
class ParentMaker : public std::enable_shared_from_this<ParentMaker> {
 public:
  ParentMaker(zk::Client* client, std::function<void(RegStatus)> done)
      : client_(client), done_(std::move(done)) {}

  void Start(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
      for (size_t s = p.find('/', 1);; s = p.find('/', s + 1)) {
        std::string prefix = s == std::string::npos ? p : p.substr(0, s);
        levels_[std::count(prefix.begin(), prefix.end(), '/')].insert(prefix);
        if (s == std::string::npos) break;
      }
    }
    NextLevel();
  }

 private:
  static std::string Parent(const std::string& p) {
    size_t s = p.rfind('/');
    return s == 0 ? "/" : p.substr(0, s);
  }

  void Finish() {
    auto done = std::move(done_);
    done(first_);
  }

  void Fail(const zk::Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    if (first_.ok()) first_ = FromStatus(s);
  }

  // Looks up which nodes of the next level exist (children of parents we did not just create).
  void NextLevel() {
    if (levels_.empty() || !first_.ok()) return Finish();
    level_ = std::move(levels_.begin()->second);
    levels_.erase(levels_.begin());
    std::set<std::string> parents;
    for (const auto& p : level_) {
      if (!created_.count(Parent(p))) parents.insert(Parent(p));
    }
    if (parents.empty()) return CreateLevel();
    auto self = shared_from_this();
    pending_ = parents.size();
    for (const auto& parent : parents) {
      zk::Status s = client_->GetChildrenAsync(parent, [self, parent](const zk::ChildrenResult& r) {
        {
          std::lock_guard<std::mutex> l(self->mu_);
          if (r.status.ok()) {
            std::string prefix = parent == "/" ? "" : parent;
            for (const auto& c : r.children) self->level_.erase(prefix + "/" + c);
          } else if (r.status.code() != zk::Error::kNoNode && self->first_.ok()) {
            self->first_ = FromStatus(r.status);
          }
          if (--self->pending_ > 0) return;
        }
        self->CreateLevel();
      });
      if (!s.ok()) {
        Fail(s);
        std::lock_guard<std::mutex> l(mu_);
        if (--pending_ > 0) continue;
        return Finish();
      }
    }
  }

  void CreateLevel() {
    if (!first_.ok()) return Finish();
    std::vector<std::string> missing(level_.begin(), level_.end());
    created_.insert(missing.begin(), missing.end());
    // Deeper nodes under what this level creates cannot exist yet: they go in the same
    // stream of multis, after their parents (one session answers in order), instead of
    // waiting a round trip per level.
    for (auto it = levels_.begin(); it != levels_.end();) {
      std::set<std::string>& deeper = it->second;
      for (auto p = deeper.begin(); p != deeper.end();) {
        if (created_.count(Parent(*p))) {
          missing.push_back(*p);
          created_.insert(*p);
          p = deeper.erase(p);
        } else {
          ++p;
        }
      }
      it = deeper.empty() ? levels_.erase(it) : std::next(it);
    }
    if (missing.empty()) return NextLevel();
    constexpr size_t kBatch = 1000;  // ~100 bytes a parent: far under jute.maxbuffer
    auto self = shared_from_this();
    pending_ = (missing.size() + kBatch - 1) / kBatch;
    // One list shared by the batches' callbacks (for the node-by-node retry), not a copy each.
    auto all = std::make_shared<const std::vector<std::string>>(std::move(missing));
    for (size_t start = 0; start < all->size(); start += kBatch) {
      size_t end = std::min(all->size(), start + kBatch);
      std::vector<zk::Op> ops;
      ops.reserve(end - start);
      for (size_t i = start; i < end; ++i) ops.push_back(zk::Op::Create((*all)[i], ""));
      zk::Status s =
          client_->MultiAsync(std::move(ops), [self, all, start, end](const zk::MultiResult& r) {
            if (r.status.ok()) return self->BatchDone();
            {
              std::lock_guard<std::mutex> l(self->mu_);
              self->pending_ += end - start;
            }
            for (size_t i = start; i < end; ++i) self->CreateOne((*all)[i]);
            self->BatchDone();
          });
      if (!s.ok()) {
        Fail(s);
        BatchDone();
      }
    }
  }

  void CreateOne(const std::string& p) {
    auto self = shared_from_this();
    zk::Status s =
        client_->CreateAsync(p, "", zk::CreateOptions{}, [self](const zk::CreateResult& r) {
          if (!r.status.ok() && r.status.code() != zk::Error::kNodeExists) self->Fail(r.status);
          self->BatchDone();
        });
    if (!s.ok()) {
      Fail(s);
      BatchDone();
    }
  }

  void BatchDone() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (--pending_ > 0) return;
    }
    NextLevel();
  }

  zk::Client* client_;
  std::function<void(RegStatus)> done_;
  std::map<size_t, std::set<std::string>> levels_;  // by depth
  std::set<std::string> level_;                     // the level being made
  std::set<std::string> created_;                   // made here: known to have no children
  std::mutex mu_;
  size_t pending_ = 0;
  RegStatus first_;
};

class ZkSession : public RegistrySession {
 public:
  ZkSession(const ZkRegistryOptions& options, int index, std::function<void()> wake)
      : client_(MakeOptions(options, index)) {
    client_.AddStateListener([this, wake](zk::State s) {
      // Connected again with the session we had before the loss: a reconnect.
      int64_t id = client_.session_id();
      if (s == zk::State::kConnected) {
        bool same = id == last_connected_id_.exchange(id);
        bool was_lost = lost_.exchange(false);
        if (same && was_lost) ++reconnects_;
      } else if (s == zk::State::kConnecting) {
        lost_ = true;
      }
      wake();
    });
    client_.AddSessionListener([wake](int64_t) { wake(); });
    client_.Start();
  }
  ~ZkSession() override { client_.Close(); }

  int64_t session_id() const override {
    return client_.state() == zk::State::kConnected || client_.state() == zk::State::kConnecting
               ? client_.session_id()
               : 0;
  }
  bool connected() const override { return client_.state() == zk::State::kConnected; }
  uint64_t reconnects() const override { return reconnects_; }

  void EnsurePersistent(std::vector<std::string> paths,
                        std::function<void(RegStatus)> done) override {
    auto maker = std::make_shared<ParentMaker>(&client_, std::move(done));
    maker->Start(paths);
  }

  void CreateAll(std::vector<NodeSpec> nodes, MultiDone done) override {
    std::vector<zk::Op> ops;
    ops.reserve(nodes.size());
    for (auto& n : nodes) {
      ops.push_back(
          zk::Op::Create(std::move(n.path), std::move(n.data),
                         n.persistent ? zk::CreateMode::kPersistent : zk::CreateMode::kEphemeral));
    }
    RunMulti(std::move(ops), std::move(done));
  }

  void Children(std::string path,
                std::function<void(RegStatus, std::vector<std::string>)> done) override {
    auto shared =
        std::make_shared<std::function<void(RegStatus, std::vector<std::string>)>>(std::move(done));
    zk::Status s = client_.GetChildrenAsync(path, [shared](const zk::ChildrenResult& r) {
      (*shared)(FromStatus(r.status), r.children);
    });
    if (!s.ok()) (*shared)(FromStatus(s), {});
  }

  void DeleteAll(std::vector<std::string> paths, MultiDone done) override {
    std::vector<zk::Op> ops;
    ops.reserve(paths.size());
    for (auto& p : paths) ops.push_back(zk::Op::Delete(std::move(p)));
    RunMulti(std::move(ops), std::move(done));
  }

  void Owner(std::string path, std::function<void(RegStatus, int64_t)> done) override {
    auto shared = std::make_shared<std::function<void(RegStatus, int64_t)>>(std::move(done));
    zk::Status s = client_.ExistsAsync(path, [shared](const zk::StatResult& r) {
      (*shared)(FromStatus(r.status), r.status.ok() ? r.stat.ephemeral_owner : 0);
    });
    if (!s.ok()) (*shared)(FromStatus(s), 0);
  }

  void Read(std::string path, std::function<void(RegStatus, NodeRead)> done) override {
    auto shared = std::make_shared<std::function<void(RegStatus, NodeRead)>>(std::move(done));
    zk::Status s = client_.GetAsync(path, [shared](const zk::DataResult& r) {
      NodeRead read;
      if (r.status.ok()) read = NodeRead{r.data, r.stat.version, r.stat.ephemeral_owner};
      (*shared)(FromStatus(r.status), std::move(read));
    });
    if (!s.ok()) (*shared)(FromStatus(s), {});
  }

  void Write(std::string path, std::string data, int32_t version,
             std::function<void(RegStatus)> done) override {
    auto shared = std::make_shared<std::function<void(RegStatus)>>(std::move(done));
    zk::Status s = client_.SetAsync(path, data, version, [shared](const zk::StatResult& r) {
      (*shared)(FromStatus(r.status));
    });
    if (!s.ok()) (*shared)(FromStatus(s));
  }

  void Close() override { client_.Close(); }

 private:
  void RunMulti(std::vector<zk::Op> ops, MultiDone done) {
    size_t n = ops.size();
    auto shared = std::make_shared<MultiDone>(std::move(done));
    zk::Status s = client_.MultiAsync(std::move(ops), [shared, n](const zk::MultiResult& r) {
      std::vector<RegError> per;
      if (!r.status.ok()) {
        per.reserve(n);
        for (const auto& op : r.results) per.push_back(Map(op.error));
      }
      (*shared)(FromStatus(r.status), std::move(per));
    });
    if (!s.ok()) (*shared)(FromStatus(s), {});
  }

  mutable zk::Client client_;
  std::atomic<int64_t> last_connected_id_{0};
  std::atomic<bool> lost_{false};
  std::atomic<uint64_t> reconnects_{0};
};

}  // namespace

ZkRegistryStore::ZkRegistryStore(ZkRegistryOptions options) : options_(std::move(options)) {}

std::unique_ptr<RegistrySession> ZkRegistryStore::Open(std::function<void()> wake) {
  return std::make_unique<ZkSession>(options_, opened_++, std::move(wake));
}

}  // namespace zkop::agent
