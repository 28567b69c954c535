#include "zkop/dubbo/metadata.h"

#include <algorithm>
#include <array>
#include <map>

#include "json_string.h"
#include "zkop/dubbo/url_encode.h"

namespace zkop::dubbo {

using internal::AppendJsonString;

namespace {

struct JavaLess {
  bool operator()(const std::string& a, const std::string& b) const { return JavaStringLess(a, b); }
};

// DefaultMetadataParamsFilter.serviceParamsExcluded.
constexpr std::array<std::string_view, 13> kExcludedServiceParams = {"monitor",
                                                                     "bind.ip",
                                                                     "bind.port",
                                                                     "qos.enable",
                                                                     "qos.host",
                                                                     "qos.port",
                                                                     "qos.accept.foreign.ip",
                                                                     "validation",
                                                                     "interfaces",
                                                                     "pid",
                                                                     "timestamp",
                                                                     "heartbeat.timeout",
                                                                     "ipv6"};

// Character.toLowerCase(Character.toUpperCase(c)) for the code points that can equal an
// ASCII letter under String.equalsIgnoreCase: ASCII letters, U+0130 and U+0131 (i), U+017F
// (s), U+212A (Kelvin sign, k). Others map to themselves (never equal to ASCII).
char32_t FoldForAscii(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A' + 'a';
  if (c == 0x130 || c == 0x131) return 'i';
  if (c == 0x17F) return 's';
  if (c == 0x212A) return 'k';
  return c;
}

// String.equalsIgnoreCase(key, ascii) for an ASCII `ascii`; `key` is UTF-8 (Java compares
// UTF-16 units; every code point that can match an ASCII letter is in the BMP).
bool EqualsIgnoreCaseAscii(std::string_view key, std::string_view ascii) {
  size_t pos = 0, i = 0;
  while (pos < key.size()) {
    char32_t cp = 0;
    if (!DecodeUtf8(key, &pos, &cp) || i >= ascii.size()) return false;
    if (FoldForAscii(cp) != FoldForAscii(static_cast<unsigned char>(ascii[i]))) return false;
    ++i;
  }
  return i == ascii.size();
}

bool ExcludedServiceParam(std::string_view key) {
  for (std::string_view ex : kExcludedServiceParams) {
    if (EqualsIgnoreCaseAscii(key, ex)) return true;
    if (key.find(std::string(".") + std::string(ex)) != std::string_view::npos) return true;
  }
  return false;
}

// The services as MetadataInfo.services holds them, in TreeMap order of the match key.
std::map<std::string, const ServiceInfo*, JavaLess> ByMatchKey(const AppMetadata& m) {
  std::map<std::string, const ServiceInfo*, JavaLess> out;
  for (const auto& s : m.services) out[MatchKey(s)] = &s;  // a later one replaces (Map.put)
  return out;
}

}  // namespace

ServiceInfo ServiceInfoOf(const ProviderSpec& spec) {
  ServiceInfo s;
  s.name = spec.interface_name;
  s.group = spec.group;
  s.version = spec.version;
  s.protocol = spec.protocol;
  s.port = spec.port;
  s.path = spec.interface_name;
  for (auto& [k, v] : ProviderParameters(spec)) {
    if (!ExcludedServiceParam(k)) s.params.emplace_back(std::move(k), std::move(v));
  }
  return s;
}

std::string ServiceKey(const ServiceInfo& s) {
  std::string key;
  if (!s.group.empty()) key += s.group + "/";
  key += s.name;
  if (!s.version.empty()) key += ":" + s.version;
  return key;
}

std::string MatchKey(const ServiceInfo& s) {
  std::string key = ServiceKey(s);
  if (!s.protocol.empty()) key += ":" + s.protocol;
  return key;
}

std::string DescString(const ServiceInfo& s) {
  // getMatchKey() + port + path + new TreeMap<>(params): AbstractMap.toString is
  // "{k1=v1, k2=v2}".
  std::string out = MatchKey(s) + std::to_string(s.port) + s.path + "{";
  std::map<std::string, std::string, JavaLess> sorted(s.params.begin(), s.params.end());
  bool first = true;
  for (const auto& [k, v] : sorted) {
    if (!first) out += ", ";
    first = false;
    out += k;
    out += '=';
    out += v;
  }
  return out + "}";
}

std::string RevisionInput(const AppMetadata& m) {
  std::string out = m.app;
  for (const auto& [key, s] : ByMatchKey(m)) out += DescString(*s);
  return out;
}

std::string Revision(const AppMetadata& m) {
  if (m.services.empty()) return std::string(kEmptyRevision);
  return Md5Hex(RevisionInput(m));
}

std::string MetadataInfoJson(const AppMetadata& m, std::string_view revision) {
  std::string j = "{\"app\":";
  AppendJsonString(m.app, &j);
  j += ",\"revision\":";
  AppendJsonString(revision, &j);
  j += ",\"services\":{";
  bool first = true;
  for (const auto& [key, s] : ByMatchKey(m)) {
    if (!first) j += ',';
    first = false;
    AppendJsonString(key, &j);
    j += ":{";
    if (!s->group.empty()) {
      j += "\"group\":";
      AppendJsonString(s->group, &j);
      j += ',';
    }
    j += "\"name\":";
    AppendJsonString(s->name, &j);
    j += ",\"params\":{";
    std::map<std::string, std::string, JavaLess> sorted(s->params.begin(), s->params.end());
    bool first_param = true;
    for (const auto& [k, v] : sorted) {
      if (!first_param) j += ',';
      first_param = false;
      AppendJsonString(k, &j);
      j += ':';
      AppendJsonString(v, &j);
    }
    j += "},\"path\":";
    AppendJsonString(s->path, &j);
    j += ",\"port\":" + std::to_string(s->port) + ",\"protocol\":";
    AppendJsonString(s->protocol, &j);
    if (!s->version.empty()) {
      j += ",\"version\":";
      AppendJsonString(s->version, &j);
    }
    j += '}';
  }
  return j + "}}";
}

std::string MetadataReportPath(std::string_view root, std::string_view app,
                               std::string_view revision) {
  return NormalizeRoot(root) + "/metadata/" + std::string(app) + "/" + std::string(revision);
}

std::string MappingPath(std::string_view root, std::string_view interface_name) {
  return NormalizeRoot(root) + "/mapping/" + std::string(interface_name);
}

std::vector<std::string> MappingApplications(std::string_view content) {
  std::vector<std::string> apps;
  while (true) {
    size_t comma = content.find(',');
    std::string_view name = content.substr(0, comma);
    // String.trim: drops leading and trailing chars <= U+0020.
    while (!name.empty() && static_cast<unsigned char>(name.front()) <= 0x20) name.remove_prefix(1);
    while (!name.empty() && static_cast<unsigned char>(name.back()) <= 0x20) name.remove_suffix(1);
    if (!name.empty() && std::find(apps.begin(), apps.end(), name) == apps.end()) {
      apps.emplace_back(name);
    }
    if (comma == std::string_view::npos) break;
    content.remove_prefix(comma + 1);
  }
  return apps;
}

std::optional<std::string> MappingWithApplication(std::string_view content, std::string_view app) {
  for (const auto& existing : MappingApplications(content)) {
    if (existing == app) return std::nullopt;
  }
  // An empty (or blank, StringUtils.isNotEmpty is false only for "") content is replaced.
  if (content.empty()) return std::string(app);
  return std::string(content) + "," + std::string(app);
}

}  // namespace zkop::dubbo
