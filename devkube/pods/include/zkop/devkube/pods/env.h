// A container's environment as the kubelet computes it: envFrom (ConfigMaps, Secrets, with
// prefix), then env in order (later entries win), each value with $(VAR) references to
// earlier variables expanded ("$$" is a literal "$"; unknown references stay as written).
// Sources: value, fieldRef (downward API), configMapKeyRef and secretKeyRef (optional flag).
//
// Contract: pure, thread-safe. A missing required object or key, or an unsupported field, is
// an EnvError whose message is what the kubelet would say; the container then waits with
// reason CreateContainerConfigError. Values are never logged (they may be secrets).
#pragma once

#include <cpprest/json.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zkop::devkube::pods {

// Looks up a ConfigMap or Secret ("configmaps"/"secrets") in the Pod's namespace; nullopt when
// it does not exist.
using ObjectLookup = std::function<std::optional<web::json::value>(const std::string& resource,
                                                                   const std::string& name)>;

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct EnvResult {
  EnvList vars;       // in definition order, each name once (last definition wins)
  std::string error;  // non-empty: the container cannot start
};

// `status` supplies status.podIP / status.hostIP / status.podIPs for fieldRefs (the runtime's
// own view, which may be ahead of the stored object).
EnvResult ResolveEnv(const web::json::value& pod, const web::json::value& container,
                     const web::json::value& status, const ObjectLookup& lookup);

// Expands $(NAME) references in `text` from `vars` (Kubernetes' expansion rules).
std::string ExpandReferences(const std::string& text, const EnvList& vars);

// The value of a downward-API field path of `pod` ("metadata.name",
// "metadata.labels['app']", "status.podIP", ...); nullopt when the path is unsupported.
std::optional<std::string> FieldPathValue(const web::json::value& pod,
                                          const web::json::value& status, const std::string& path);

// Decodes standard base64 (Secret data); nullopt on malformed input.
std::optional<std::string> DecodeBase64(const std::string& text);

}  // namespace zkop::devkube::pods
