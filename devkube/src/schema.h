// Structural-schema handling for custom resources, as apiextensions-apiserver does it:
// defaulting, pruning of unknown fields, and validation with the real server's messages
// ("spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal
// to 1").
//
// Supported keywords: type, properties, additionalProperties, items, required, enum,
// minimum/maximum (+exclusive), multipleOf, pattern (ECMAScript), minLength/maxLength,
// minItems/maxItems, nullable, default, x-kubernetes-int-or-string,
// x-kubernetes-preserve-unknown-fields, x-kubernetes-embedded-resource.
//
// Contract: pure functions; never throw (a pattern the regex engine rejects is reported as
// a validation cause).
#pragma once

#include <string>
#include <vector>

#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

// Fills in `default`s and removes fields the schema does not declare (apiVersion, kind and
// metadata at the root are kept). Pruned field paths ("spec.foo") go to *pruned.
void DefaultAndPrune(Json& object, const Json& schema, std::vector<std::string>* pruned);

// Validates `object` (root: a whole custom resource; apiVersion, kind and metadata are not
// checked here). Empty when valid.
std::vector<StatusCause> ValidateAgainstSchema(const Json& object, const Json& schema);

}  // namespace zkop::devkube
