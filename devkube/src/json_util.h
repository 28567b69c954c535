// Small helpers over web::json::value shared by the emulator's sources.
//
// Contract: none of these throw; lookups answer nullptr / "" / nullopt when a step is missing
// or has the wrong type.
#pragma once

#include <cpprest/json.h>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace zkop::devkube {

using Json = web::json::value;

// Follows object keys; nullptr when a step is absent or not an object.
const Json* Find(const Json& v, std::initializer_list<std::string_view> path);
// The string at `path`, or "" when absent or not a string.
std::string GetString(const Json& v, std::initializer_list<std::string_view> path);
// The object field `key` of `v`, made an object (and created) when needed.
Json& Child(Json& v, const std::string& key);
bool HasKey(const Json& v, const std::string& key);
void EraseKey(Json& v, const std::string& key);

// Parses JSON without throwing; nullopt and *error set on bad input.
std::optional<Json> ParseJson(const std::string& text, std::string* error);
// Parses YAML (a single document) into JSON; nullopt and *error (line, column) on bad input.
std::optional<Json> ParseYamlAsJson(const std::string& text, std::string* error);

std::string FormatTime(std::chrono::system_clock::time_point t);  // RFC 3339, seconds, "Z"
std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& text);
std::string NewUid();                // random RFC 4122 version 4
std::string RandomSuffix(size_t n);  // generateName alphabet: bcdfghjklmnpqrstvwxz2456789

// Simple JSONPath as used by printer columns and the scale subresource: ".a.b", ".a[0].b",
// ".a[?(@.type==\"Ready\")].status", optionally wrapped in {}.
std::optional<Json> EvalJsonPath(const Json& v, const std::string& path);
// Sets the value at a dotted path (".spec.replicas"), creating objects on the way. False when
// the path is not a plain dotted path or crosses a non-object.
bool SetJsonPath(Json& v, const std::string& path, Json value);

// kubectl's human durations ("45s", "5m10s", "3h", "2d4h") as printed in AGE columns.
std::string HumanDuration(std::chrono::seconds d);

// Standard base64 (with padding), as Secret data is stored.
std::string Base64(const std::string& in);

// Compact rendering used in Status messages: strings quoted, numbers plain.
std::string ValueForMessage(const Json& v);

}  // namespace zkop::devkube
