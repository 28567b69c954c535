// Kept watches: KeptWatch::State re-arms a data or children read after every event and after
// every new session (a session listener), delivers each result to the owner's callback, and
// waits for creation with an exists watch while the node is absent; KeptWatch::Stop and the
// Client::KeepWatching* entry points.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "client_impl.h"

namespace zkop::zk {

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
