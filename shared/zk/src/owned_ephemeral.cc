// Client::CreateOwnedEphemeralAsync: creates an ephemeral node and, when the answer is lost
// or the node already exists, checks whether the node is owned by this session (so a retry
// after a connection loss is not mistaken for someone else's node); gives up after a bounded
// number of attempts or when the session changes underneath.
#include <memory>
#include <string>

#include "client_impl.h"

namespace zkop::zk {

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

}  // namespace zkop::zk
