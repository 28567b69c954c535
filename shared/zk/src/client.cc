#include "zkop/zk/client.h"

#include <algorithm>
#include <netdb.h>
#include <sys/socket.h>
#include <zookeeper/zookeeper.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "c_log.h"
#include "zkop/zk/acl.h"

namespace zkop::zk {
namespace {

// True while this thread runs a C client callback (completion or watcher).
thread_local bool tl_in_c_callback = false;

class CallbackScope {
 public:
  CallbackScope() : previous_(tl_in_c_callback) { tl_in_c_callback = true; }
  ~CallbackScope() { tl_in_c_callback = previous_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  bool previous_;
};

const log::Logger& CallbackLogger() {
  static const log::Logger logger("zk.client");
  return logger;
}

// User callbacks must not throw into C code; a throw is logged and swallowed.
template <class Fn, class... Args>
void Invoke(const Fn& fn, const Args&... args) {
  if (!fn) return;
  try {
    fn(args...);
  } catch (const std::exception& e) {
    CallbackLogger().Error("ZooKeeper callback threw; exception dropped", {{"what", e.what()}});
  } catch (...) {
    CallbackLogger().Error("ZooKeeper callback threw a non-std exception; dropped");
  }
}

Stat ToStat(const ::Stat* s) {
  Stat out;
  if (s == nullptr) return out;
  out.czxid = s->czxid;
  out.mzxid = s->mzxid;
  out.pzxid = s->pzxid;
  out.ctime_ms = s->ctime;
  out.mtime_ms = s->mtime;
  out.version = s->version;
  out.cversion = s->cversion;
  out.aversion = s->aversion;
  out.ephemeral_owner = s->ephemeralOwner;
  out.data_length = s->dataLength;
  out.num_children = s->numChildren;
  return out;
}

int ToZooMode(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent:
      return ZOO_PERSISTENT;
    case CreateMode::kEphemeral:
      return ZOO_EPHEMERAL;
    case CreateMode::kPersistentSequential:
      return ZOO_PERSISTENT_SEQUENTIAL;
    case CreateMode::kEphemeralSequential:
      return ZOO_EPHEMERAL_SEQUENTIAL;
    case CreateMode::kContainer:
      return ZOO_CONTAINER;
  }
  return ZOO_PERSISTENT;
}

// A C view of an Acl; valid while the Acl lives. The C client serializes the request
// inside the submitting call, so the view only has to outlive that call.
class CAcl {
 public:
  explicit CAcl(const Acl& acl) {
    entries_.reserve(acl.size());
    for (const AclEntry& e : acl) {
      ::ACL c{};
      c.perms = e.perms;
      c.id.scheme = const_cast<char*>(e.scheme.c_str());
      c.id.id = const_cast<char*>(e.id.c_str());
      entries_.push_back(c);
    }
    vec_.count = static_cast<int32_t>(entries_.size());
    vec_.data = entries_.data();
  }
  const ::ACL_vector* get() const { return &vec_; }

 private:
  std::vector<::ACL> entries_;
  ::ACL_vector vec_{};
};

std::vector<std::string> ToStrings(const ::String_vector* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(static_cast<size_t>(v->count));
  for (int32_t i = 0; i < v->count; ++i) out.emplace_back(v->data[i]);
  return out;
}

std::string Hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out.push_back(',');
    out += p;
  }
  return out;
}

std::vector<std::string> Ancestors(std::string_view path) {
  std::vector<std::string> out;
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] == '/') out.emplace_back(path.substr(0, i));
  }
  return out;
}

EventType ToEventType(int type) {
  if (type == ZOO_CREATED_EVENT) return EventType::kCreated;
  if (type == ZOO_DELETED_EVENT) return EventType::kDeleted;
  if (type == ZOO_CHANGED_EVENT) return EventType::kDataChanged;
  return EventType::kChildrenChanged;
}

void NoopVoidCompletion(int, const void*) {}
void NoopStringCompletion(int, const char*, const void*) {}

}  // namespace

// The context the C client hands back to the global watcher: which Impl, which handle.
struct HandleCtx {
  Client::Impl* impl;
  uint64_t generation;
};

struct Client::Impl {
  Impl(const ClientOptions& o)
      : options(o),
        logger("zk." + o.name),
        op_timeout(o.operation_timeout.count() > 0
                       ? o.operation_timeout
                       : o.session_timeout + std::chrono::milliseconds(2000)),
        default_acl(o.default_acl.empty() ? OpenAcl() : o.default_acl),
        auth(o.digest_auth) {}

  const ClientOptions& options;
  const log::Logger logger;
  const std::chrono::milliseconds op_timeout;
  const Acl default_acl;

  // The live C handle. Submissions hold the lock shared; only the event thread (new
  // sessions) and Close() replace the handle, holding it exclusively.
  mutable std::shared_mutex handle_mu;
  zhandle_t* zh = nullptr;
  uint64_t generation = 0;
  std::map<uint64_t, std::unique_ptr<HandleCtx>> handle_ctxs;
  std::mutex start_mu;
  bool started = false;
  std::atomic<bool> closed{false};

  mutable std::mutex state_mu;
  std::condition_variable state_cv;
  State state = State::kConnecting;
  int64_t session_id = 0;
  std::string session_password;
  int negotiated_ms = 0;
  std::vector<DigestCredential> auth;

  std::mutex listeners_mu;
  int next_listener = 1;
  std::map<int, StateListener> state_listeners;
  std::map<int, SessionListener> session_listeners;

  std::mutex events_mu;
  std::condition_variable events_cv;
  std::deque<std::function<void()>> events;
  bool events_stop = false;
  std::thread event_thread;

  struct WatchEntry {
    WatchFn fn;
    uint64_t generation;
  };
  std::mutex watch_mu;
  uint64_t next_watch = 1;
  std::unordered_map<uint64_t, WatchEntry> watches;

  // ---- event thread --------------------------------------------------------------------
  void Post(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(events_mu);
    if (events_stop) return;
    events.push_back(std::move(fn));
    events_cv.notify_one();
  }

  void EventLoop() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(events_mu);
        events_cv.wait(lock, [&] { return events_stop || !events.empty(); });
        if (events_stop) return;
        fn = std::move(events.front());
        events.pop_front();
      }
      fn();
    }
  }

  void StopEvents() {
    {
      std::lock_guard<std::mutex> lock(events_mu);
      events_stop = true;
      events.clear();
    }
    events_cv.notify_all();
    if (event_thread.joinable()) event_thread.join();
  }

  // ---- state ---------------------------------------------------------------------------
  // Returns true when the state changed.
  bool SetState(State s) {
    std::lock_guard<std::mutex> lock(state_mu);
    if (state == s) return false;
    state = s;
    state_cv.notify_all();
    return true;
  }

  void NotifyState(State s) {
    std::vector<StateListener> copy;
    {
      std::lock_guard<std::mutex> lock(listeners_mu);
      for (auto& [id, fn] : state_listeners) copy.push_back(fn);
    }
    for (auto& fn : copy) Invoke(fn, s);
  }

  void NotifySession(int64_t id) {
    std::vector<SessionListener> copy;
    {
      std::lock_guard<std::mutex> lock(listeners_mu);
      for (auto& [lid, fn] : session_listeners) copy.push_back(fn);
    }
    for (auto& fn : copy) Invoke(fn, id);
  }

  uint64_t CurrentGeneration() {
    std::shared_lock<std::shared_mutex> lock(handle_mu);
    return generation;
  }

  // Creates a handle (a new session, or the resumed one) and makes it current; closes the
  // previous handle. Runs on Start() and on the event thread.
  Status OpenHandle(const clientid_t* resume) {
    internal::InitCLogOnce();
    auto ctx = std::make_unique<HandleCtx>();
    ctx->impl = this;
    zhandle_t* old = nullptr;
    uint64_t old_generation = 0;
    {
      std::unique_lock<std::shared_mutex> lock(handle_mu);
      if (closed.load()) return Status(Error::kClosed, options.connect);
      ctx->generation = generation + 1;
      zhandle_t* h = zookeeper_init2(options.connect.c_str(), &GlobalWatcher,
                                     static_cast<int>(options.session_timeout.count()), resume,
                                     ctx.get(), 0, &internal::CLogCallback);
      if (h == nullptr) {
        return Status(Error::kSystemError, "zookeeper_init failed for connect string \"" +
                                               options.connect + "\": " + std::strerror(errno));
      }
      if (options.resolve_interval.count() > 0) {
        zoo_set_servers_resolution_delay(
            h, static_cast<int>(std::min<int64_t>(options.resolve_interval.count(), 1 << 30)));
      }
      std::vector<DigestCredential> creds;
      {
        std::lock_guard<std::mutex> state_lock(state_mu);
        creds = auth;
      }
      for (const DigestCredential& c : creds) {
        std::string cert = c.user + ":" + c.password;
        zoo_add_auth(h, "digest", cert.data(), static_cast<int>(cert.size()), &NoopVoidCompletion,
                     nullptr);
      }
      old = zh;
      old_generation = generation;
      zh = h;
      generation = ctx->generation;
      handle_ctxs[ctx->generation] = std::move(ctx);
    }
    if (old != nullptr) {
      zookeeper_close(old);
      std::unique_lock<std::shared_mutex> lock(handle_mu);
      handle_ctxs.erase(old_generation);
    }
    return Status();
  }

  static void GlobalWatcher(zhandle_t* h, int type, int state_code, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT || ctx == nullptr) return;
    auto* hc = static_cast<HandleCtx*>(ctx);
    Impl* impl = hc->impl;
    uint64_t gen = hc->generation;
    int64_t sid = 0;
    std::string password;
    int timeout_ms = 0;
    if (state_code == ZOO_CONNECTED_STATE) {
      if (const clientid_t* id = zoo_client_id(h); id != nullptr) {
        sid = id->client_id;
        password.assign(id->passwd, sizeof id->passwd);
      }
      timeout_ms = zoo_recv_timeout(h);
    }
    impl->Post([impl, gen, state_code, sid, password, timeout_ms] {
      impl->OnSessionEvent(gen, state_code, sid, password, timeout_ms);
    });
  }

  void OnSessionEvent(uint64_t gen, int code, int64_t sid, const std::string& password,
                      int timeout_ms) {
    if (gen != CurrentGeneration() || closed.load()) return;
    if (code == ZOO_CONNECTED_STATE) {
      bool new_session;
      {
        std::lock_guard<std::mutex> lock(state_mu);
        new_session = sid != session_id;
        session_id = sid;
        session_password = password;
        negotiated_ms = timeout_ms;
      }
      bool changed = SetState(State::kConnected);
      if (new_session) {
        logger.Info(
            "ZooKeeper session established",
            {{"session", Hex(sid)}, {"timeout_ms", timeout_ms}, {"server", ConnectedServer()}});
      } else if (changed) {
        logger.Info("ZooKeeper connection restored; session kept",
                    {{"session", Hex(sid)}, {"server", ConnectedServer()}});
      }
      if (changed) NotifyState(State::kConnected);
      if (new_session) NotifySession(sid);
      return;
    }
    if (code == ZOO_CONNECTING_STATE || code == ZOO_ASSOCIATING_STATE ||
        code == ZOO_NOTCONNECTED_STATE) {
      if (SetState(State::kConnecting)) {
        logger.Warn(
            "ZooKeeper connection lost; reconnecting (the session survives until "
            "its timeout)",
            {{"connect", options.connect}});
        NotifyState(State::kConnecting);
      }
      return;
    }
    if (code == ZOO_READONLY_STATE) {
      if (SetState(State::kReadOnly)) NotifyState(State::kReadOnly);
      return;
    }
    if (code == ZOO_EXPIRED_SESSION_STATE || code == ZOO_AUTH_FAILED_STATE) {
      bool expired = code == ZOO_EXPIRED_SESSION_STATE;
      State s = expired ? State::kExpired : State::kAuthFailed;
      int64_t old_session;
      {
        std::lock_guard<std::mutex> lock(state_mu);
        old_session = session_id;
      }
      logger.Warn(expired ? "ZooKeeper session expired; creating a new session"
                          : "ZooKeeper authentication failed; creating a new session",
                  {{"session", Hex(old_session)}, {"connect", options.connect}});
      SetState(s);
      NotifyState(s);
      ExpireWatches(gen);
      if (!expired) std::this_thread::sleep_for(std::chrono::seconds(1));  // no hot loop
      Status st = OpenHandle(nullptr);
      if (!st.ok()) {
        logger.Error("cannot create a new ZooKeeper handle", {{"error", st.ToString()}});
        return;
      }
      if (SetState(State::kConnecting)) NotifyState(State::kConnecting);
    }
  }

  std::string ConnectedServer() const {
    std::shared_lock<std::shared_mutex> lock(handle_mu);
    if (zh == nullptr || zoo_state(zh) != ZOO_CONNECTED_STATE) return "";
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (zookeeper_get_connected_host(zh, reinterpret_cast<sockaddr*>(&addr), &len) == nullptr) {
      return "";
    }
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
      return "";
    }
    std::string h(host);
    if (h.find(':') != std::string::npos) h = "[" + h + "]";
    return h + ":" + port;
  }

  // The session id the C handle uses right now (valid across reconnects).
  int64_t HandleSessionId() const {
    std::shared_lock<std::shared_mutex> lock(handle_mu);
    if (zh == nullptr) return 0;
    const clientid_t* id = zoo_client_id(zh);
    return id == nullptr ? 0 : id->client_id;
  }

  // ---- submission ----------------------------------------------------------------------
  // Runs `submit(zh)` with the current handle; maps a non-ZOK return.
  template <class Submit>
  Status WithHandle(std::string_view what, Submit&& submit) {
    std::shared_lock<std::shared_mutex> lock(handle_mu);
    if (closed.load()) return Status(Error::kClosed, std::string(what));
    if (zh == nullptr) {
      return Status(Error::kInvalidState, std::string(what) + ": client not started");
    }
    int rc = submit(zh);
    if (rc != ZOK) return Status::FromZoo(rc, std::string(what));
    return Status();
  }

  // ---- watches -------------------------------------------------------------------------
  uint64_t RegisterWatch(WatchFn fn) {
    std::lock_guard<std::mutex> lock(watch_mu);
    uint64_t id = next_watch++;
    watches[id] = WatchEntry{std::move(fn), CurrentGenerationUnlocked()};
    return id;
  }
  uint64_t CurrentGenerationUnlocked() {
    std::shared_lock<std::shared_mutex> lock(handle_mu);
    return generation;
  }
  void DropWatch(uint64_t id) {
    std::lock_guard<std::mutex> lock(watch_mu);
    watches.erase(id);
  }
  void FireWatch(uint64_t id, EventType type, std::string path) {
    WatchFn fn;
    {
      std::lock_guard<std::mutex> lock(watch_mu);
      auto it = watches.find(id);
      if (it == watches.end()) return;
      fn = std::move(it->second.fn);
      watches.erase(it);
    }
    Invoke(fn, WatchEvent{type, std::move(path)});
  }
  // Every watch armed on a handle of generation <= gen is gone with its session.
  void ExpireWatches(uint64_t gen) {
    EndWatches([gen](uint64_t g) { return g <= gen; }, EventType::kSessionExpired);
  }
  template <class Pred>
  void EndWatches(Pred pred, EventType type) {
    std::vector<WatchFn> ended;
    {
      std::lock_guard<std::mutex> lock(watch_mu);
      for (auto it = watches.begin(); it != watches.end();) {
        if (pred(it->second.generation)) {
          ended.push_back(std::move(it->second.fn));
          it = watches.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& fn : ended) Invoke(fn, WatchEvent{type, ""});
  }

  static void WatchTrampoline(zhandle_t* h, int type, int state_code, const char* path, void* ctx) {
    CallbackScope scope;
    auto* hc = static_cast<const HandleCtx*>(zoo_get_context(h));
    if (hc == nullptr) return;
    auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ctx));
    if (type == ZOO_SESSION_EVENT) {
      if (state_code == ZOO_EXPIRED_SESSION_STATE || state_code == ZOO_AUTH_FAILED_STATE) {
        hc->impl->FireWatch(id, EventType::kSessionExpired, "");
      }
      return;  // connection changes keep the watch
    }
    hc->impl->FireWatch(id, ToEventType(type), path ? path : "");
  }
  static void* WatchCtx(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }
};

namespace {

// Completion contexts: owned by the C client from a successful submission until the
// completion, which deletes them.
struct CreateCtx {
  Client::Impl* impl;
  std::string path;
  std::string data;
  CreateOptions options;
  CreateCallback done;
  bool parents_made = false;
};
struct StatCtx {
  std::string path;
  StatCallback done;
  Client::Impl* impl = nullptr;
  uint64_t watch = 0;  // exists: the watch stays armed on ZOK and ZNONODE
};
struct DataCtx {
  std::string path;
  DataCallback done;
  Client::Impl* impl = nullptr;
  uint64_t watch = 0;
};
struct ChildrenCtx {
  std::string path;
  ChildrenCallback done;
  Client::Impl* impl = nullptr;
  uint64_t watch = 0;
};
struct MultiCtx {
  std::vector<Op> ops;
  std::vector<zoo_op_t> c_ops;
  std::vector<zoo_op_result_t> results;
  std::vector<std::vector<char>> path_buffers;
  std::vector<::Stat> stats;
  MultiCallback done;
};

Status SubmitCreate(Client::Impl* impl, std::unique_ptr<CreateCtx> ctx);

void CreateDone(int rc, const char* value, const ::Stat* stat, const void* data) {
  CallbackScope scope;
  std::unique_ptr<CreateCtx> ctx(static_cast<CreateCtx*>(const_cast<void*>(data)));
  if (rc == ZNONODE && ctx->options.make_parents && !ctx->parents_made) {
    Client::Impl* impl = ctx->impl;
    ctx->parents_made = true;
    // Pipelined in order on the session: parents first (ZNODEEXISTS ignored), then retry.
    CAcl acl(impl->default_acl);
    std::vector<std::string> parents = Ancestors(ctx->path);
    Status st = impl->WithHandle(ctx->path, [&](zhandle_t* h) -> int {
      for (const std::string& p : parents) {
        int prc = zoo_acreate(h, p.c_str(), nullptr, -1, acl.get(), ZOO_PERSISTENT,
                              &NoopStringCompletion, nullptr);
        if (prc != ZOK) return prc;
      }
      return ZOK;
    });
    CreateCallback done = ctx->done;
    std::string path = ctx->path;
    if (st.ok()) st = SubmitCreate(impl, std::move(ctx));
    if (!st.ok()) Invoke(done, CreateResult{st, path, {}});
    return;
  }
  CreateResult r;
  r.status = Status::FromZoo(rc, ctx->path);
  if (rc == ZOK) {
    r.path = value ? value : "";
    r.stat = ToStat(stat);
  }
  Invoke(ctx->done, r);
}

Status SubmitCreate(Client::Impl* impl, std::unique_ptr<CreateCtx> ctx) {
  const Acl& acl_src = ctx->options.acl.empty() ? impl->default_acl : ctx->options.acl;
  CAcl acl(acl_src);
  CreateCtx* raw = ctx.get();
  Status st = impl->WithHandle(raw->path, [&](zhandle_t* h) {
    return zoo_acreate2(h, raw->path.c_str(), raw->data.data(), static_cast<int>(raw->data.size()),
                        acl.get(), ToZooMode(raw->options.mode), &CreateDone, raw);
  });
  if (st.ok()) ctx.release();
  return st;
}

void StatDone(int rc, const ::Stat* stat, const void* data) {
  CallbackScope scope;
  std::unique_ptr<StatCtx> ctx(static_cast<StatCtx*>(const_cast<void*>(data)));
  if (ctx->watch != 0 && rc != ZOK && rc != ZNONODE) ctx->impl->DropWatch(ctx->watch);
  StatResult r;
  r.status = Status::FromZoo(rc, ctx->path);
  if (rc == ZOK) r.stat = ToStat(stat);
  Invoke(ctx->done, r);
}

void VoidDone(int rc, const void* data) {
  CallbackScope scope;
  std::unique_ptr<StatCtx> ctx(static_cast<StatCtx*>(const_cast<void*>(data)));
  Invoke(ctx->done, StatResult{Status::FromZoo(rc, ctx->path), {}});
}

void SyncDone(int rc, const char*, const void* data) {
  CallbackScope scope;
  std::unique_ptr<StatCtx> ctx(static_cast<StatCtx*>(const_cast<void*>(data)));
  Invoke(ctx->done, StatResult{Status::FromZoo(rc, ctx->path), {}});
}

void DataDone(int rc, const char* value, int value_len, const ::Stat* stat, const void* data) {
  CallbackScope scope;
  std::unique_ptr<DataCtx> ctx(static_cast<DataCtx*>(const_cast<void*>(data)));
  if (ctx->watch != 0 && rc != ZOK) ctx->impl->DropWatch(ctx->watch);
  DataResult r;
  r.status = Status::FromZoo(rc, ctx->path);
  if (rc == ZOK) {
    if (value != nullptr && value_len > 0) r.data.assign(value, static_cast<size_t>(value_len));
    r.stat = ToStat(stat);
  }
  Invoke(ctx->done, r);
}

void ChildrenDone(int rc, const ::String_vector* strings, const ::Stat* stat, const void* data) {
  CallbackScope scope;
  std::unique_ptr<ChildrenCtx> ctx(static_cast<ChildrenCtx*>(const_cast<void*>(data)));
  if (ctx->watch != 0 && rc != ZOK) ctx->impl->DropWatch(ctx->watch);
  ChildrenResult r;
  r.status = Status::FromZoo(rc, ctx->path);
  if (rc == ZOK) {
    r.children = ToStrings(strings);
    r.stat = ToStat(stat);
  }
  Invoke(ctx->done, r);
}

void MultiDone(int rc, const void* data) {
  CallbackScope scope;
  std::unique_ptr<MultiCtx> ctx(static_cast<MultiCtx*>(const_cast<void*>(data)));
  MultiResult r;
  r.results.resize(ctx->ops.size());
  std::string failed;
  for (size_t i = 0; i < ctx->ops.size(); ++i) {
    const zoo_op_result_t& res = ctx->results[i];
    OpResult& out = r.results[i];
    out.error = FromZooCode(res.err);
    if (res.err == ZOK && ctx->ops[i].type == Op::Type::kCreate && res.value != nullptr) {
      out.path = res.value;
    }
    if (res.err == ZOK && ctx->ops[i].type == Op::Type::kSetData) out.stat = ToStat(&ctx->stats[i]);
    if (failed.empty() && res.err != ZOK && res.err != ZRUNTIMEINCONSISTENCY) {
      failed = "op " + std::to_string(i) + " on " + ctx->ops[i].path;
    }
  }
  r.status = Status::FromZoo(rc, failed);
  Invoke(ctx->done, r);
}

}  // namespace

// ---- KeptWatch ---------------------------------------------------------------------------

struct KeptWatch::State : std::enable_shared_from_this<KeptWatch::State> {
  Client* client = nullptr;
  std::string path;
  DataCallback on_data;          // set for data watches
  ChildrenCallback on_children;  // set for children watches
  std::recursive_mutex mu;       // held while the owner's callback runs
  bool active = true;
  std::atomic<uint64_t> arm{0};  // callbacks of older arms are ignored
  int listener = 0;

  bool Active() {
    std::lock_guard<std::recursive_mutex> lock(mu);
    return active;
  }

  WatchFn OnEvent(uint64_t a) {
    std::weak_ptr<State> weak = weak_from_this();
    return [weak, a](const WatchEvent& ev) {
      auto s = weak.lock();
      if (!s || s->arm.load() != a) return;
      if (ev.type == EventType::kSessionExpired || ev.type == EventType::kClosed) return;
      s->Arm();
    };
  }

  // Result of an arm: deliver, then wait for creation when the node is absent.
  template <class Result, class Fn>
  void OnResult(uint64_t a, const Result& r, const Fn& fn) {
    if (arm.load() != a) return;
    Error e = r.status.code();
    if (IsOutcomeUnknown(e)) {  // lost connection: arm again (queued until reconnected)
      Arm();
      return;
    }
    // Expired/closing: the session listener arms again on the next session.
    if (e == Error::kSessionExpired || e == Error::kClosing || e == Error::kInvalidState ||
        e == Error::kClosed) {
      return;
    }
    {
      std::lock_guard<std::recursive_mutex> lock(mu);
      if (!active) return;
      Invoke(fn, r);
    }
    if (e != Error::kNoNode) return;
    std::weak_ptr<State> weak = weak_from_this();
    client->ExistsAsync(
        path,
        [weak, a](const StatResult& sr) {
          auto s = weak.lock();
          if (!s || s->arm.load() != a) return;
          if (sr.status.ok() || IsOutcomeUnknown(sr.status.code())) s->Arm();
        },
        OnEvent(a));
  }

  void Arm() {
    if (!Active()) return;
    uint64_t a = ++arm;
    std::weak_ptr<State> weak = weak_from_this();
    if (on_children) {
      client->GetChildrenAsync(
          path,
          [weak, a](const ChildrenResult& r) {
            if (auto s = weak.lock()) s->OnResult(a, r, s->on_children);
          },
          OnEvent(a));
    } else {
      client->GetAsync(
          path,
          [weak, a](const DataResult& r) {
            if (auto s = weak.lock()) s->OnResult(a, r, s->on_data);
          },
          OnEvent(a));
    }
  }
};

KeptWatch::~KeptWatch() { Stop(); }

void KeptWatch::Stop() {
  if (!state_) return;
  {
    std::lock_guard<std::recursive_mutex> lock(state_->mu);
    if (!state_->active) return;
    state_->active = false;
  }
  ++state_->arm;
  state_->client->RemoveListener(state_->listener);
}

// ---- Client ------------------------------------------------------------------------------

Client::Client(ClientOptions options) : options_(std::move(options)) {
  if (options_.connect.empty()) {
    throw std::invalid_argument(
        "ZooKeeper connect string is empty: expected \"host:port[,host:port...]\"");
  }
  impl_ = std::make_unique<Impl>(options_);
}

Client::~Client() { Close(); }

int Client::AddStateListener(StateListener listener) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  int id = impl_->next_listener++;
  impl_->state_listeners[id] = std::move(listener);
  return id;
}

int Client::AddSessionListener(SessionListener listener) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  int id = impl_->next_listener++;
  impl_->session_listeners[id] = std::move(listener);
  return id;
}

void Client::RemoveListener(int id) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  impl_->state_listeners.erase(id);
  impl_->session_listeners.erase(id);
}

Status Client::Start() {
  std::lock_guard<std::mutex> lock(impl_->start_mu);
  if (impl_->closed.load()) return Status(Error::kClosed, options_.connect);
  if (impl_->started) return Status();
  impl_->started = true;
  impl_->event_thread = std::thread([impl = impl_.get()] { impl->EventLoop(); });
  clientid_t resume{};
  bool resuming = options_.resume.id != 0;
  if (resuming) {
    resume.client_id = options_.resume.id;
    std::memcpy(resume.passwd, options_.resume.password.data(),
                std::min(sizeof resume.passwd, options_.resume.password.size()));
  }
  return impl_->OpenHandle(resuming ? &resume : nullptr);
}

Status Client::WaitConnected(std::chrono::milliseconds timeout) {
  if (tl_in_c_callback) {
    return Status(Error::kWouldDeadlock, "WaitConnected called from a ZooKeeper callback");
  }
  std::unique_lock<std::mutex> lock(impl_->state_mu);
  bool ok = impl_->state_cv.wait_for(lock, timeout, [&] {
    return impl_->state == State::kConnected || impl_->state == State::kClosed;
  });
  if (impl_->state == State::kClosed) return Status(Error::kClosed, options_.connect);
  if (ok) return Status();
  return Status(Error::kConnectTimeout, "no session with ZooKeeper at \"" + options_.connect +
                                            "\" within " + std::to_string(timeout.count()) +
                                            " ms (state " + std::string(StateName(impl_->state)) +
                                            "); check that the servers run and are reachable");
}

Status Client::Connect(std::chrono::milliseconds timeout) {
  Status st = Start();
  if (!st.ok()) return st;
  return WaitConnected(timeout);
}

void Client::Close() {
  if (!impl_ || impl_->closed.exchange(true)) return;
  impl_->StopEvents();
  zhandle_t* h = nullptr;
  {
    std::unique_lock<std::shared_mutex> lock(impl_->handle_mu);
    h = impl_->zh;
    impl_->zh = nullptr;
  }
  if (h != nullptr) zookeeper_close(h);
  {
    std::unique_lock<std::shared_mutex> lock(impl_->handle_mu);
    impl_->handle_ctxs.clear();
  }
  impl_->SetState(State::kClosed);
  impl_->EndWatches([](uint64_t) { return true; }, EventType::kClosed);
}

State Client::state() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->state;
}

int64_t Client::session_id() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->session_id;
}

SessionCredentials Client::session() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return SessionCredentials{impl_->session_id, impl_->session_password};
}

std::string Client::connected_server() const { return impl_->ConnectedServer(); }

std::chrono::milliseconds Client::negotiated_session_timeout() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return std::chrono::milliseconds(impl_->negotiated_ms);
}

void Client::SetCLogLevel(log::Level level) { internal::SetCLogLevel(level); }

// ---- async -------------------------------------------------------------------------------

Status Client::CreateAsync(std::string_view path, std::string_view data,
                           const CreateOptions& options, CreateCallback done) {
  auto ctx = std::make_unique<CreateCtx>();
  ctx->impl = impl_.get();
  ctx->path = std::string(path);
  ctx->data = std::string(data);
  ctx->options = options;
  ctx->done = std::move(done);
  return SubmitCreate(impl_.get(), std::move(ctx));
}

Status Client::DeleteAsync(std::string_view path, int version, StatCallback done) {
  auto ctx = std::make_unique<StatCtx>();
  ctx->path = std::string(path);
  ctx->done = std::move(done);
  StatCtx* raw = ctx.get();
  Status st = impl_->WithHandle(path, [&](zhandle_t* h) {
    return zoo_adelete(h, raw->path.c_str(), version, &VoidDone, raw);
  });
  if (st.ok()) ctx.release();
  return st;
}

Status Client::SyncAsync(std::string_view path, StatCallback done) {
  auto ctx = std::make_unique<StatCtx>();
  ctx->path = std::string(path);
  ctx->done = std::move(done);
  StatCtx* raw = ctx.get();
  Status st = impl_->WithHandle(
      path, [&](zhandle_t* h) { return zoo_async(h, raw->path.c_str(), &SyncDone, raw); });
  if (st.ok()) ctx.release();
  return st;
}

namespace {

// Submits a read that may arm a watch: the context is handed to the C client on success;
// on a failed submission the watch registered for it is dropped again.
template <typename Ctx, typename Callback, typename Submit>
Status SubmitWatchedRead(Client::Impl* impl, std::string_view path, Callback done, WatchFn watch,
                         Submit submit) {
  auto ctx = std::make_unique<Ctx>();
  ctx->path = std::string(path);
  ctx->done = std::move(done);
  ctx->impl = impl;
  if (watch) ctx->watch = impl->RegisterWatch(std::move(watch));
  Ctx* raw = ctx.get();
  Status st = impl->WithHandle(path, [&](zhandle_t* h) {
    return submit(h, raw->path.c_str(), raw->watch ? &Client::Impl::WatchTrampoline : nullptr,
                  Client::Impl::WatchCtx(raw->watch), raw);
  });
  if (st.ok()) {
    ctx.release();
  } else if (ctx->watch != 0) {
    impl->DropWatch(ctx->watch);
  }
  return st;
}

}  // namespace

Status Client::ExistsAsync(std::string_view path, StatCallback done, WatchFn watch) {
  return SubmitWatchedRead<StatCtx>(
      impl_.get(), path, std::move(done), std::move(watch),
      [](zhandle_t* h, const char* p, watcher_fn w, void* wctx, StatCtx* ctx) {
        return zoo_awexists(h, p, w, wctx, &StatDone, ctx);
      });
}

Status Client::GetAsync(std::string_view path, DataCallback done, WatchFn watch) {
  return SubmitWatchedRead<DataCtx>(
      impl_.get(), path, std::move(done), std::move(watch),
      [](zhandle_t* h, const char* p, watcher_fn w, void* wctx, DataCtx* ctx) {
        return zoo_awget(h, p, w, wctx, &DataDone, ctx);
      });
}

Status Client::SetAsync(std::string_view path, std::string_view data, int version,
                        StatCallback done) {
  auto ctx = std::make_unique<StatCtx>();
  ctx->path = std::string(path);
  ctx->done = std::move(done);
  StatCtx* raw = ctx.get();
  Status st = impl_->WithHandle(path, [&](zhandle_t* h) {
    return zoo_aset(h, raw->path.c_str(), data.data(), static_cast<int>(data.size()), version,
                    &StatDone, raw);
  });
  if (st.ok()) ctx.release();
  return st;
}

Status Client::GetChildrenAsync(std::string_view path, ChildrenCallback done, WatchFn watch) {
  return SubmitWatchedRead<ChildrenCtx>(
      impl_.get(), path, std::move(done), std::move(watch),
      [](zhandle_t* h, const char* p, watcher_fn w, void* wctx, ChildrenCtx* ctx) {
        return zoo_awget_children2(h, p, w, wctx, &ChildrenDone, ctx);
      });
}

Status Client::MultiAsync(std::vector<Op> ops, MultiCallback done) {
  if (ops.empty()) return Status(Error::kBadArguments, "multi with no operations");
  auto ctx = std::make_unique<MultiCtx>();
  ctx->ops = std::move(ops);
  ctx->done = std::move(done);
  size_t n = ctx->ops.size();
  ctx->c_ops.resize(n);
  ctx->results.resize(n);
  ctx->path_buffers.resize(n);
  ctx->stats.resize(n);
  std::vector<std::unique_ptr<CAcl>> acls;
  for (size_t i = 0; i < n; ++i) {
    const Op& op = ctx->ops[i];
    switch (op.type) {
      case Op::Type::kCreate: {
        acls.push_back(std::make_unique<CAcl>(op.acl.empty() ? impl_->default_acl : op.acl));
        ctx->path_buffers[i].resize(op.path.size() + 32);
        zoo_create_op_init(&ctx->c_ops[i], op.path.c_str(), op.data.data(),
                           static_cast<int>(op.data.size()), acls.back()->get(), ToZooMode(op.mode),
                           ctx->path_buffers[i].data(),
                           static_cast<int>(ctx->path_buffers[i].size()));
        break;
      }
      case Op::Type::kDelete:
        zoo_delete_op_init(&ctx->c_ops[i], op.path.c_str(), op.version);
        break;
      case Op::Type::kSetData:
        zoo_set_op_init(&ctx->c_ops[i], op.path.c_str(), op.data.data(),
                        static_cast<int>(op.data.size()), op.version, &ctx->stats[i]);
        break;
      case Op::Type::kCheck:
        zoo_check_op_init(&ctx->c_ops[i], op.path.c_str(), op.version);
        break;
    }
  }
  MultiCtx* raw = ctx.get();
  Status st = impl_->WithHandle("multi", [&](zhandle_t* h) {
    return zoo_amulti(h, static_cast<int>(n), raw->c_ops.data(), raw->results.data(), &MultiDone,
                      raw);
  });
  if (st.ok()) ctx.release();
  return st;
}

Status Client::GetConfigAsync(DataCallback done, WatchFn watch) {
  auto ctx = std::make_unique<DataCtx>();
  ctx->path = "/zookeeper/config";
  ctx->done = std::move(done);
  ctx->impl = impl_.get();
  if (watch) ctx->watch = impl_->RegisterWatch(std::move(watch));
  DataCtx* raw = ctx.get();
  Status st = impl_->WithHandle(raw->path, [&](zhandle_t* h) {
    return zoo_awgetconfig(h, raw->watch ? &Impl::WatchTrampoline : nullptr,
                           Impl::WatchCtx(raw->watch), &DataDone, raw);
  });
  if (st.ok()) {
    ctx.release();
  } else if (ctx->watch != 0) {
    impl_->DropWatch(ctx->watch);
  }
  return st;
}

Status Client::ReconfigAsync(const std::vector<std::string>& joining,
                             const std::vector<int>& leaving,
                             const std::vector<std::string>& members, int64_t from_version,
                             DataCallback done) {
  std::string join = Join(joining);
  std::vector<std::string> ids;
  for (int id : leaving) ids.push_back(std::to_string(id));
  std::string leave = Join(ids);
  std::string all = Join(members);
  if (join.empty() && leave.empty() && all.empty()) {
    return Status(Error::kBadArguments, "reconfig with nothing to add, remove or set");
  }
  auto ctx = std::make_unique<DataCtx>();
  ctx->path = "reconfig";
  if (!join.empty()) ctx->path += " add " + join;
  if (!leave.empty()) ctx->path += " remove " + leave;
  if (!all.empty()) ctx->path += " members " + all;
  ctx->done = std::move(done);
  DataCtx* raw = ctx.get();
  Status st = impl_->WithHandle(raw->path, [&](zhandle_t* h) {
    return zoo_areconfig(h, join.empty() ? nullptr : join.c_str(),
                         leave.empty() ? nullptr : leave.c_str(),
                         all.empty() ? nullptr : all.c_str(), from_version, &DataDone, raw);
  });
  if (st.ok()) ctx.release();
  return st;
}

namespace {

// State of one CreateOwnedEphemeralAsync.
struct OwnedCreate : std::enable_shared_from_this<OwnedCreate> {
  static constexpr int kMaxAttempts = 100;
  Client* client;
  Client::Impl* impl;
  std::string path;
  std::string data;
  CreateOptions options;
  CreateCallback done;
  int64_t session = 0;  // the session of the first attempt (0: none yet)
  int attempts = 0;

  void Finish(CreateResult r) { Invoke(done, r); }

  bool SessionChanged() {
    int64_t now = impl->HandleSessionId();
    if (session == 0) session = now;
    return now != session;
  }

  void Attempt() {
    if (++attempts > kMaxAttempts) {
      Finish({Status(Error::kConnectionLoss,
                     path + ": gave up after " + std::to_string(kMaxAttempts) + " attempts"),
              "",
              {}});
      return;
    }
    auto self = shared_from_this();
    Status st = client->CreateAsync(path, data, options, [self](const CreateResult& r) {
      if (r.status.ok()) return self->Finish(r);
      Error e = r.status.code();
      if (e == Error::kNodeExists || IsOutcomeUnknown(e)) return self->Check();
      self->Finish(r);
    });
    if (!st.ok()) Finish({st, "", {}});
  }

  // Is the node there, and is it ours?
  void Check() {
    if (SessionChanged()) {
      Finish(
          {Status(Error::kSessionExpired, path + ": the session changed while creating"), "", {}});
      return;
    }
    auto self = shared_from_this();
    Status st = client->ExistsAsync(path, [self](const StatResult& r) {
      Error e = r.status.code();
      if (e == Error::kNoNode) return self->Attempt();
      if (IsOutcomeUnknown(e)) {
        if (++self->attempts > kMaxAttempts) return self->Finish({r.status, "", {}});
        return self->Check();
      }
      if (!r.status.ok()) return self->Finish({r.status, "", {}});
      int64_t mine = self->impl->HandleSessionId();
      if (r.stat.ephemeral_owner == mine && mine != 0) {
        return self->Finish({Status(), self->path, r.stat});
      }
      self->Finish({Status(Error::kNodeExists,
                           self->path + " is owned by session " + Hex(r.stat.ephemeral_owner) +
                               (r.stat.ephemeral_owner == 0 ? " (a persistent node)" : "")),
                    "", r.stat});
    });
    if (!st.ok()) Finish({st, "", {}});
  }
};

}  // namespace

Status Client::CreateOwnedEphemeralAsync(std::string_view path, std::string_view data,
                                         const CreateOptions& options, CreateCallback done) {
  if (options.mode != CreateMode::kEphemeral) {
    return Status(Error::kBadArguments,
                  std::string(path) + ": CreateOwnedEphemeral needs CreateMode::kEphemeral");
  }
  if (impl_->closed.load()) return Status(Error::kClosed, std::string(path));
  auto op = std::make_shared<OwnedCreate>();
  op->client = this;
  op->impl = impl_.get();
  op->path = std::string(path);
  op->data = std::string(data);
  op->options = options;
  op->done = std::move(done);
  op->session = impl_->HandleSessionId();
  ++op->attempts;
  auto self = op;
  Status st = CreateAsync(path, data, options, [self](const CreateResult& r) {
    if (r.status.ok()) return self->Finish(r);
    Error e = r.status.code();
    if (e == Error::kNodeExists || IsOutcomeUnknown(e)) return self->Check();
    self->Finish(r);
  });
  return st;
}

// ---- sync --------------------------------------------------------------------------------

namespace {

template <class R>
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  R result;
};

}  // namespace

template <class R, class Submit>
static R SyncCall(Client::Impl* impl, std::string_view what, Submit&& submit) {
  R r;
  if (tl_in_c_callback) {
    r.status = Status(Error::kWouldDeadlock, std::string(what));
    return r;
  }
  auto w = std::make_shared<Waiter<R>>();
  Status st = submit([w](const R& result) {
    std::lock_guard<std::mutex> lock(w->mu);
    w->result = result;
    w->done = true;
    w->cv.notify_all();
  });
  if (!st.ok()) {
    r.status = st;
    return r;
  }
  std::unique_lock<std::mutex> lock(w->mu);
  if (!w->cv.wait_for(lock, impl->op_timeout, [&] { return w->done; })) {
    r.status =
        Status(Error::kOperationTimeout, std::string(what) + ": no answer within " +
                                             std::to_string(impl->op_timeout.count()) + " ms");
    return r;
  }
  return std::move(w->result);
}

CreateResult Client::Create(std::string_view path, std::string_view data,
                            const CreateOptions& options) {
  return SyncCall<CreateResult>(impl_.get(), path, [&](CreateCallback cb) {
    return CreateAsync(path, data, options, std::move(cb));
  });
}

Status Client::Delete(std::string_view path, int version) {
  return SyncCall<StatResult>(
             impl_.get(), path,
             [&](StatCallback cb) { return DeleteAsync(path, version, std::move(cb)); })
      .status;
}

Status Client::Sync(std::string_view path) {
  return SyncCall<StatResult>(impl_.get(), path,
                              [&](StatCallback cb) { return SyncAsync(path, std::move(cb)); })
      .status;
}

StatResult Client::Exists(std::string_view path, WatchFn watch) {
  return SyncCall<StatResult>(impl_.get(), path, [&](StatCallback cb) {
    return ExistsAsync(path, std::move(cb), std::move(watch));
  });
}

DataResult Client::Get(std::string_view path, WatchFn watch) {
  return SyncCall<DataResult>(impl_.get(), path, [&](DataCallback cb) {
    return GetAsync(path, std::move(cb), std::move(watch));
  });
}

StatResult Client::Set(std::string_view path, std::string_view data, int version) {
  return SyncCall<StatResult>(impl_.get(), path, [&](StatCallback cb) {
    return SetAsync(path, data, version, std::move(cb));
  });
}

ChildrenResult Client::GetChildren(std::string_view path, WatchFn watch) {
  return SyncCall<ChildrenResult>(impl_.get(), path, [&](ChildrenCallback cb) {
    return GetChildrenAsync(path, std::move(cb), std::move(watch));
  });
}

MultiResult Client::Multi(std::vector<Op> ops) {
  return SyncCall<MultiResult>(impl_.get(), "multi", [&](MultiCallback cb) {
    return MultiAsync(std::move(ops), std::move(cb));
  });
}

DataResult Client::GetConfig(WatchFn watch) {
  return SyncCall<DataResult>(impl_.get(), "/zookeeper/config", [&](DataCallback cb) {
    return GetConfigAsync(std::move(cb), std::move(watch));
  });
}

Status Client::GetEnsembleConfig(EnsembleConfig* out) {
  DataResult r = GetConfig();
  if (!r.status.ok()) return r.status;
  return ParseEnsembleConfig(r.data, out);
}

DataResult Client::Reconfig(const std::vector<std::string>& joining,
                            const std::vector<int>& leaving,
                            const std::vector<std::string>& members, int64_t from_version) {
  return SyncCall<DataResult>(impl_.get(), "reconfig", [&](DataCallback cb) {
    return ReconfigAsync(joining, leaving, members, from_version, std::move(cb));
  });
}

DataResult Client::AddMembers(const std::vector<Member>& members) {
  std::vector<std::string> lines;
  for (const Member& m : members) lines.push_back(m.ServerLine());
  return Reconfig(lines, {});
}

DataResult Client::RemoveMembers(const std::vector<int>& ids) { return Reconfig({}, ids); }

CreateResult Client::CreateOwnedEphemeral(std::string_view path, std::string_view data,
                                          const CreateOptions& options) {
  return SyncCall<CreateResult>(impl_.get(), path, [&](CreateCallback cb) {
    return CreateOwnedEphemeralAsync(path, data, options, std::move(cb));
  });
}

Status Client::AddDigestAuth(const DigestCredential& credential) {
  {
    std::lock_guard<std::mutex> lock(impl_->state_mu);
    impl_->auth.push_back(credential);
  }
  std::string what = "digest auth for user " + credential.user;
  return SyncCall<StatResult>(impl_.get(), what,
                              [&](StatCallback cb) {
                                auto ctx = std::make_unique<StatCtx>();
                                ctx->path = what;
                                ctx->done = std::move(cb);
                                StatCtx* raw = ctx.get();
                                std::string cert = credential.user + ":" + credential.password;
                                Status st = impl_->WithHandle(what, [&](zhandle_t* h) {
                                  return zoo_add_auth(h, "digest", cert.data(),
                                                      static_cast<int>(cert.size()), &VoidDone,
                                                      raw);
                                });
                                if (st.ok()) ctx.release();
                                return st;
                              })
      .status;
}

Status Client::DeleteTree(std::string_view path) {
  ChildrenResult children = GetChildren(path);
  if (!children.status.ok()) return children.status;
  std::string base(path);
  if (base != "/") base.push_back('/');
  for (const std::string& child : children.children) {
    Status st = DeleteTree(base + child);
    if (!st.ok() && st.code() != Error::kNoNode) return st;
  }
  Status st = Delete(path);
  return st;
}

namespace {

std::unique_ptr<KeptWatch> StartKeptWatch(Client* client, std::shared_ptr<KeptWatch::State> state) {
  std::weak_ptr<KeptWatch::State> weak = state;
  // A new session (the first, or one after expiry) arms again; until the client is started
  // the first Arm() is refused and the first session arms it.
  state->listener = client->AddSessionListener([weak](int64_t) {
    if (auto s = weak.lock()) s->Arm();
  });
  state->Arm();
  return std::make_unique<KeptWatch>(std::move(state));
}

}  // namespace

std::unique_ptr<KeptWatch> Client::KeepWatchingData(std::string path, DataCallback on_change) {
  auto state = std::make_shared<KeptWatch::State>();
  state->client = this;
  state->path = std::move(path);
  state->on_data = std::move(on_change);
  return StartKeptWatch(this, std::move(state));
}

std::unique_ptr<KeptWatch> Client::KeepWatchingChildren(std::string path,
                                                        ChildrenCallback on_change) {
  auto state = std::make_shared<KeptWatch::State>();
  state->client = this;
  state->path = std::move(path);
  state->on_children = std::move(on_change);
  return StartKeptWatch(this, std::move(state));
}

}  // namespace zkop::zk
