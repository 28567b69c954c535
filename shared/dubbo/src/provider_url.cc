#include "zkop/dubbo/provider_url.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>

#include "json_string.h"
#include "zkop/dubbo/url_encode.h"

namespace zkop::dubbo {

using internal::AppendJsonString;

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

std::string MetadataServiceUrlParams(const InstanceSpec& spec) {
  std::string protocol = spec.endpoints.empty() ? "dubbo" : spec.endpoints.front().protocol;
  for (const auto& e : spec.endpoints) {
    if (e.protocol == "dubbo") protocol = e.protocol;
  }
  // A LinkedHashMap: RegistryProtocol.DEFAULT_REGISTER_PROVIDER_KEYS order (application,
  // group, deprecated and timestamp removed), then port and protocol.
  std::string j = "{\"version\":";
  AppendJsonString(kMetadataServiceVersion, &j);
  j += ",\"dubbo\":";
  AppendJsonString(kDubboProtocolVersion, &j);
  if (!spec.release.empty()) {
    j += ",\"release\":";
    AppendJsonString(spec.release, &j);
  }
  j += ",\"side\":\"provider\",\"port\":";
  AppendJsonString(std::to_string(spec.port), &j);
  j += ",\"protocol\":";
  AppendJsonString(protocol, &j);
  return j + "}";
}

std::vector<std::pair<std::string, std::string>> InstanceMetadata(const InstanceSpec& spec) {
  std::map<std::string, std::string, JavaLess> m;
  std::string endpoints = "[";
  for (size_t i = 0; i < spec.endpoints.size(); ++i) {
    if (i) endpoints += ",";
    endpoints += "{\"port\":" + std::to_string(spec.endpoints[i].port) + ",\"protocol\":";
    AppendJsonString(spec.endpoints[i].protocol, &endpoints);
    endpoints += "}";
  }
  m["dubbo.endpoints"] = endpoints + "]";
  m["dubbo.metadata-service.url-params"] = MetadataServiceUrlParams(spec);
  m["dubbo.metadata.revision"] = spec.revision;
  m["dubbo.metadata.storage-type"] = "remote";
  m["meta-v"] = std::string(kMetadataServiceVersion);
  m["timestamp"] = std::to_string(spec.timestamp_ms);
  for (const auto& [k, v] : spec.instance_params) m[k] = v;
  return {m.begin(), m.end()};
}

std::string InstanceJson(const InstanceSpec& spec) {
  std::string id = spec.host + ":" + std::to_string(spec.port);
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
  j += ",\"metadata\":{";
  bool first = true;
  for (const auto& [k, v] : InstanceMetadata(spec)) {
    if (!first) j += ',';
    first = false;
    AppendJsonString(k, &j);
    j += ':';
    AppendJsonString(v, &j);
  }
  j += "}},\"registrationTimeUTC\":" + std::to_string(spec.registration_time_ms);
  j += ",\"serviceType\":\"DYNAMIC\",\"uriSpec\":null}";
  return j;
}

// A scan, not a JSON reader: one string key of a node of at most 1 MB.
std::string_view InstanceRevision(std::string_view json) {
  static constexpr std::string_view kKey = "\"dubbo.metadata.revision\"";
  size_t at = json.find(kKey);
  if (at == std::string_view::npos) return {};
  size_t pos = at + kKey.size();
  auto skip = [&] {
    while (pos < json.size() &&
           (json[pos] == ' ' || json[pos] == '\n' || json[pos] == '\r' || json[pos] == '\t')) {
      ++pos;
    }
  };
  skip();
  if (pos >= json.size() || json[pos] != ':') return {};
  ++pos;
  skip();
  if (pos >= json.size() || json[pos] != '"') return {};
  size_t end = json.find('"', pos + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(pos + 1, end - pos - 1);  // revisions are hex digits: no escapes
}

std::string InstanceNodePath(std::string_view services_root, const InstanceSpec& spec) {
  return NormalizeRoot(services_root) + "/" + spec.application + "/" + spec.host + ":" +
         std::to_string(spec.port);
}

}  // namespace zkop::dubbo
