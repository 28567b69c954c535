#include "fake_registry.h"

#include <algorithm>

namespace zkop::agent::testing {

struct FakeRegistry::Handle : RegistrySession {
  FakeRegistry* reg;
  std::function<void()> wake;
  int64_t id;
  bool closed = false;

  Handle(FakeRegistry* r, std::function<void()> w, int64_t i) : reg(r), wake(std::move(w)), id(i) {}
  ~Handle() override {
    Close();
    std::lock_guard<std::mutex> l(reg->mu_);
    reg->handles_.erase(std::find(reg->handles_.begin(), reg->handles_.end(), this));
  }
  int64_t session_id() const override {
    std::lock_guard<std::mutex> l(reg->mu_);
    return closed ? 0 : id;
  }
  bool connected() const override {
    std::lock_guard<std::mutex> l(reg->mu_);
    return !closed && reg->connected_;
  }
  uint64_t reconnects() const override {
    std::lock_guard<std::mutex> l(reg->mu_);
    return reg->reconnects_;
  }
  void EnsurePersistent(std::vector<std::string> paths,
                        std::function<void(RegStatus)> done) override {
    done(reg->Apply(this, [&](int64_t) {
      for (const auto& p : paths) {
        for (size_t s = p.find('/', 1);; s = p.find('/', s + 1)) {
          std::string prefix = s == std::string::npos ? p : p.substr(0, s);
          reg->nodes_.emplace(prefix, Node{});
          if (s == std::string::npos) break;
        }
      }
      return RegStatus{};
    }));
  }
  void CreateAll(std::vector<NodeSpec> nodes, MultiDone done) override {
    std::vector<RegError> per(nodes.size(), RegError::kOk);
    RegStatus st = reg->Apply(this, [&](int64_t session) {
      ++reg->multis_;
      std::map<std::string, Node> after = reg->nodes_;  // all or nothing, in order
      for (size_t i = 0; i < nodes.size(); ++i) {
        const auto& n = nodes[i];
        std::string parent = n.path.substr(0, n.path.rfind('/'));
        RegError e = RegError::kOk;
        if (after.count(n.path)) e = RegError::kNodeExists;
        if (!parent.empty() && !after.count(parent)) e = RegError::kNoNode;
        if (e != RegError::kOk) {
          std::fill(per.begin(), per.end(), RegError::kOther);
          per[i] = e;
          return RegStatus{e, n.path};
        }
        after[n.path] = Node{n.data, n.persistent ? 0 : session, 0};
      }
      reg->nodes_ = std::move(after);
      return RegStatus{};
    });
    if (st.ok() || per.empty() || st.error == RegError::kConnectionLoss) per.clear();
    done(st, per);
  }
  void Children(std::string path,
                std::function<void(RegStatus, std::vector<std::string>)> done) override {
    std::vector<std::string> names;
    RegStatus st = reg->Apply(this, [&](int64_t) {
      ++reg->reads_;
      if (path != "/" && !reg->nodes_.count(path)) return RegStatus{RegError::kNoNode, path};
      std::string prefix = path == "/" ? "/" : path + "/";
      for (auto it = reg->nodes_.lower_bound(prefix);
           it != reg->nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        if (it->first.find('/', prefix.size()) == std::string::npos) {
          names.push_back(it->first.substr(prefix.size()));
        }
      }
      return RegStatus{};
    });
    done(st, std::move(names));
  }
  void DeleteAll(std::vector<std::string> paths, MultiDone done) override {
    RegStatus st = reg->Apply(this, [&](int64_t) {
      ++reg->multis_;
      for (const auto& p : paths) {
        if (!reg->nodes_.count(p)) return RegStatus{RegError::kNoNode, p};
      }
      for (const auto& p : paths) reg->nodes_.erase(p);
      return RegStatus{};
    });
    done(st, {});
  }
  void Owner(std::string path, std::function<void(RegStatus, int64_t)> done) override {
    int64_t owner = 0;
    RegStatus st = reg->Apply(this, [&](int64_t) {
      auto it = reg->nodes_.find(path);
      if (it == reg->nodes_.end()) return RegStatus{RegError::kNoNode, path};
      owner = it->second.owner;
      return RegStatus{};
    });
    done(st, owner);
  }
  void Read(std::string path, std::function<void(RegStatus, NodeRead)> done) override {
    NodeRead read;
    RegStatus st = reg->Apply(this, [&](int64_t) {
      auto it = reg->nodes_.find(path);
      if (it == reg->nodes_.end()) return RegStatus{RegError::kNoNode, path};
      read = NodeRead{it->second.data, it->second.version, it->second.owner};
      return RegStatus{};
    });
    done(st, std::move(read));
  }
  void Write(std::string path, std::string data, int32_t version,
             std::function<void(RegStatus)> done) override {
    std::function<void()> before;
    {
      std::lock_guard<std::mutex> l(reg->mu_);
      before.swap(reg->before_write_);
    }
    if (before) before();
    done(reg->Apply(this, [&](int64_t) {
      auto it = reg->nodes_.find(path);
      if (it == reg->nodes_.end()) return RegStatus{RegError::kNoNode, path};
      if (version != -1 && version != it->second.version) {
        return RegStatus{RegError::kBadVersion, path};
      }
      it->second.data = std::move(data);
      ++it->second.version;
      return RegStatus{};
    }));
  }
  void Close() override {
    std::lock_guard<std::mutex> l(reg->mu_);
    if (closed) return;
    closed = true;
    ++reg->closes_;
    for (auto it = reg->nodes_.begin(); it != reg->nodes_.end();) {
      it = it->second.owner == id ? reg->nodes_.erase(it) : std::next(it);
    }
  }
};

std::unique_ptr<RegistrySession> FakeRegistry::Open(std::function<void()> wake) {
  std::lock_guard<std::mutex> l(mu_);
  ++opened_;
  auto h = std::make_unique<Handle>(this, std::move(wake), ++next_session_);
  handles_.push_back(h.get());
  return h;
}

RegStatus FakeRegistry::Apply(Handle* h, const std::function<RegStatus(int64_t)>& op) {
  std::lock_guard<std::mutex> l(mu_);
  ++ops_;
  if (h->closed) return RegStatus{RegError::kClosed, "closed"};
  if (!connected_) return RegStatus{RegError::kConnectionLoss, "disconnected"};
  if (fail_n_ > 0) {
    --fail_n_;
    if (fail_apply_) op(h->id);
    return RegStatus{fail_error_, "injected"};
  }
  return op(h->id);
}

std::map<std::string, FakeRegistry::Node> FakeRegistry::Nodes() {
  std::lock_guard<std::mutex> l(mu_);
  return nodes_;
}

std::map<int64_t, std::set<std::string>> FakeRegistry::EphemeralsBySession() {
  std::lock_guard<std::mutex> l(mu_);
  std::map<int64_t, std::set<std::string>> out;
  for (const auto& [p, n] : nodes_) {
    if (n.owner) out[n.owner].insert(p);
  }
  return out;
}

void FakeRegistry::Expire(int64_t id) {
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      it = it->second.owner == id ? nodes_.erase(it) : std::next(it);
    }
    for (auto* h : handles_) {
      if (h->id == id) {
        h->id = ++next_session_;
        wakes.push_back(h->wake);
      }
    }
  }
  for (auto& w : wakes) w();
}

void FakeRegistry::SetConnected(bool connected) {
  std::lock_guard<std::mutex> l(mu_);
  if (connected && !connected_) ++reconnects_;
  connected_ = connected;
}

void FakeRegistry::ExternalDelete(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  nodes_.erase(path);
}

void FakeRegistry::ExternalCreate(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t s = path.find('/', 1);; s = path.find('/', s + 1)) {
    nodes_.emplace(s == std::string::npos ? path : path.substr(0, s), Node{});
    if (s == std::string::npos) break;
  }
}

void FakeRegistry::CreateStale(const std::string& path, const std::string& data, int64_t owner) {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t s = path.find('/', 1); s != std::string::npos; s = path.find('/', s + 1)) {
    nodes_.emplace(path.substr(0, s), Node{});
  }
  nodes_[path] = Node{data, owner, 0};
}

void FakeRegistry::ExternalWrite(const std::string& path, const std::string& data) {
  std::lock_guard<std::mutex> l(mu_);
  Node& n = nodes_[path];
  n.data = data;
  ++n.version;
}

void FakeRegistry::BeforeNextWrite(std::function<void()> f) {
  std::lock_guard<std::mutex> l(mu_);
  before_write_ = std::move(f);
}

void FakeRegistry::FailNext(int n, RegError error, bool apply) {
  std::lock_guard<std::mutex> l(mu_);
  fail_n_ = n;
  fail_error_ = error;
  fail_apply_ = apply;
}

}  // namespace zkop::agent::testing
