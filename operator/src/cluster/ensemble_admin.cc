#include "zkop/operator/cluster/ensemble_admin.h"

#include "zkop/zk/acl.h"
#include "zkop/zk/client.h"

namespace zkop::op::cluster {
namespace {

constexpr const char* kMembershipNode = "/zkop/membership";

class ZkEnsembleAdmin : public EnsembleAdmin {
 public:
  ZkEnsembleAdmin(std::unique_ptr<zk::Client> client, std::string password)
      : client_(std::move(client)), password_(std::move(password)) {}

  zk::Status ReadConfig(zk::EnsembleConfig* out) override {
    if (zk::Status s = client_->Sync("/"); !s.ok()) return s;
    return client_->GetEnsembleConfig(out);
  }

  zk::Status Add(const zk::Member& member, int64_t from_version, zk::EnsembleConfig* out) override {
    return Parse(client_->Reconfig({member.ServerLine()}, {}, {}, from_version), out);
  }

  zk::Status Remove(int id, int64_t from_version, zk::EnsembleConfig* out) override {
    return Parse(client_->Reconfig({}, {id}, {}, from_version), out);
  }

  zk::Status ConfirmWithWrite(const std::string& note) override {
    const zk::StatResult set = client_->Set(kMembershipNode, note);
    if (set.status.ok()) return set.status;
    if (set.status.code() != zk::Error::kNoNode) return set.status;
    zk::CreateOptions options;
    options.make_parents = true;
    options.acl = {zk::DigestAclEntry("super", password_, zk::perm::kAll)};
    const zk::CreateResult created = client_->Create(kMembershipNode, note, options);
    if (created.status.code() == zk::Error::kNodeExists)
      return client_->Set(kMembershipNode, note).status;
    return created.status;
  }

 private:
  static zk::Status Parse(const zk::DataResult& result, zk::EnsembleConfig* out) {
    if (!result.status.ok()) return result.status;
    return zk::ParseEnsembleConfig(result.data, out);
  }

  std::unique_ptr<zk::Client> client_;
  std::string password_;
};

}  // namespace

zk::Status ConnectEnsembleAdmin(const std::string& connect, const std::string& password,
                                std::chrono::milliseconds timeout,
                                std::unique_ptr<EnsembleAdmin>* out) {
  zk::ClientOptions options;
  options.connect = connect;
  options.session_timeout = std::chrono::seconds(10);
  options.operation_timeout = timeout;
  options.digest_auth = {{"super", password}};
  options.name = "operator.admin";
  auto client = std::make_unique<zk::Client>(options);
  if (zk::Status s = client->Connect(timeout); !s.ok()) return s;
  *out = std::make_unique<ZkEnsembleAdmin>(std::move(client), password);
  return {};
}

}  // namespace zkop::op::cluster
