// Durations as users write them: "500ms", "30s", "1m", "1h30m", "1.5s".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace zkop::config {

// Parses a Go-style duration: one or more <number><unit> terms, units ns, us, ms, s, m, h.
// A bare "0" is accepted. Returns nullopt and sets *error (if given) to what was wrong.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                       std::string* error = nullptr);

// The shortest exact spelling ("1m30s", "500ms", "0s").
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace zkop::config
