// The body of Client::Impl (declared in client_impl.h): the event thread that serializes
// session events, the session state machine (connected, lost, expired -> a new handle), the
// C handle's lifecycle, and the registry of one-shot watches with their trampoline from C.
#include "client_impl.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "c_log.h"

namespace zkop::zk {
namespace {

EventType ToEventType(int type) {
  if (type == ZOO_CREATED_EVENT) return EventType::kCreated;
  if (type == ZOO_DELETED_EVENT) return EventType::kDeleted;
  if (type == ZOO_CHANGED_EVENT) return EventType::kDataChanged;
  return EventType::kChildrenChanged;
}

void NoopVoidCompletion(int, const void*) {}

}  // namespace

// ---- event thread -----------------------------------------------------------------------
void Client::Impl::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(events_mu);
  if (events_stop) return;
  events.push_back(std::move(fn));
  events_cv.notify_one();
}

void Client::Impl::EventLoop() {
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

void Client::Impl::StopEvents() {
  {
    std::lock_guard<std::mutex> lock(events_mu);
    events_stop = true;
    events.clear();
  }
  events_cv.notify_all();
  if (event_thread.joinable()) event_thread.join();
}

// ---- state ------------------------------------------------------------------------------
bool Client::Impl::SetState(State s) {
  std::lock_guard<std::mutex> lock(state_mu);
  if (state == s) return false;
  state = s;
  state_cv.notify_all();
  return true;
}

void Client::Impl::NotifyState(State s) {
  std::vector<StateListener> copy;
  {
    std::lock_guard<std::mutex> lock(listeners_mu);
    for (auto& [id, fn] : state_listeners) copy.push_back(fn);
  }
  for (auto& fn : copy) Invoke(fn, s);
}

void Client::Impl::NotifySession(int64_t id) {
  std::vector<SessionListener> copy;
  {
    std::lock_guard<std::mutex> lock(listeners_mu);
    for (auto& [lid, fn] : session_listeners) copy.push_back(fn);
  }
  for (auto& fn : copy) Invoke(fn, id);
}

uint64_t Client::Impl::CurrentGeneration() {
  std::shared_lock<std::shared_mutex> lock(handle_mu);
  return generation;
}

Status Client::Impl::OpenHandle(const clientid_t* resume) {
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

void Client::Impl::GlobalWatcher(zhandle_t* h, int type, int state_code, const char*, void* ctx) {
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

void Client::Impl::OnSessionEvent(uint64_t gen, int code, int64_t sid, const std::string& password,
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

std::string Client::Impl::ConnectedServer() const {
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

int64_t Client::Impl::HandleSessionId() const {
  std::shared_lock<std::shared_mutex> lock(handle_mu);
  if (zh == nullptr) return 0;
  const clientid_t* id = zoo_client_id(zh);
  return id == nullptr ? 0 : id->client_id;
}

// ---- watches ----------------------------------------------------------------------------
uint64_t Client::Impl::RegisterWatch(WatchFn fn) {
  std::lock_guard<std::mutex> lock(watch_mu);
  uint64_t id = next_watch++;
  watches[id] = WatchEntry{std::move(fn), CurrentGenerationUnlocked()};
  return id;
}

uint64_t Client::Impl::CurrentGenerationUnlocked() {
  std::shared_lock<std::shared_mutex> lock(handle_mu);
  return generation;
}

void Client::Impl::DropWatch(uint64_t id) {
  std::lock_guard<std::mutex> lock(watch_mu);
  watches.erase(id);
}

void Client::Impl::FireWatch(uint64_t id, EventType type, std::string path) {
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

void Client::Impl::ExpireWatches(uint64_t gen) {
  EndWatches([gen](uint64_t g) { return g <= gen; }, EventType::kSessionExpired);
}

void Client::Impl::WatchTrampoline(zhandle_t* h, int type, int state_code, const char* path,
                                   void* ctx) {
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

}  // namespace zkop::zk
