#include "protobuf_body.h"

#include <google/protobuf/io/coded_stream.h>

#include <functional>
#include <memory>

#include "k8s/apps_v1.pb.h"
#include "k8s/coordination_v1.pb.h"
#include "k8s/core_v1.pb.h"
#include "k8s/events_v1.pb.h"
#include "k8s/meta_v1.pb.h"
#include "k8s/policy_v1.pb.h"
#include "k8s/rbac_v1.pb.h"
#include "k8s/runtime.pb.h"
#include "protobuf_json.h"

namespace zkop::devkube {
namespace {

namespace pb = google::protobuf;
namespace core = ::k8s::io::api::core::v1;

constexpr char kMagic[4] = {'k', '8', 's', '\0'};
// Kubernetes objects nest a dozen levels; the library's default limit is 100.
constexpr int kRecursionLimit = 64;

struct KindEntry {
  std::string api_version;  // "v1", "apps/v1"
  std::string kind;
  std::function<std::unique_ptr<pb::Message>()> make;
};

template <typename T>
KindEntry Entry(std::string api_version, std::string kind) {
  return {std::move(api_version), std::move(kind), [] { return std::make_unique<T>(); }};
}

const std::vector<KindEntry>& Kinds() {
  static const std::vector<KindEntry> kKinds = {
      Entry<core::Secret>("v1", "Secret"),
      Entry<core::ConfigMap>("v1", "ConfigMap"),
      Entry<core::Namespace>("v1", "Namespace"),
      Entry<core::ServiceAccount>("v1", "ServiceAccount"),
      Entry<core::Service>("v1", "Service"),
      Entry<core::Pod>("v1", "Pod"),
      Entry<core::Event>("v1", "Event"),
      Entry<::k8s::io::api::apps::v1::Deployment>("apps/v1", "Deployment"),
      Entry<::k8s::io::api::rbac::v1::Role>("rbac.authorization.k8s.io/v1", "Role"),
      Entry<::k8s::io::api::rbac::v1::RoleBinding>("rbac.authorization.k8s.io/v1", "RoleBinding"),
      Entry<::k8s::io::api::rbac::v1::ClusterRole>("rbac.authorization.k8s.io/v1", "ClusterRole"),
      Entry<::k8s::io::api::rbac::v1::ClusterRoleBinding>("rbac.authorization.k8s.io/v1",
                                                          "ClusterRoleBinding"),
      Entry<::k8s::io::api::policy::v1::PodDisruptionBudget>("policy/v1", "PodDisruptionBudget"),
      Entry<::k8s::io::api::coordination::v1::Lease>("coordination.k8s.io/v1", "Lease"),
      Entry<::k8s::io::api::events::v1::Event>("events.k8s.io/v1", "Event"),
  };
  return kKinds;
}

// Parses `bytes` into `message` with a bounded recursion depth; unknown fields are kept (and
// later rejected by ProtoToJson).
bool ParseBounded(const std::string& bytes, pb::Message* message) {
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  in.SetRecursionLimit(kRecursionLimit);
  return message->MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

ApiStatus Unsupported(const std::string& why) {
  std::string kinds;
  for (const std::string& k : ProtobufKinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  return ApiStatus::Error(415, "UnsupportedMediaType",
                          "the body of the request was in an unknown format - accepted media "
                          "types include: application/json, application/yaml, "
                          "application/vnd.kubernetes.protobuf (zkop-devkube decodes protobuf "
                          "for " +
                              kinds + " and DeleteOptions): " + why);
}

ApiStatus Undecodable(const std::string& why) {
  return ApiStatus::BadRequest("the body of the request could not be decoded as protobuf: " + why);
}

}  // namespace

bool IsProtobufContentType(const std::string& content_type) {
  std::string media = Lower(content_type.substr(0, content_type.find(';')));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  while (!media.empty() && media.front() == ' ') media.erase(0, 1);
  return media == "application/vnd.kubernetes.protobuf";
}

bool AcceptsOnlyProtobuf(const std::string& accept) {
  bool any = false;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    std::string item =
        accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? accept.size() + 1 : comma + 1;
    std::string media = Lower(item.substr(0, item.find(';')));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    while (!media.empty() && media.front() == ' ') media.erase(0, 1);
    if (media.empty()) continue;
    if (media != "application/vnd.kubernetes.protobuf") return false;
    any = true;
  }
  return any;
}

std::vector<std::string> ProtobufKinds() {
  std::vector<std::string> out;
  for (const KindEntry& k : Kinds()) out.push_back(k.api_version + "/" + k.kind);
  return out;
}

Result<Json> DecodeProtobufBody(const std::string& body, const std::string& default_api_version,
                                const std::string& default_kind) {
  Result<Json> r;
  if (body.size() > kMaxProtobufBody) {
    r.status =
        ApiStatus::Error(413, "RequestEntityTooLarge",
                         "Request entity too large: limit is " + std::to_string(kMaxProtobufBody));
    return r;
  }
  if (body.size() < sizeof kMagic || body.compare(0, sizeof kMagic, kMagic, sizeof kMagic) != 0) {
    r.status = Undecodable(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
    return r;
  }
  ::k8s::io::apimachinery::pkg::runtime::Unknown envelope;
  if (!ParseBounded(body.substr(sizeof kMagic), &envelope)) {
    r.status = Undecodable("malformed runtime.Unknown envelope");
    return r;
  }
  if (!envelope.contentencoding().empty()) {
    r.status = Unsupported("contentEncoding \"" + ValidUtf8(envelope.contentencoding()) +
                           "\" is not supported");
    return r;
  }
  std::string api_version = ValidUtf8(envelope.typemeta().apiversion());
  std::string kind = ValidUtf8(envelope.typemeta().kind());
  if (api_version.empty()) api_version = default_api_version;
  if (kind.empty()) kind = default_kind;
  std::unique_ptr<pb::Message> message;
  // DeleteOptions is registered in every group version (and as meta.k8s.io/v1).
  if (kind == "DeleteOptions")
    message = std::make_unique<::k8s::io::apimachinery::pkg::apis::meta::v1::DeleteOptions>();
  for (const KindEntry& k : Kinds())
    if (!message && k.api_version == api_version && k.kind == kind) message = k.make();
  if (!message) {
    r.status = Unsupported("no protobuf decoder for " + api_version + ", Kind=" + kind);
    return r;
  }
  if (!ParseBounded(envelope.raw(), message.get())) {
    r.status = Undecodable("malformed " + message->GetDescriptor()->full_name() + " message");
    return r;
  }
  ProtoJsonError error;
  std::optional<Json> object = ProtoToJson(*message, &error);
  if (!object) {
    r.status = error.kind == ProtoJsonError::Kind::kUnmodelled
                   ? Unsupported(error.message)
                   : Undecodable(kind + ": " + error.message);
    return r;
  }
  (*object)["apiVersion"] = Json::string(api_version);
  (*object)["kind"] = Json::string(kind);
  r.value = std::move(*object);
  return r;
}

}  // namespace zkop::devkube
