#include "k8s_time.h"

#include <cstdio>
#include <vector>

namespace zkop::devkube {
namespace {

constexpr const char* kMicroLayout = "2006-01-02T15:04:05.000000Z07:00";

// Days since 1970-01-01 to a civil date and back (proleptic Gregorian; H. Hinnant's
// algorithms).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned DaysIn(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::string Quote(const std::string& s) { return Json::string(s).serialize(); }

// A small reimplementation of Go's time.Parse for the one layout, with its error texts.
class MicroParser {
 public:
  explicit MicroParser(const std::string& text) : text_(text), rest_(text) {}

  std::optional<std::string> Parse(std::string* error) {
    int64_t year = 0;
    int month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0, offset = 0;
    if (!Digits(4, "2006", &year) || !Literal("-") || !Num2("01", &month) || !Literal("-") ||
        !Num2("02", &day) || !Literal("T") || !Num2("15", &hour) || !Literal(":") ||
        !Num2("04", &minute) || !Literal(":") || !Num2("05", &second) || !Fraction(&micros) ||
        !Zone(&offset)) {
      *error = error_;
      return std::nullopt;
    }
    std::string range;
    if (month < 1 || month > 12)
      range = "month";
    else if (day < 1 || static_cast<unsigned>(day) > DaysIn(year, static_cast<unsigned>(month)))
      range = "day";
    else if (hour > 23)
      range = "hour";
    else if (minute > 59)
      range = "minute";
    else if (second > 59)
      range = "second";
    if (!range.empty()) {
      *error = "parsing time " + Quote(text_) + ": " + range + " out of range";
      return std::nullopt;
    }
    if (!rest_.empty()) {
      *error = "parsing time " + Quote(text_) + ": extra text: " + Quote(rest_);
      return std::nullopt;
    }
    int64_t seconds =
        DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
        hour * 3600 + minute * 60 + second - offset;
    std::optional<std::string> out = FormatUnixTime(seconds, micros * 1000, true);
    if (!out) *error = "parsing time " + Quote(text_) + ": year out of range";
    return out;
  }

 private:
  bool Fail(const std::string& elem) {
    error_ = "parsing time " + Quote(text_) + " as " + Quote(kMicroLayout) + ": cannot parse " +
             Quote(rest_) + " as " + Quote(elem);
    return false;
  }
  bool Digits(size_t n, const char* elem, int64_t* out) {
    if (rest_.size() < n) return Fail(elem);
    int64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      if (rest_[i] < '0' || rest_[i] > '9') return Fail(elem);
      v = v * 10 + (rest_[i] - '0');
    }
    *out = v;
    rest_.erase(0, n);
    return true;
  }
  bool Num2(const char* elem, int* out) {
    int64_t v = 0;
    if (!Digits(2, elem, &v)) return false;
    *out = static_cast<int>(v);
    return true;
  }
  bool Literal(const char* lit) {
    const std::string l(lit);
    if (rest_.compare(0, l.size(), l) != 0) return Fail(l);
    rest_.erase(0, l.size());
    return true;
  }
  bool Fraction(int* micros) {
    // Exactly '.' (or ',') and 6 digits, as Go's stdFracSecond0.
    if (rest_.size() < 7 || (rest_[0] != '.' && rest_[0] != ',')) return Fail(".000000");
    int v = 0;
    for (size_t i = 1; i < 7; ++i) {
      if (rest_[i] < '0' || rest_[i] > '9') return Fail(".000000");
      v = v * 10 + (rest_[i] - '0');
    }
    *micros = v;
    rest_.erase(0, 7);
    return true;
  }
  bool Zone(int* offset) {
    if (!rest_.empty() && rest_[0] == 'Z') {
      rest_.erase(0, 1);
      *offset = 0;
      return true;
    }
    if (rest_.size() < 6 || (rest_[0] != '+' && rest_[0] != '-') || rest_[3] != ':')
      return Fail("Z07:00");
    for (size_t i : {1, 2, 4, 5})
      if (rest_[i] < '0' || rest_[i] > '9') return Fail("Z07:00");
    int hh = (rest_[1] - '0') * 10 + (rest_[2] - '0');
    int mm = (rest_[4] - '0') * 10 + (rest_[5] - '0');
    if (hh > 24 || mm > 59) {
      error_ = "parsing time " + Quote(text_) + ": time zone offset " +
               (hh > 24 ? "hour" : "minute") + " out of range";
      return false;
    }
    *offset = (rest_[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    rest_.erase(0, 6);
    return true;
  }

  const std::string& text_;
  std::string rest_;
  std::string error_;
};

}  // namespace

std::optional<std::string> FormatUnixTime(int64_t seconds, int32_t nanos, bool micro_digits) {
  // 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, the years RFC 3339 can write.
  if (seconds < kGoZeroTimeSeconds || seconds > 253402300799 || nanos < 0 || nanos >= 1000000000)
    return std::nullopt;
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t rest = seconds - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  const int hh = static_cast<int>(rest / 3600), mm = static_cast<int>(rest / 60 % 60),
            ss = static_cast<int>(rest % 60);
  char buf[48];
  if (micro_digits)
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<int>(year),
                  month, day, hh, mm, ss, nanos / 1000);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(year), month,
                  day, hh, mm, ss);
  return std::string(buf);
}

std::optional<std::string> NormalizeMicroTime(const std::string& text, std::string* error) {
  return MicroParser(text).Parse(error);
}

ApiStatus NormalizeMicroTimes(const ResourceType& type, Json& object) {
  std::vector<std::vector<std::string>> paths;
  if (type.group == "coordination.k8s.io" && type.resource == "leases")
    paths = {{"spec", "acquireTime"}, {"spec", "renewTime"}};
  else if ((type.group.empty() || type.group == "events.k8s.io") && type.resource == "events")
    paths = {{"eventTime"}, {"series", "lastObservedTime"}};
  for (const auto& path : paths) {
    Json* at = &object;
    for (size_t i = 0; at && i + 1 < path.size(); ++i)
      at = at->is_object() && at->has_field(path[i]) ? &(*at)[path[i]] : nullptr;
    if (!at || !at->is_object() || !at->has_field(path.back())) continue;
    Json& value = (*at)[path.back()];
    if (value.is_null()) continue;
    std::string error;
    std::optional<std::string> normal;
    if (value.is_string())
      normal = NormalizeMicroTime(value.as_string(), &error);
    else
      error = "json: cannot unmarshal " + std::string(value.is_number() ? "number" : "value") +
              " into Go value of type string";
    if (!normal)
      return ApiStatus::BadRequest(type.kind + " in version \"" + type.version +
                                   "\" cannot be handled as a " + type.kind + ": " + error);
    value = Json::string(*normal);
  }
  return ApiStatus{};
}

}  // namespace zkop::devkube
