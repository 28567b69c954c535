// Structured logging to stderr, as text or JSON lines.
//
// Contract:
//  - Thread-safe: each call writes one whole line under a process-wide mutex.
//  - Never logs a secret: a field whose key names a credential (password,
//    secret, token, credential, digest, auth, key material) is written as
//    "<redacted>", whatever the caller passes. Wrap values that are secret
//    under another key in `Redacted`.
//  - Never throws.
#pragma once

#include <chrono>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

namespace zkop::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

// Parses "debug|info|warn|error" and "text|json"; false on anything else.
bool ParseLevel(std::string_view s, Level* out);
bool ParseFormat(std::string_view s, Format* out);
std::string_view LevelName(Level level);

// Appends `s` as a JSON string literal: quoted, with quotes, backslashes and control
// characters escaped (the JSON log format's, and any other hand-written JSON's).
void AppendJsonString(std::string& out, std::string_view s);

// A key/value pair attached to a log line. Numbers are formatted by the caller's overload.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  std::string key;
  std::string value;
};

// A value that must never reach a log line.
struct Redacted {
  explicit Redacted(std::string_view) {}
};

// True when `key` names something secret (case-insensitive substring match).
bool IsSecretKey(std::string_view key);

// Process-wide settings; defaults: kInfo, kText, std::cerr.
void Configure(Level min_level, Format format);
void SetSinkForTesting(std::ostream* sink);  // nullptr restores stderr.
Level MinLevel();

// Formats one line (without the trailing newline). Pure; used by Write and tests.
std::string FormatLine(Format format, std::chrono::system_clock::time_point when, Level level,
                       std::string_view component, std::string_view message,
                       std::initializer_list<Field> fields);

void Write(Level level, std::string_view component, std::string_view message,
           std::initializer_list<Field> fields = {});

// A named source of log lines ("operator", "agent.registrar", ...).
class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}
  void Debug(std::string_view msg, std::initializer_list<Field> f = {}) const {
    if (MinLevel() <= Level::kDebug) Write(Level::kDebug, component_, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kInfo, component_, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kWarn, component_, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<Field> f = {}) const {
    Write(Level::kError, component_, msg, f);
  }
  const std::string& component() const { return component_; }

 private:
  std::string component_;
};

}  // namespace zkop::log
