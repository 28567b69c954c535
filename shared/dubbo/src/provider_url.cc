#include "zkop/dubbo/provider_url.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>

#include "zkop/dubbo/url_encode.h"

namespace zkop::dubbo {

namespace {

struct JavaLess {
  bool operator()(const std::string& a, const std::string& b) const { return JavaStringLess(a, b); }
};

struct CodeRange {
  char32_t first, last;
};
#include "java_identifier_table.inc"

template <size_t N>
bool InRanges(const CodeRange (&ranges)[N], char32_t cp) {
  auto it = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                             [](char32_t v, const CodeRange& r) { return v < r.first; });
  return it != std::begin(ranges) && cp <= std::prev(it)->last;
}

bool IsReserved(std::string_view w) {
  static constexpr std::array<std::string_view, 53> kWords = {
      "abstract", "assert", "boolean",    "break",     "byte",       "case",      "catch",
      "char",     "class",  "const",      "continue",  "default",    "do",        "double",
      "else",     "enum",   "extends",    "final",     "finally",    "float",     "for",
      "goto",     "if",     "implements", "import",    "instanceof", "int",       "interface",
      "long",     "native", "new",        "package",   "private",    "protected", "public",
      "return",   "short",  "static",     "strictfp",  "super",      "switch",    "synchronized",
      "this",     "throw",  "throws",     "transient", "try",        "void",      "volatile",
      "while",    "true",   "false",      "null"};
  return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ProviderParameters(const ProviderSpec& spec) {
  std::map<std::string, std::string, JavaLess> params;
  std::vector<std::string> methods = spec.methods;
  std::sort(methods.begin(), methods.end(),
            [](const std::string& a, const std::string& b) { return JavaStringLess(a, b); });
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  std::string joined;
  for (const auto& m : methods) {
    if (!joined.empty()) joined += ',';
    joined += m;
  }
  params["anyhost"] = spec.anyhost ? "true" : "false";
  params["application"] = spec.application;
  params["deprecated"] = "false";
  params["dubbo"] = std::string(kDubboProtocolVersion);
  params["dynamic"] = "true";
  params["generic"] = "false";
  params["interface"] = spec.interface_name;
  params["methods"] = joined.empty() ? "*" : joined;
  params["pid"] = std::to_string(spec.pid);
  params["release"] = spec.release;
  params["side"] = "provider";
  params["timestamp"] = std::to_string(spec.timestamp_ms);
  if (!spec.version.empty()) params["version"] = spec.version;
  if (!spec.group.empty()) params["group"] = spec.group;
  for (const auto& [k, v] : spec.extra) params[k] = v;
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(params.size());
  for (auto& [k, v] : params) {
    // URL.buildParameters skips empty keys; ServiceConfig never puts empty values.
    if (k.empty() || v.empty()) continue;
    out.emplace_back(k, v);
  }
  return out;
}

std::string ProviderUrl(const ProviderSpec& spec) {
  std::string url = spec.protocol + "://" + spec.host;
  if (spec.port > 0) url += ":" + std::to_string(spec.port);
  url += "/" + spec.interface_name;
  bool first = true;
  for (const auto& [k, v] : ProviderParameters(spec)) {
    url += first ? '?' : '&';
    first = false;
    url += k;
    url += '=';
    url += v;
  }
  return url;
}

std::string NormalizeRoot(std::string_view root) {
  std::string r(root);
  while (!r.empty() && r.back() == '/') r.pop_back();
  if (!r.empty() && r.front() != '/') r.insert(r.begin(), '/');
  return r;
}

std::string ProvidersPath(std::string_view root, std::string_view interface_name) {
  return NormalizeRoot(root) + "/" + UrlEncode(interface_name) + "/providers";
}

std::string ProviderNodePath(std::string_view root, const ProviderSpec& spec) {
  return ProvidersPath(root, spec.interface_name) + "/" + UrlEncode(ProviderUrl(spec));
}

bool IsJavaIdentifier(std::string_view name) {
  if (name.empty()) return false;
  for (size_t pos = 0; pos < name.size();) {
    bool first = pos == 0;
    char32_t cp = 0;
    if (!DecodeUtf8(name, &pos, &cp)) return false;
    if (!(first ? InRanges(kJavaIdentifierStart, cp) : InRanges(kJavaIdentifierPart, cp))) {
      return false;
    }
  }
  return !IsReserved(name);
}

bool IsJavaQualifiedName(std::string_view name) {
  if (name.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view part =
        name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (!IsJavaIdentifier(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string InstanceJson(const InstanceSpec& spec) {
  std::string id = spec.host + ":" + std::to_string(spec.port);
  std::string endpoints = "[";
  for (size_t i = 0; i < spec.endpoints.size(); ++i) {
    if (i) endpoints += ",";
    endpoints += "{\"port\":" + std::to_string(spec.endpoints[i].port) + ",\"protocol\":";
    AppendJsonString(spec.endpoints[i].protocol, &endpoints);
    endpoints += "}";
  }
  endpoints += "]";
  std::string protocol = spec.endpoints.empty() ? "dubbo" : spec.endpoints.front().protocol;
  std::string url_params =
      "{\"dubbo\":\"2.0.2\",\"port\":\"" + std::to_string(spec.port) + "\",\"protocol\":";
  AppendJsonString(protocol, &url_params);
  url_params += ",\"release\":";
  AppendJsonString(spec.release, &url_params);
  url_params += ",\"side\":\"provider\"}";

  std::string j = "{\"name\":";
  AppendJsonString(spec.application, &j);
  j += ",\"id\":";
  AppendJsonString(id, &j);
  j += ",\"address\":";
  AppendJsonString(spec.host, &j);
  j += ",\"port\":" + std::to_string(spec.port);
  j += ",\"sslPort\":null,\"payload\":{\"@class\":"
       "\"org.apache.dubbo.registry.zookeeper.ZookeeperInstance\",\"id\":";
  AppendJsonString(id, &j);
  j += ",\"name\":";
  AppendJsonString(spec.application, &j);
  j += ",\"metadata\":{\"dubbo.endpoints\":";
  AppendJsonString(endpoints, &j);
  j += ",\"dubbo.metadata-service.url-params\":";
  AppendJsonString(url_params, &j);
  j += ",\"dubbo.metadata.revision\":";
  AppendJsonString(spec.revision, &j);
  j += ",\"dubbo.metadata.storage-type\":\"local\",\"timestamp\":";
  AppendJsonString(std::to_string(spec.timestamp_ms), &j);
  j += "}},\"registrationTimeUTC\":" + std::to_string(spec.registration_time_ms);
  j += ",\"serviceType\":\"DYNAMIC\",\"uriSpec\":null}";
  return j;
}

std::string InstanceNodePath(std::string_view services_root, const InstanceSpec& spec) {
  return NormalizeRoot(services_root) + "/" + spec.application + "/" + spec.host + ":" +
         std::to_string(spec.port);
}

}  // namespace zkop::dubbo
