// Dubbo registry records, byte for byte as Apache Dubbo writes them.
//
// Interface level (Dubbo 2.7 / 3 ZookeeperRegistry): the ephemeral node
//   <root>/<URL.encode(interface)>/providers/<URL.encode(url.toFullString())>
// where the URL is protocol://host:port/<interface>?<parameters in TreeMap order>.
// Application level (Dubbo 3 ZookeeperServiceDiscovery): the ephemeral node
//   <servicesRoot>/<application>/<host>:<port> holding Curator's ServiceInstance JSON.
//
// Contract: pure functions; never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zkop::dubbo {

// Dubbo's protocol version parameter ("dubbo=2.0.2").
inline constexpr std::string_view kDubboProtocolVersion = "2.0.2";
// MetadataService.VERSION: the instance's `meta-v` and the url-params' "version".
inline constexpr std::string_view kMetadataServiceVersion = "1.0.0";

struct ProviderSpec {
  std::string protocol = "dubbo";
  std::string host;
  int port = 0;
  std::string interface_name;  // also the URL path
  std::string application;
  std::vector<std::string> methods;  // sorted and de-duplicated on output; empty -> "*"
  std::string version;               // omitted when empty
  std::string group;                 // omitted when empty
  bool anyhost = true;
  int64_t pid = 0;
  std::string release;       // the Dubbo release, e.g. "2.7.23"
  int64_t timestamp_ms = 0;  // export time, ms since the epoch
  // Additional parameters; a key here replaces a standard one.
  std::vector<std::pair<std::string, std::string>> extra;
};

// The parameters in the order URL.toFullString() writes them (Java String order).
std::vector<std::pair<std::string, std::string>> ProviderParameters(const ProviderSpec& spec);

// url.toFullString().
std::string ProviderUrl(const ProviderSpec& spec);

// Registry root as Dubbo spells it: "/dubbo" -> "/dubbo", "dubbo" -> "/dubbo", "/" -> "".
std::string NormalizeRoot(std::string_view root);

// <root>/<interface>/providers (each level a persistent node).
std::string ProvidersPath(std::string_view root, std::string_view interface_name);

// The full path of the ephemeral provider node.
std::string ProviderNodePath(std::string_view root, const ProviderSpec& spec);

// True for a Java fully qualified type name: dot-separated identifiers (below).
bool IsJavaQualifiedName(std::string_view name);
// True for a Java identifier: valid UTF-8 whose first code point passes
// Character.isJavaIdentifierStart and the others isJavaIdentifierPart (Unicode letters,
// digits, '_', '$', currency symbols, combining marks, ...), minus the ignorable control and
// format characters Java accepts and then drops; not a reserved word. The table is
// generated from the JDK (tests/JavaIdentifierTable.java).
bool IsJavaIdentifier(std::string_view name);

struct InstanceEndpoint {
  std::string protocol;
  int port = 0;
};

struct InstanceSpec {
  std::string application;
  std::string host;
  int port = 0;  // the instance's main port
  std::vector<InstanceEndpoint> endpoints;
  std::string release;
  std::string revision;  // dubbo.metadata.revision (metadata.h Revision)
  int64_t timestamp_ms = 0;
  int64_t registration_time_ms = 0;
  // Instance parameters the services' URLs carry (DefaultMetadataParamsFilter's included
  // instance params besides timestamp: heartbeat.timeout, ipv6).
  std::vector<std::pair<std::string, std::string>> instance_params;
};

// The instance metadata Dubbo 3.3 writes for a provider whose metadata is in the metadata
// report, in key order (DefaultServiceInstance.getSortedMetadata): dubbo.endpoints
// (ProtocolPortsMetadataCustomizer), dubbo.metadata-service.url-params and meta-v
// (MetadataServiceURLParamsMetadataCustomizer), dubbo.metadata.revision,
// dubbo.metadata.storage-type=remote, timestamp and the instance params.
std::vector<std::pair<std::string, std::string>> InstanceMetadata(const InstanceSpec& spec);
// dubbo.metadata-service.url-params: ServiceInstanceMetadataUtils.getMetadataServiceParameter
// of the MetadataService URL (version 1.0.0) on the dubbo endpoint (else the first).
std::string MetadataServiceUrlParams(const InstanceSpec& spec);
// Curator ServiceInstance JSON of a Dubbo 3 application-level instance.
std::string InstanceJson(const InstanceSpec& spec);
// The dubbo.metadata.revision of a Curator instance JSON written by anyone ("" when none).
std::string_view InstanceRevision(std::string_view json);
// <servicesRoot>/<application>/<host>:<port>
std::string InstanceNodePath(std::string_view services_root, const InstanceSpec& spec);

}  // namespace zkop::dubbo
