// The asynchronous operations of zkop::zk::Client: each builds a completion context,
// submits the C client's zoo_a* call on the current handle and, from the completion, turns the
// C answer (Stat, strings, multi results) into zkop types and hands it to the caller's
// callback. Create with make_parents pipelines the missing parents before retrying; reads may
// arm a one-shot watch (registered in Client::Impl); multi, getConfig and reconfig live here too.
#include <zookeeper/zookeeper.h>

#include <memory>
#include <string>
#include <vector>

#include "client_impl.h"
#include "zkop/zk/acl.h"

namespace zkop::zk {
namespace {

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

void NoopStringCompletion(int, const char*, const void*) {}

}  // namespace

void VoidDone(int rc, const void* data) {
  CallbackScope scope;
  std::unique_ptr<StatCtx> ctx(static_cast<StatCtx*>(const_cast<void*>(data)));
  Invoke(ctx->done, StatResult{Status::FromZoo(rc, ctx->path), {}});
}

namespace {

// Completion contexts (StatCtx is in client_impl.h): owned by the C client from a successful
// submission until the completion, which deletes them.
struct CreateCtx {
  Client::Impl* impl;
  std::string path;
  std::string data;
  CreateOptions options;
  CreateCallback done;
  bool parents_made = false;
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

}  // namespace zkop::zk
