// The three patch formats of the Kubernetes API, applied to JSON documents.
//
// Contract: pure functions; never throw. A failure returns false with *error naming the
// operation or path that could not be applied.
#pragma once

#include <string>

#include "json_util.h"

namespace zkop::devkube {

// RFC 7386 JSON merge patch.
Json ApplyMergePatch(const Json& target, const Json& patch);

// RFC 6902 JSON patch: add, remove, replace, move, copy, test.
bool ApplyJsonPatch(Json& target, const Json& patch, std::string* error);

// Strategic merge patch, approximated without Go type information: lists of objects are
// merged by a key chosen from the field name (containers/env/volumes/... by "name", ports by
// "containerPort" or "port", volumeMounts by "mountPath", conditions by "type",
// ownerReferences by "uid"), finalizers are merged as a set, every other list is replaced.
// Directives: $patch (replace, delete, merge), $retainKeys, $deleteFromPrimitiveList/<f>;
// $setElementOrder/<f> is accepted and applied to the merged list's order.
bool ApplyStrategicMergePatch(Json& target, const Json& patch, std::string* error);

}  // namespace zkop::devkube
