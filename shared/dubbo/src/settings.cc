#include "zkop/dubbo/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "zkop/config/bounded_input.h"
#include "zkop/config/yaml_reader.h"

namespace zkop::dubbo {

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void Flatten(const YAML::Node& node, const std::string& prefix, const std::string& file,
             SettingMap* out) {
  if (node.IsMap() || node.IsSequence()) {
    if (!prefix.empty()) {
      (*out)[prefix] =
          Setting{"", file, node.Mark().line + 1, node.IsMap() ? "a mapping" : "a list"};
    }
  }
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      Flatten(kv.second, prefix.empty() ? key : prefix + "." + key, file, out);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      Flatten(node[i], prefix + "[" + std::to_string(i) + "]", file, out);
    }
  } else if (!prefix.empty()) {
    (*out)[prefix] = Setting{node.IsScalar() ? node.Scalar() : "", file, node.Mark().line + 1, {}};
  }
}

bool ProfileSpecific(const YAML::Node& doc) {
  if (!doc.IsMap()) return false;
  SettingMap flat;
  Flatten(doc, "", "", &flat);
  for (const auto& [key, setting] : flat) {
    // spring.profiles (legacy) and spring.config.activate.on-profile make a document
    // profile-specific; spring.profiles.active / include / group do not.
    std::string k = CanonicalKey(key);
    if (k.rfind("spring.config.activate.onprofile", 0) == 0 ||
        (k == "spring.profiles" && setting.shape != "a mapping"))
      return true;
  }
  return false;
}

// A key that must hold a value (a port, a name, a host) holds a mapping or a list.
void ValueOrThrow(const Setting& s, const std::string& key) {
  if (!s.shape.empty()) {
    throw PropertiesError(s.file, s.line,
                          key + ": expected a value, found " + std::string(s.shape) +
                              " (write it as `" + key.substr(key.rfind('.') + 1) + ": VALUE`)");
  }
}

int PortOrThrow(const Setting& s, const std::string& key) {
  ValueOrThrow(s, key);
  int port = 0;
  if (!ParseDubboPort(s.value, &port)) {
    throw PropertiesError(s.file, s.line,
                          key +
                              ": expected a port number 1-65535 (or -1 for the first free port "
                              "from the protocol's default upward), found \"" +
                              s.value + "\"");
  }
  return port;
}

}  // namespace

std::string CanonicalKey(const std::string& key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '-' || c == '_') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

SettingMap ParseSpringBootYaml(const std::string& text, const std::string& file) {
  // Bounded before any tree is walked: Flatten visits aliased nodes once per alias.
  config::YamlLimits limits;
  limits.max_bytes = kMaxProviderFileBytes;
  limits.max_nodes = 200000;
  try {
    config::CheckYaml(text, file, limits);
  } catch (const config::ConfigError& e) {
    throw PropertiesError(file, e.line(), e.detail());
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw PropertiesError(file, e.mark.line + 1, "not valid YAML: " + e.msg);
  }
  SettingMap out;
  for (const auto& doc : docs) {
    if (ProfileSpecific(doc)) continue;
    if (doc.IsNull()) continue;
    if (!doc.IsMap()) {
      throw PropertiesError(file, doc.Mark().line + 1,
                            "expected a mapping of Spring Boot properties at the top level");
    }
    Flatten(doc, "", file, &out);
  }
  return out;
}

SettingMap LoadSpringBootFile(const std::string& path) {
  std::string text = ReadProviderFile(path);
  if (EndsWith(path, ".yml") || EndsWith(path, ".yaml")) return ParseSpringBootYaml(text, path);
  if (EndsWith(path, ".properties")) return ParseProperties(text, path);
  throw PropertiesError(path, 0,
                        "a Spring Boot config file must end in .yml, .yaml or .properties");
}

bool ParseDubboPort(const std::string& text, int* port) {
  std::string t = text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  size_t start = 0;
  while (start < t.size() && std::isspace(static_cast<unsigned char>(t[start]))) ++start;
  t = t.substr(start);
  if (t.empty() || t.size() > 6) return false;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  for (size_t k = i; k < t.size(); ++k) {
    if (!std::isdigit(static_cast<unsigned char>(t[k]))) return false;
  }
  int v = std::stoi(t);
  if (v < -1 || v > 65535) return false;
  *port = v;
  return true;
}

std::optional<int> DefaultPort(const std::string& protocol) {
  if (protocol == "dubbo") return 20880;
  if (protocol == "tri" || protocol == "grpc") return 50051;
  if (protocol == "rest" || protocol == "http" || protocol == "hessian" || protocol == "webservice")
    return 80;
  if (protocol == "rmi") return 1099;
  if (protocol == "thrift") return 40880;
  if (protocol == "redis") return 6379;
  if (protocol == "memcached") return 11211;
  return std::nullopt;
}

DubboSettings ExtractDubboSettings(const SettingMap& settings) {
  DubboSettings out;
  std::optional<Setting> spring_name;
  ProtocolSetting single;
  bool has_single = false;
  std::map<std::string, ProtocolSetting> multi;  // by id
  const std::string kProtocols = "dubbo.protocols.";
  for (const auto& [raw_key, setting] : settings) {
    std::string key = CanonicalKey(raw_key);
    if (key == "dubbo.application.name") {
      out.application = setting;
    } else if (key == "spring.application.name") {
      ValueOrThrow(setting, raw_key);
      spring_name = setting;
    } else if (key == "dubbo.provider.port") {
      out.provider_port = PortOrThrow(setting, raw_key);
      out.provider_port_origin = setting;
    } else if (key == "dubbo.provider.host") {
      ValueOrThrow(setting, raw_key);
      out.provider_host = setting.value;
      out.provider_host_origin = setting;
    } else if (key == "dubbo.protocol.name") {
      ValueOrThrow(setting, raw_key);
      single.name = setting.value;
      single.name_origin = setting;
      has_single = true;
    } else if (key == "dubbo.protocol.port") {
      single.port = PortOrThrow(setting, raw_key);
      single.origin = setting;
      has_single = true;
    } else if (key == "dubbo.protocol.host") {
      ValueOrThrow(setting, raw_key);
      single.host = setting.value;
      single.host_origin = setting;
      has_single = true;
    } else if (key.rfind(kProtocols, 0) == 0) {
      std::string rest = key.substr(kProtocols.size());
      size_t dot = rest.find('.');
      if (dot == std::string::npos) continue;
      std::string id = rest.substr(0, dot);
      std::string field = rest.substr(dot + 1);
      ProtocolSetting& p = multi[id];
      p.id = id;
      if (field == "name" || field == "host") ValueOrThrow(setting, raw_key);
      if (field == "name") {
        p.name = setting.value;
        p.name_origin = setting;
      }
      if (field == "host") {
        p.host = setting.value;
        p.host_origin = setting;
      }
      if (field == "port") {
        p.port = PortOrThrow(setting, raw_key);
        p.origin = setting;
      }
    }
  }
  if (!out.application && spring_name) out.application = spring_name;
  if (has_single) out.protocols.push_back(single);
  for (auto& [id, p] : multi) out.protocols.push_back(p);
  for (auto& p : out.protocols) {
    if (p.name.empty()) p.name = "dubbo";  // ProtocolConfig.checkDefault()
  }
  return out;
}

}  // namespace zkop::dubbo
