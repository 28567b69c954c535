// zkop::zk::Client's session and lifecycle: construction, state and session listeners,
// Start / WaitConnected / Connect / Close, the state and session getters, and DeleteTree. The
// machinery behind them is Client::Impl (client_impl.h, client_impl.cc); the operations are in
// client_async.cc and client_sync.cc, kept watches in kept_watch.cc.
#include "zkop/zk/client.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "c_log.h"
#include "client_impl.h"

namespace zkop::zk {

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

}  // namespace zkop::zk
