// Request bodies in Kubernetes' protobuf encoding (Content-Type
// application/vnd.kubernetes.protobuf), as client-go's typed clients send them: Helm's release
// storage, `kubectl create <kind>`, leader election.
//
// Wire format: the 4-byte magic "k8s\0", then a runtime.Unknown {typeMeta {apiVersion, kind},
// raw (the kind's own message), contentEncoding, contentType}.
//
// Contract: DecodeProtobufBody never throws. It answers the JSON object the JSON API would have
// received (see protobuf_json.h; apiVersion and kind from the envelope, or the defaults when
// the envelope leaves them empty, as the real server's decoder does), or a Status:
//  - 413 RequestEntityTooLarge past kMaxProtobufBody (the real server's 3 MiB body limit);
//  - 400 BadRequest for bytes that are not a protobuf envelope or message;
//  - 415 UnsupportedMediaType for a kind zkop-devkube has no .proto for, a content encoding,
//    or a field its .proto files do not model (so nothing is silently dropped).
#pragma once

#include <string>
#include <vector>

#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

inline constexpr size_t kMaxProtobufBody = 3 * 1024 * 1024;

// True for "application/vnd.kubernetes.protobuf" with or without parameters.
bool IsProtobufContentType(const std::string& content_type);

// True when an Accept header lists only protobuf media types (nothing JSON can answer), so
// the request gets 406 NotAcceptable like a JSON-only server's.
bool AcceptsOnlyProtobuf(const std::string& accept);

// Decodes a body. `default_api_version` / `default_kind` name the kind the URL implies
// ("v1", "Secret"; "v1", "DeleteOptions" for DELETE bodies).
Result<Json> DecodeProtobufBody(const std::string& body, const std::string& default_api_version,
                                const std::string& default_kind);

// "v1/Secret", "apps/v1/Deployment", ...: the kinds DecodeProtobufBody accepts, in the
// order the 415 message lists them.
std::vector<std::string> ProtobufKinds();

}  // namespace zkop::devkube
