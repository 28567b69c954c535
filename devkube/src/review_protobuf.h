// Protobuf request bodies (application/vnd.kubernetes.protobuf: "k8s\0" + runtime.Unknown)
// of the kinds the front door answers itself — TokenRequest, SelfSubjectAccessReview,
// SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectReview, TokenReview — decoded into
// the JSON the same request would carry (the fields of their generated.proto that the server
// reads: specs; metadata is skipped). kubectl sends these as protobuf (`create token`,
// `auth can-i`, `auth whoami`).
//
// Contract: pure, never throws; nullopt + *error for bodies that are not such a message.
#pragma once

#include <optional>
#include <string>

#include "json_util.h"

namespace zkop::devkube {

std::optional<Json> DecodeReviewProtobuf(const std::string& body, std::string* error);

}  // namespace zkop::devkube
