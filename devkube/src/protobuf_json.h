// Converts a decoded Kubernetes protobuf message into the JSON object the Kubernetes JSON API
// (and so the Store) uses for it.
//
// Contract:
//  - Field names are the proto field names, which Kubernetes' generated.proto takes from the
//    Go `json` tags. Kubernetes' own wrapper types become their JSON forms: meta/v1 Time (RFC
//    3339 seconds, the zero time omitted), MicroTime (6 fractional digits), IntOrString (number
//    or string), Quantity (its string), FieldsV1 (the embedded JSON). bytes are base64 (Secret
//    `data`, ConfigMap `binaryData`); strings that are not UTF-8 get U+FFFD, as Go's encoder
//    writes them.
//  - Zero values ("", 0, false, empty lists/maps/objects, null) are omitted unless the field
//    carries `(zkop.devkube.k8s.pointer)`; fields with `(zkop.devkube.k8s.inline)` are merged
//    into their parent (see devkube/proto/k8s/json_options.proto). Map values and list items
//    are kept as they are.
//  - Never throws. A field the .proto files do not model (an unknown field anywhere in the
//    tree) fails with kind kUnmodelled, naming its number and JSON path, instead of being
//    dropped; a value that has no JSON form (IntOrString type 7, a time past year 9999,
//    FieldsV1 that is not JSON) fails with kInvalid. Depth is bounded (kMaxDepth).
#pragma once

#include <google/protobuf/message.h>

#include <optional>
#include <string>

#include "json_util.h"
#include "k8s_time.h"

namespace zkop::devkube {

struct ProtoJsonError {
  enum class Kind { kUnmodelled, kInvalid };
  Kind kind = Kind::kInvalid;
  std::string message;
};

inline constexpr int kMaxProtoDepth = 64;

// The JSON form of `message`; nullopt and *error on failure.
std::optional<Json> ProtoToJson(const google::protobuf::Message& message, ProtoJsonError* error);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD (as Go's encoding/json does).
std::string ValidUtf8(const std::string& text);

}  // namespace zkop::devkube
