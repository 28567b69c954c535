// Discovery and OpenAPI documents generated from the Store's resource types.
//
// Contract: pure functions of their arguments; never throw.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json_util.h"
#include "zkop/devkube/resource_types.h"

namespace zkop::devkube {

Json VersionInfo();                                         // /version
Json CoreApiVersions(const std::string& server_address);    // /api
Json ApiGroupList(const std::vector<ResourceType>& types);  // /apis
// /apis/<group>; nullopt when no type has that group.
std::optional<Json> ApiGroup(const std::vector<ResourceType>& types, const std::string& group);
// /api/v1 and /apis/<group>/<version>; nullopt when nothing is served there.
std::optional<Json> ApiResourceList(const std::vector<ResourceType>& types,
                                    const std::string& group, const std::string& version);
// /openapi/v3: the index of group-version documents.
Json OpenApiV3Index(const std::vector<ResourceType>& types);
// /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>. Every PATCH operation carries
// x-kubernetes-group-version-kind and the fieldValidation parameter, so kubectl leaves
// validation to the server; only custom resources carry their full schema.
std::optional<Json> OpenApiV3Document(const std::vector<ResourceType>& types,
                                      const std::string& group, const std::string& version);

// Kubernetes version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else.
bool VersionBefore(const std::string& a, const std::string& b);

}  // namespace zkop::devkube
