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

namespace zkop::devkube {

struct ProtoJsonError {
  enum class Kind { kUnmodelled, kInvalid };
  Kind kind = Kind::kInvalid;
  std::string message;
};

inline constexpr int kMaxProtoDepth = 64;

// The JSON form of `message`; nullopt and *error on failure.
std::optional<Json> ProtoToJson(const google::protobuf::Message& message, ProtoJsonError* error);

// RFC 3339 in UTC: "2024-05-01T10:00:00Z" (micro_digits = false) or
// "2024-05-01T10:00:00.123456Z". nullopt outside years 0001..9999 or for nanos outside
// [0, 1e9).
std::optional<std::string> FormatUnixTime(int64_t seconds, int32_t nanos, bool micro_digits);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD (as Go's encoding/json does).
std::string ValidUtf8(const std::string& text);

}  // namespace zkop::devkube
