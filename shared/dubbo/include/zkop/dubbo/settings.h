// What a Dubbo provider's own configuration says about it: its application name and the
// protocols (name, port, host) it exports on. Read from dubbo.properties and from Spring
// Boot application.yml / application.properties.
//
// Errors: PropertiesError (file, line, key, what was expected) for unreadable or malformed
// input, for a port that is not an integer in [-1, 65535], and for a key that must hold a
// value but holds a mapping or a list (`port: {a: 1}`). Spring Boot YAML is bounded first
// (config::CheckYaml: size, depth, alias expansion, duplicate keys). Setup-time code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zkop/dubbo/properties.h"

namespace zkop::dubbo {

// Spring Boot application.yml / application.yaml (every YAML document whose activation does
// not depend on a profile, later documents override earlier ones; keys flattened with '.',
// list items as key[i]) or application.properties (java.util.Properties rules). Which format
// is chosen by the file's extension.
SettingMap LoadSpringBootFile(const std::string& path);
// The YAML half of LoadSpringBootFile, on text (`file` names it in errors).
SettingMap ParseSpringBootYaml(const std::string& text, const std::string& file);

// Spring's relaxed binding, reduced to what matters for dubbo.* keys: lower case, '-' and
// '_' removed ("dubbo.protocol.port", "dubbo.Protocol.port" and "dubbo.pro-tocol.port" match).
std::string CanonicalKey(const std::string& key);

struct ProtocolSetting {
  std::string id;    // "" for dubbo.protocol.*, else <id> of dubbo.protocols.<id>.* (canonical)
  std::string name;  // dubbo.protocol(s).name; "dubbo" when unset
  std::optional<int> port;             // -1 = "first free from the default port upward"; 0 = unset
  std::optional<Setting> origin;       // where the port was set
  std::string host;                    // dubbo.protocol(s).host, "" when unset
  std::optional<Setting> name_origin;  // where the name was set (unset: the default dubbo)
  std::optional<Setting> host_origin;  // where the host was set
};

struct DubboSettings {
  std::optional<Setting> application;  // dubbo.application.name, else spring.application.name
  std::vector<ProtocolSetting> protocols;
  std::optional<int> provider_port;  // dubbo.provider.port
  std::optional<Setting> provider_port_origin;
  std::string provider_host;  // dubbo.provider.host
  std::optional<Setting> provider_host_origin;
};

DubboSettings ExtractDubboSettings(const SettingMap& settings);

// Parses a Dubbo port value: an integer in [-1, 65535]. Returns false on anything else.
bool ParseDubboPort(const std::string& text, int* port);

// Dubbo's default port per protocol name (dubbo 20880, tri 50051, rest/http 80, ...);
// nullopt for a protocol without a known default.
std::optional<int> DefaultPort(const std::string& protocol);

}  // namespace zkop::dubbo
