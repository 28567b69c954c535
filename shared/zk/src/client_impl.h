// Private to shared/zk/src (not installed): what the files implementing zkop::zk::Client
// share. `Client::Impl` (the C handle, session state, listeners, event thread, one-shot
// watch registry; its longer bodies are in client_impl.cc), the context the C client hands
// to the global watcher, the guards every callback into user code goes through (a
// thread-local "inside a C callback" flag, exception-swallowing `Invoke`), and the one
// completion context / completion that the sync wrappers share with the async operations.
#pragma once

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "zkop/zk/acl.h"
#include "zkop/zk/client.h"

namespace zkop::zk {

// True while this thread runs a C client callback (completion or watcher).
inline thread_local bool tl_in_c_callback = false;

class CallbackScope {
 public:
  CallbackScope() : previous_(tl_in_c_callback) { tl_in_c_callback = true; }
  ~CallbackScope() { tl_in_c_callback = previous_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  bool previous_;
};

inline const log::Logger& CallbackLogger() {
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

inline std::string Hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

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

  // ---- event thread (client_impl.cc) -----------------------------------------------------
  void Post(std::function<void()> fn);
  void EventLoop();
  void StopEvents();

  // ---- state (client_impl.cc) ------------------------------------------------------------
  // Returns true when the state changed.
  bool SetState(State s);
  void NotifyState(State s);
  void NotifySession(int64_t id);
  uint64_t CurrentGeneration();
  // Creates a handle (a new session, or the resumed one) and makes it current; closes the
  // previous handle. Runs on Start() and on the event thread.
  Status OpenHandle(const clientid_t* resume);
  static void GlobalWatcher(zhandle_t* h, int type, int state_code, const char*, void* ctx);
  void OnSessionEvent(uint64_t gen, int code, int64_t sid, const std::string& password,
                      int timeout_ms);
  std::string ConnectedServer() const;
  // The session id the C handle uses right now (valid across reconnects).
  int64_t HandleSessionId() const;

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

  // ---- watches (client_impl.cc, but for the template) ------------------------------------
  uint64_t RegisterWatch(WatchFn fn);
  uint64_t CurrentGenerationUnlocked();
  void DropWatch(uint64_t id);
  void FireWatch(uint64_t id, EventType type, std::string path);
  // Every watch armed on a handle of generation <= gen is gone with its session.
  void ExpireWatches(uint64_t gen);
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

  static void WatchTrampoline(zhandle_t* h, int type, int state_code, const char* path, void* ctx);
  static void* WatchCtx(uint64_t id) { return reinterpret_cast<void*>(static_cast<uintptr_t>(id)); }
};

// The completion context of deletes, syncs, sets, exists and digest auth (client_async.cc
// defines the completions): owned by the C client from a successful submission until the
// completion, which deletes it.
struct StatCtx {
  std::string path;
  StatCallback done;
  Client::Impl* impl = nullptr;
  uint64_t watch = 0;  // exists: the watch stays armed on ZOK and ZNONODE
};

// Completes a StatCtx for a void answer (delete, digest auth).
void VoidDone(int rc, const void* data);

}  // namespace zkop::zk
