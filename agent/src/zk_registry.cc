#include "zkop/agent/zk_registry.h"

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
  o.name = "agent-" + std::to_string(index);
  return o;
}

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
    // Every ancestor, shortest first: the server answers in order, so a parent exists
    // before its child's create is applied.
    std::set<std::string> all;
    for (const auto& p : paths) {
      for (size_t slash = p.find('/', 1); slash != std::string::npos;
           slash = p.find('/', slash + 1)) {
        all.insert(p.substr(0, slash));
      }
      all.insert(p);
    }
    std::vector<std::string> ordered(all.begin(), all.end());
    std::stable_sort(
        ordered.begin(), ordered.end(), [](const std::string& a, const std::string& b) {
          return std::count(a.begin(), a.end(), '/') < std::count(b.begin(), b.end(), '/');
        });
    struct Join {
      std::mutex mu;
      size_t left;
      RegStatus first;
      std::function<void(RegStatus)> done;
    };
    auto join = std::make_shared<Join>();
    join->left = ordered.size();
    join->done = std::move(done);
    auto finish = [join](RegStatus st) {
      std::unique_lock<std::mutex> l(join->mu);
      if (!st.ok() && st.error != RegError::kNodeExists && join->first.ok()) join->first = st;
      if (--join->left > 0) return;
      RegStatus result = join->first;
      l.unlock();
      join->done(result);
    };
    for (const auto& p : ordered) {
      zk::Status s = client_.CreateAsync(
          p, "", zk::CreateOptions{},
          [finish](const zk::CreateResult& r) { finish(FromStatus(r.status)); });
      if (!s.ok()) finish(FromStatus(s));
    }
  }

  void CreateEphemerals(std::vector<NodeSpec> nodes, MultiDone done) override {
    std::vector<zk::Op> ops;
    ops.reserve(nodes.size());
    for (auto& n : nodes) {
      ops.push_back(
          zk::Op::Create(std::move(n.path), std::move(n.data), zk::CreateMode::kEphemeral));
    }
    RunMulti(std::move(ops), std::move(done));
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
