#include "zkop/log/log.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>

namespace zkop::log {
namespace {

std::mutex g_mu;
std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
std::ostream* g_sink = nullptr;

constexpr std::string_view kRedacted = "<redacted>";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Text values are quoted only when they would otherwise be ambiguous.
void AppendTextValue(std::string& out, std::string_view s) {
  bool plain = !s.empty() && std::none_of(s.begin(), s.end(), [](unsigned char c) {
    return c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f;
  });
  if (plain) {
    out += s;
  } else {
    AppendJsonString(out, s);
  }
}

std::string Timestamp(std::chrono::system_clock::time_point when) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(when);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(millis));
  return buf;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

Field::Field(std::string_view k, double v) : key(k) {
  std::ostringstream os;
  os << v;
  value = os.str();
}

bool ParseLevel(std::string_view s, Level* out) {
  std::string l = Lower(s);
  if (l == "debug")
    *out = Level::kDebug;
  else if (l == "info")
    *out = Level::kInfo;
  else if (l == "warn" || l == "warning")
    *out = Level::kWarn;
  else if (l == "error")
    *out = Level::kError;
  else
    return false;
  return true;
}

bool ParseFormat(std::string_view s, Format* out) {
  std::string l = Lower(s);
  if (l == "text")
    *out = Format::kText;
  else if (l == "json")
    *out = Format::kJson;
  else
    return false;
  return true;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool IsSecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 8> kMarkers = {
      "password", "passwd", "secret", "token", "credential", "digest", "auth", "private"};
  std::string l = Lower(key);
  return std::any_of(kMarkers.begin(), kMarkers.end(),
                     [&](std::string_view m) { return l.find(m) != std::string::npos; });
}

void Configure(Level min_level, Format format) {
  g_level.store(min_level);
  g_format.store(format);
}

void SetSinkForTesting(std::ostream* sink) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_sink = sink;
}

Level MinLevel() { return g_level.load(); }

std::string FormatLine(Format format, std::chrono::system_clock::time_point when, Level level,
                       std::string_view component, std::string_view message,
                       std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(128);
  if (format == Format::kJson) {
    out += "{\"ts\":";
    AppendJsonString(out, Timestamp(when));
    out += ",\"level\":";
    AppendJsonString(out, LevelName(level));
    out += ",\"component\":";
    AppendJsonString(out, component);
    out += ",\"msg\":";
    AppendJsonString(out, message);
    for (const Field& f : fields) {
      out.push_back(',');
      AppendJsonString(out, f.key);
      out.push_back(':');
      AppendJsonString(out, IsSecretKey(f.key) ? kRedacted : std::string_view(f.value));
    }
    out.push_back('}');
    return out;
  }
  out += Timestamp(when);
  out.push_back(' ');
  std::string lvl(LevelName(level));
  std::transform(lvl.begin(), lvl.end(), lvl.begin(), ::toupper);
  lvl.resize(5, ' ');
  out += lvl;
  out.push_back(' ');
  out += component;
  out += ": ";
  out += message;
  for (const Field& f : fields) {
    out.push_back(' ');
    out += f.key;
    out.push_back('=');
    AppendTextValue(out, IsSecretKey(f.key) ? kRedacted : std::string_view(f.value));
  }
  return out;
}

void Write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields) {
  if (level < g_level.load()) return;
  std::string line = FormatLine(g_format.load(), std::chrono::system_clock::now(), level, component,
                                message, fields);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mu);
  std::ostream& os = g_sink ? *g_sink : std::cerr;
  os.write(line.data(), static_cast<std::streamsize>(line.size()));
  os.flush();
}

}  // namespace zkop::log
