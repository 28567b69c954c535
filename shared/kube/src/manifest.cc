#include "zkop/kube/manifest.h"

#include "zkop/config/bounded_input.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

namespace zkop::kube {
namespace {

std::string Where(const std::string& source, const YAML::Mark& mark) {
  if (mark.line < 0) return source;
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

class Converter {
 public:
  explicit Converter(const std::string& source) : source_(source) {}

  Json Convert(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxManifestNodes)
      throw ManifestError(Where(source_, node.Mark()) + ": the document expands to more than " +
                          std::to_string(kMaxManifestNodes) +
                          " nodes (YAML aliases?); refusing to expand it");
    if (depth > kMaxManifestDepth)
      throw ManifestError(Where(source_, node.Mark()) + ": nested deeper than " +
                          std::to_string(kMaxManifestDepth) + " levels");
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        Json out = Json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar())
            throw ManifestError(Where(source_, kv.first.Mark()) + ": keys must be strings");
          const std::string key = kv.first.Scalar();
          if (out.has_field(key))
            throw ManifestError(Where(source_, kv.first.Mark()) + ": duplicate key \"" + key +
                                "\"");
          out[key] = Convert(kv.second, depth + 1);
        }
        return out;
      }
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        size_t i = 0;
        for (const auto& item : node) out[i++] = Convert(item, depth + 1);
        return out;
      }
      case YAML::NodeType::Scalar:
        return Scalar(node);
      default:
        return Json::null();
    }
  }

 private:
  static Json Scalar(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return Json::string(s);
    static const std::regex kInt(R"(^[-+]?[0-9]+$)");
    static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    if (s == "true" || s == "True" || s == "TRUE") return Json::boolean(true);
    if (s == "false" || s == "False" || s == "FALSE") return Json::boolean(false);
    if (s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "~") return Json::null();
    if (std::regex_match(s, kInt)) {
      errno = 0;
      const long long v = std::strtoll(s.c_str(), nullptr, 10);
      if (errno != ERANGE) return Json::number(static_cast<int64_t>(v));
    }
    if (std::regex_match(s, kFloat)) return Json::number(std::strtod(s.c_str(), nullptr));
    return Json::string(s);
  }

  const std::string& source_;
  size_t nodes_ = 0;
};

// Plain scalars that a YAML reader would not read back as the same string.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const std::regex kPlainSafe(R"(^[A-Za-z_/][A-Za-z0-9_./@-]*$)");
  if (!std::regex_match(s, kPlainSafe)) return true;
  static const std::regex kSpecial(
      R"(^(true|True|TRUE|false|False|FALSE|null|Null|NULL|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$)");
  return std::regex_match(s, kSpecial);
}

void EmitJson(YAML::Emitter& out, const Json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, item] : v.as_object()) {
      out << YAML::Key << k << YAML::Value;
      EmitJson(out, item);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : v.as_array()) EmitJson(out, item);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string& s = v.as_string();
    if (s.find('\n') != std::string::npos)
      out << YAML::Literal << s;
    else if (NeedsQuotes(s))
      out << YAML::DoubleQuoted << s;
    else
      out << s;
  } else if (v.is_boolean()) {
    out << (v.as_bool() ? "true" : "false");
  } else if (v.is_integer()) {
    out << v.as_number().to_int64();
  } else if (v.is_number()) {
    out << v.as_double();
  } else {
    out << YAML::Null;
  }
}

}  // namespace

std::vector<Json> ParseManifests(std::string_view text, const std::string& source) {
  if (text.size() > kMaxManifestBytes)
    throw ManifestError(source + ": " + std::to_string(text.size()) + " bytes is more than the " +
                        std::to_string(kMaxManifestBytes) + " a manifest may have");
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ManifestError(Where(source, e.mark) + ": invalid YAML: " + e.msg);
  }
  std::vector<Json> out;
  for (const auto& doc : docs) {
    if (doc.IsNull()) continue;
    Converter converter(source);
    out.push_back(converter.Convert(doc, 0));
  }
  return out;
}

std::vector<Json> LoadManifestFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::ostringstream buf;
    char chunk[65536];
    while (std::cin.read(chunk, sizeof chunk) || std::cin.gcount() > 0) {
      buf.write(chunk, std::cin.gcount());
      if (static_cast<size_t>(buf.tellp()) > kMaxManifestBytes)
        throw ManifestError("<stdin>: more than " + std::to_string(kMaxManifestBytes) + " bytes");
    }
    return ParseManifests(buf.str(), "<stdin>");
  }
  std::string error;
  if (!config::ReadRegularFile(path, kMaxManifestBytes, &text, &error))
    throw ManifestError(path + ": " + error);
  return ParseManifests(text, path);
}

std::string ToYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  EmitJson(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace zkop::kube
