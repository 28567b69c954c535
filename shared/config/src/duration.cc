#include "zkop/config/duration.h"

#include <cctype>
#include <cmath>

namespace zkop::config {
namespace {

bool UnitNanos(std::string_view unit, double* nanos) {
  if (unit == "ns") *nanos = 1;
  else if (unit == "us" || unit == "µs") *nanos = 1e3;
  else if (unit == "ms") *nanos = 1e6;
  else if (unit == "s") *nanos = 1e9;
  else if (unit == "m") *nanos = 60e9;
  else if (unit == "h") *nanos = 3600e9;
  else return false;
  return true;
}

std::optional<std::chrono::milliseconds> Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text, std::string* error) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  if (text.empty()) return Fail(error, "empty duration; expected e.g. 500ms, 30s, 1m");
  if (text == "0") return std::chrono::milliseconds(0);
  double total_nanos = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (start == i) {
      return Fail(error, quoted + " is not a duration: expected a number at position " +
                             std::to_string(start + 1) + " (e.g. 500ms, 30s, 1m, 1h30m)");
    }
    std::string number(text.substr(start, i - start));
    if (number.find('.') != number.rfind('.') || number == ".") {
      return Fail(error, quoted + " is not a duration: malformed number \"" + number + "\"");
    }
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i])) && text[i] != '.')
      ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double nanos_per_unit;
    if (unit.empty()) {
      return Fail(error, quoted + " is not a duration: missing unit after " + number +
                             " (use ms, s, m or h, e.g. " + number + "s)");
    }
    if (!UnitNanos(unit, &nanos_per_unit)) {
      return Fail(error, quoted + " is not a duration: unknown unit \"" + std::string(unit) +
                             "\" (use ns, us, ms, s, m or h)");
    }
    total_nanos += std::stod(number) * nanos_per_unit;
  }
  if (total_nanos > 1e9 * 3600 * 24 * 365 * 100) {
    return Fail(error, quoted + " is too long a duration");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total_nanos / 1e6)));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  long long h = ms / 3600000;
  ms %= 3600000;
  long long m = ms / 60000;
  ms %= 60000;
  long long s = ms / 1000;
  ms %= 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (ms) out += std::to_string(ms) + "ms";
  return out;
}

}  // namespace zkop::config
