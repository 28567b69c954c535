// The meta.k8s.io/v1 Table rendering kubectl asks for (Accept: ...;as=Table;g=meta.k8s.io).
//
// Contract: pure; never throws.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "json_util.h"
#include "zkop/devkube/resource_types.h"

namespace zkop::devkube {

enum class IncludeObject { kNone, kMetadata, kObject };

// Parses the includeObject query parameter (default Metadata).
IncludeObject ParseIncludeObject(const std::string& value);

// A Table of `objects` with NAME plus the type's printer columns. `list_metadata` (the list's
// resourceVersion / continue) becomes the Table's metadata.
Json ToTable(const ResourceType& type, const std::vector<Json>& objects, const Json& list_metadata,
             IncludeObject include, std::chrono::system_clock::time_point now);

}  // namespace zkop::devkube
