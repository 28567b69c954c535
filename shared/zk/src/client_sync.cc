// The synchronous operations of zkop::zk::Client: each submits its *Async twin and waits for
// the completion, bounded by the operation timeout (SyncCall), refusing to block inside a
// ZooKeeper callback. AddDigestAuth is here too: it records the credential for later sessions
// and waits for the server's answer on the current one.
#include <zookeeper/zookeeper.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "client_impl.h"

namespace zkop::zk {

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

}  // namespace zkop::zk
