// Kubernetes' two timestamp forms: metav1.Time (RFC 3339, whole seconds) and metav1.MicroTime
// (RFC 3339 with exactly 6 fractional digits, "2006-01-02T15:04:05.000000Z07:00").
//
// Contract: nothing here throws; failures come back as nullopt or a Status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "json_util.h"
#include "zkop/devkube/resource_types.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

// Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds.
inline constexpr int64_t kGoZeroTimeSeconds = -62135596800;

// RFC 3339 in UTC: "2024-05-01T10:00:00Z" (micro_digits = false) or
// "2024-05-01T10:00:00.123456Z" (nanos truncated to microseconds). nullopt outside years
// 0001..9999 or for nanos outside [0, 1e9).
std::optional<std::string> FormatUnixTime(int64_t seconds, int32_t nanos, bool micro_digits);

// Parses `text` with Go's time.Parse(RFC3339Micro, text), which is what the real server does
// with a MicroTime in JSON: exactly 6 fractional digits, then "Z" or an offset ±hh:mm. On
// success answers the same instant in the stored form (UTC, "Z"); on failure nullopt and
// *error in Go's words: `parsing time "..." as "2006-01-02T15:04:05.000000Z07:00": cannot
// parse "Z" as ".000000"`.
std::optional<std::string> NormalizeMicroTime(const std::string& text, std::string* error);

// Normalizes the MicroTime fields of the kinds that have them on every write: Lease
// spec.acquireTime / spec.renewTime; core/v1 and events.k8s.io/v1 Event eventTime and
// series.lastObservedTime. null is left alone. A value the real server cannot parse is a 400
// "<Kind> in version \"<v>\" cannot be handled as a <Kind>: <parse error>".
ApiStatus NormalizeMicroTimes(const ResourceType& type, Json& object);

}  // namespace zkop::devkube
