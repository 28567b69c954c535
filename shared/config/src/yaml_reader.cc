#include "zkop/config/yaml_reader.h"

#include <algorithm>
#include <limits>

#include "zkop/config/bounded_input.h"
#include "zkop/config/duration.h"

namespace zkop::config {
namespace {

std::string Where(const std::string& file, int line, int column) {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

template <typename Keys>
void CheckKeys(const YamlReader& r, const Keys& known) {
  if (!r.present()) return;
  if (!r.node().IsMap()) r.FailExpected("a mapping");
  for (const auto& [key, child] : r.AsEntries()) {
    bool ok = std::any_of(known.begin(), known.end(),
                          [&](const auto& k) { return std::string_view(k) == key; });
    if (ok) continue;
    std::string suggestion;
    size_t best = std::numeric_limits<size_t>::max();
    std::string all;
    for (const auto& k : known) {
      size_t d = EditDistance(key, k);
      if (d < best) {
        best = d;
        suggestion = std::string(k);
      }
      if (!all.empty()) all += ", ";
      all += std::string(k);
    }
    std::string detail = "unknown key \"" + key + "\"";
    if (best <= 2 || (best <= 3 && key.size() > 6)) {
      detail += "; did you mean \"" + suggestion + "\"?";
    } else {
      detail += "; known keys here: " + all;
    }
    child.Fail(detail);
  }
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string path,
                         std::string detail)
    : std::runtime_error(Where(file, line, column) + ": " + (path.empty() ? "" : path + ": ") +
                         detail),
      file_(std::move(file)),
      line_(line),
      column_(column),
      path_(std::move(path)),
      detail_(std::move(detail)) {}

YamlReader::YamlReader(YAML::Node node, std::shared_ptr<const std::string> file, std::string path,
                       YAML::Mark mark)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)), mark_(mark) {}

YamlReader YamlReader::LoadFile(const std::string& file, const YamlLimits& limits) {
  std::string text, error;
  if (!ReadRegularFile(file, limits.max_bytes, &text, &error)) {
    throw ConfigError(file, 0, 0, "", error + " (give the path of a readable YAML file)");
  }
  return LoadString(text, file, limits);
}

YamlReader YamlReader::LoadString(std::string_view text, std::string name,
                                  const YamlLimits& limits) {
  auto file = std::make_shared<const std::string>(std::move(name));
  CheckYaml(text, *file, limits);  // bounded: size, depth, aliases, duplicate keys
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YAML::Mark mark = root.IsDefined() && !root.IsNull() ? root.Mark() : YAML::Mark();
    return YamlReader(root, file, "", mark);
  } catch (const YAML::Exception& e) {
    throw ConfigError(*file, e.mark.line + 1, e.mark.column + 1, "", "invalid YAML: " + e.msg);
  }
}

int YamlReader::line() const { return mark_.line >= 0 ? mark_.line + 1 : 0; }

bool YamlReader::present() const { return node_.IsDefined() && !node_.IsNull(); }

bool YamlReader::Has(std::string_view key) const { return Get(key).present(); }

std::string YamlReader::ChildPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

YamlReader YamlReader::Get(std::string_view key) const {
  if (!present()) {
    return YamlReader(YAML::Node(YAML::NodeType::Undefined), file_, ChildPath(key), mark_);
  }
  if (!node_.IsMap()) FailExpected("a mapping");
  // Look the key up without inserting it (operator[] on a const node does not insert).
  const YAML::Node& self = node_;
  YAML::Node child = self[std::string(key)];
  YAML::Mark mark = mark_;
  if (child.IsDefined() && !child.IsNull())
    mark = child.Mark();
  else if (child.IsDefined()) {
    // A null value has no useful mark; use the key's.
    for (auto it = self.begin(); it != self.end(); ++it) {
      if (it->first.Scalar() == key) {
        mark = it->first.Mark();
        break;
      }
    }
  }
  return YamlReader(child, file_, ChildPath(key), mark);
}

std::string YamlReader::Describe() const {
  if (!node_.IsDefined()) return "nothing (the key is missing)";
  switch (node_.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "\"" + node_.Scalar() + "\"";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

void YamlReader::FailExpected(std::string_view expected, std::string_view hint) const {
  std::string detail = "expected " + std::string(expected) + ", found " + Describe();
  if (!hint.empty()) detail += " (" + std::string(hint) + ")";
  Fail(detail);
}

void YamlReader::Fail(std::string_view detail) const {
  throw ConfigError(*file_, line(), mark_.column >= 0 ? mark_.column + 1 : 0, path_,
                    std::string(detail));
}

std::string YamlReader::AsString() const {
  if (!IsScalar()) FailExpected("a string");
  return node_.Scalar();
}

int64_t YamlReader::AsInt(int64_t min, int64_t max) const {
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!IsScalar()) FailExpected(range);
  const std::string& s = node_.Scalar();
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used, 10);
  } catch (const std::exception&) {
    FailExpected(range);
  }
  if (used != s.size()) FailExpected(range);
  if (v < min || v > max) FailExpected(range);
  return v;
}

bool YamlReader::AsBool() const {
  if (IsScalar()) {
    const std::string& s = node_.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  FailExpected("true or false");
}

std::chrono::milliseconds YamlReader::AsDuration() const {
  if (!IsScalar()) FailExpected("a duration such as 500ms, 30s or 1m");
  std::string why;
  auto d = ParseDuration(node_.Scalar(), &why);
  if (!d) FailExpected("a duration such as 500ms, 30s or 1m", why);
  if (d->count() < 0) FailExpected("a non-negative duration");
  return *d;
}

std::vector<YamlReader> YamlReader::AsList() const {
  std::vector<YamlReader> out;
  if (!present()) return out;
  if (!node_.IsSequence()) FailExpected("a list");
  size_t i = 0;
  for (const YAML::Node& item : node_) {
    YAML::Mark m = item.IsDefined() && !item.IsNull() ? item.Mark() : mark_;
    out.push_back(YamlReader(item, file_, path_ + "[" + std::to_string(i) + "]", m));
    ++i;
  }
  return out;
}

std::vector<std::string> YamlReader::AsStringList() const {
  std::vector<std::string> out;
  for (const YamlReader& item : AsList()) out.push_back(item.AsString());
  return out;
}

std::vector<std::pair<std::string, YamlReader>> YamlReader::AsEntries() const {
  std::vector<std::pair<std::string, YamlReader>> out;
  if (!present()) return out;
  if (!node_.IsMap()) FailExpected("a mapping");
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.Scalar();
    YAML::Mark m =
        it->second.IsDefined() && !it->second.IsNull() ? it->second.Mark() : it->first.Mark();
    out.emplace_back(key, YamlReader(it->second, file_, ChildPath(key), m));
  }
  return out;
}

std::string YamlReader::RequiredString(std::string_view key) const {
  YamlReader child = Get(key);
  if (!child.present()) child.FailExpected("a string", "this key is required");
  return child.AsString();
}

std::string YamlReader::String(std::string_view key, std::string_view def) const {
  YamlReader child = Get(key);
  return child.present() ? child.AsString() : std::string(def);
}

int64_t YamlReader::Int(std::string_view key, int64_t def, int64_t min, int64_t max) const {
  YamlReader child = Get(key);
  return child.present() ? child.AsInt(min, max) : def;
}

bool YamlReader::Bool(std::string_view key, bool def) const {
  YamlReader child = Get(key);
  return child.present() ? child.AsBool() : def;
}

std::chrono::milliseconds YamlReader::Duration(std::string_view key,
                                               std::chrono::milliseconds def) const {
  YamlReader child = Get(key);
  return child.present() ? child.AsDuration() : def;
}

void YamlReader::ExpectKeys(std::initializer_list<std::string_view> known) const {
  CheckKeys(*this, known);
}

void YamlReader::ExpectKeys(const std::vector<std::string>& known) const {
  CheckKeys(*this, known);
}

}  // namespace zkop::config
