#include "json_util.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <sstream>

namespace zkop::devkube {
namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

Json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      size_t i = 0;
      for (const auto& item : node) out[i++] = YamlToJson(item);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return Json::string(s);  // quoted
      if (s == "true" || s == "True") return Json::boolean(true);
      if (s == "false" || s == "False") return Json::boolean(false);
      if (s == "null" || s == "~") return Json::null();
      if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos && s != "-") {
        try {
          return Json::number(static_cast<int64_t>(std::stoll(s)));
        } catch (...) {
        }
      }
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() &&
          s.find_first_of("0123456789") != std::string::npos)
        return Json::number(d);
      return Json::string(s);
    }
    default:
      return Json::null();
  }
}

// Splits ".a.b[0]" into steps; a step is a key, an index or a filter "?(@.k==\"v\")".
std::optional<std::vector<std::string>> SplitPath(std::string path) {
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}')
    path = path.substr(1, path.size() - 2);
  if (!path.empty() && path[0] == '$') path.erase(0, 1);
  std::vector<std::string> steps;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i + 1) return std::nullopt;
      steps.push_back(path.substr(i + 1, j - i - 1));
      i = j;
    } else if (path[i] == '[') {
      size_t j = path.find(']', i);
      if (j == std::string::npos) return std::nullopt;
      steps.push_back("[" + path.substr(i + 1, j - i - 1));
      i = j + 1;
    } else {
      return std::nullopt;
    }
  }
  return steps;
}

}  // namespace

const Json* Find(const Json& v, std::initializer_list<std::string_view> path) {
  const Json* cur = &v;
  for (std::string_view key : path) {
    if (!cur->is_object()) return nullptr;
    const auto& obj = cur->as_object();
    auto it = obj.find(std::string(key));
    if (it == obj.end()) return nullptr;
    cur = &it->second;
  }
  return cur;
}

std::string GetString(const Json& v, std::initializer_list<std::string_view> path) {
  const Json* f = Find(v, path);
  return f && f->is_string() ? f->as_string() : std::string();
}

Json& Child(Json& v, const std::string& key) {
  if (!v.is_object()) v = Json::object();
  Json& c = v[key];
  if (!c.is_object()) c = Json::object();
  return c;
}

bool HasKey(const Json& v, const std::string& key) { return v.is_object() && v.has_field(key); }

void EraseKey(Json& v, const std::string& key) {
  if (v.is_object() && v.has_field(key)) v.erase(key);
}

std::optional<Json> ParseJson(const std::string& text, std::string* error) {
  std::error_code ec;
  Json v = Json::parse(text, ec);
  if (ec) {
    if (error) *error = ec.message();
    return std::nullopt;
  }
  return v;
}

std::optional<Json> ParseYamlAsJson(const std::string& text, std::string* error) {
  try {
    return YamlToJson(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    if (error)
      *error = "line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1) + ": " + e.msg;
    return std::nullopt;
  }
}

std::string FormatTime(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& text) {
  std::tm tm{};
  int n = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string NewUid() {
  std::uniform_int_distribution<int> hex(0, 15);
  std::string out = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  const char* digits = "0123456789abcdef";
  for (char& c : out) {
    if (c == 'x') c = digits[hex(Rng())];
    if (c == 'y') c = digits[8 + hex(Rng()) % 4];
  }
  return out;
}

std::string RandomSuffix(size_t n) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kAlphabet[pick(Rng())];
  return out;
}

std::optional<Json> EvalJsonPath(const Json& v, const std::string& path) {
  auto steps = SplitPath(path);
  if (!steps) return std::nullopt;
  const Json* cur = &v;
  for (const std::string& step : *steps) {
    if (step[0] != '[') {
      if (!cur->is_object() || !cur->has_field(step)) return std::nullopt;
      cur = &cur->as_object().find(step)->second;
      continue;
    }
    if (!cur->is_array()) return std::nullopt;
    std::string inner = step.substr(1);
    if (inner.rfind("?(@.", 0) == 0 && inner.back() == ')') {
      // Filter: ?(@.key=="value")
      std::string cond = inner.substr(4, inner.size() - 5);
      size_t eq = cond.find("==");
      if (eq == std::string::npos) return std::nullopt;
      std::string key = cond.substr(0, eq), want = cond.substr(eq + 2);
      if (want.size() >= 2 && (want.front() == '"' || want.front() == '\''))
        want = want.substr(1, want.size() - 2);
      const Json* found = nullptr;
      for (const Json& item : cur->as_array()) {
        const Json* f = Find(item, {key});
        if (f && ((f->is_string() && f->as_string() == want) ||
                  (!f->is_string() && f->serialize() == want))) {
          found = &item;
          break;
        }
      }
      if (!found) return std::nullopt;
      cur = found;
    } else {
      if (inner.empty() || inner.size() > 9 ||
          inner.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
      size_t idx = std::stoul(inner);
      if (idx >= cur->size()) return std::nullopt;
      cur = &cur->as_array().at(idx);
    }
  }
  return *cur;
}

bool SetJsonPath(Json& v, const std::string& path, Json value) {
  auto steps = SplitPath(path);
  if (!steps || steps->empty()) return false;
  Json* cur = &v;
  for (size_t i = 0; i < steps->size(); ++i) {
    const std::string& step = (*steps)[i];
    if (step[0] == '[') return false;
    if (!cur->is_object()) return false;
    if (i + 1 == steps->size()) {
      (*cur)[step] = std::move(value);
      return true;
    }
    if (!cur->has_field(step)) (*cur)[step] = Json::object();
    cur = &(*cur)[step];
  }
  return false;
}

std::string HumanDuration(std::chrono::seconds d) {
  long long s = d.count();
  auto f = [](long long a, const char* ua, long long b, const char* ub) {
    return std::to_string(a) + ua + (b ? std::to_string(b) + ub : "");
  };
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return std::to_string(s) + "s";
  long long m = s / 60;
  if (m < 10) return f(m, "m", s % 60, "s");
  if (m < 180) return std::to_string(m) + "m";
  long long h = m / 60;
  if (h < 8) return f(h, "h", m % 60, "m");
  if (h < 48) return std::to_string(h) + "h";
  if (h < 24 * 8) return f(h / 24, "d", h % 24, "h");
  if (h < 24 * 365 * 2) return std::to_string(h / 24) + "d";
  if (h < 24 * 365 * 8) return f(h / 24 / 365, "y", (h / 24) % 365, "d");
  return std::to_string(h / 24 / 365) + "y";
}

std::string Base64(const std::string& in) {
  static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kChars[(n >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += kChars[(n >> 18) & 63];
    out += kChars[(n >> 12) & 63];
    out += i + 1 < in.size() ? kChars[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string ValueForMessage(const Json& v) {
  if (v.is_null()) return "\"null\"";
  if (v.is_string()) return v.serialize();
  if (v.is_number() || v.is_boolean()) return v.serialize();
  return "\"<value omitted>\"";
}

}  // namespace zkop::devkube
