// Dubbo 3 application-level metadata, as Apache Dubbo 3.3 computes and stores it, so that a
// Dubbo 3 consumer resolves an application's services from ZooKeeper without calling the
// provider (instance metadata `dubbo.metadata.storage-type: remote`).
//
// Reproduced code paths (Apache Dubbo 3.3):
//  - ServiceInfo(URL, [DefaultMetadataParamsFilter]): a provider URL's service entry; its
//    params are the URL's minus monitor, bind.ip, bind.port, qos.*, validation, interfaces,
//    pid, timestamp, heartbeat.timeout, ipv6 (a key equal to one ignoring case, or containing
//    "." + one, is dropped).
//  - MetadataInfo.calAndGetRevision(): app + for each ServiceInfo in TreeMap order of its match
//    key ("[group/]interface[:version]:protocol") its toDescString() (match key + port + path +
//    TreeMap(params).toString()), hashed by RevisionResolver.calRevision: MD5 of the UTF-8
//    bytes, lowercase hex (MD5Utils). "0" when there are no services.
//  - ZookeeperMetadataReport: the persistent node <root>/metadata/<app>/<revision> holding the
//    MetadataInfo JSON (publishAppMetadata: created when absent or blank, never overwritten);
//    the persistent node <root>/mapping/<interface> holding the comma-joined application names
//    (MetadataServiceNameMapping.map: appended with a compare-and-set on the node's version;
//    ServiceNameMapping.getAppNames: split on ",", trimmed, empty names dropped).
//
// Contract: pure functions; never throw.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zkop/dubbo/provider_url.h"

namespace zkop::dubbo {

// RevisionResolver.EMPTY_REVISION.
inline constexpr std::string_view kEmptyRevision = "0";

struct ServiceInfo {
  std::string name;  // the interface
  std::string group;
  std::string version;
  std::string protocol;
  int port = 0;
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;  // in Java String order
};

// The ServiceInfo Dubbo builds from the provider URL of `spec`.
ServiceInfo ServiceInfoOf(const ProviderSpec& spec);
// URL.buildKey: [group/]name[:version].
std::string ServiceKey(const ServiceInfo& s);
// ServiceInfo.getMatchKey: ServiceKey:protocol.
std::string MatchKey(const ServiceInfo& s);
// ServiceInfo.toDescString.
std::string DescString(const ServiceInfo& s);

struct AppMetadata {
  std::string app;
  // MetadataInfo.services is keyed by match key: a later service with the same match key
  // replaces an earlier one (as Map.put does).
  std::vector<ServiceInfo> services;
};

// The string MetadataInfo.calAndGetRevision hashes.
std::string RevisionInput(const AppMetadata& m);
// MetadataInfo.calAndGetRevision: 32 lowercase hex digits, or "0" without services.
std::string Revision(const AppMetadata& m);
// The metadata report's content: MetadataInfo as JSON with the fields Dubbo's JSON readers
// fill ({"app","revision","services":{matchKey:{group?,name,params,path,port,protocol,
// version?}}}; fields in fastjson2's order (by name), absent group/version omitted, maps in
// key order).
std::string MetadataInfoJson(const AppMetadata& m, std::string_view revision);

// <root>/metadata/<app>/<revision>; `root` as NormalizeRoot spells it.
std::string MetadataReportPath(std::string_view root, std::string_view app,
                               std::string_view revision);
// <root>/mapping/<interface>.
std::string MappingPath(std::string_view root, std::string_view interface_name);
// ServiceNameMapping.getAppNames, in content order, each once.
std::vector<std::string> MappingApplications(std::string_view content);
// MetadataServiceNameMapping.map: the new content with `app` appended ("app" for empty
// content, else content + "," + app); nullopt when `app` is already there.
std::optional<std::string> MappingWithApplication(std::string_view content, std::string_view app);

// MD5 of `bytes` as 32 lowercase hex digits (MD5Utils.getMd5).
std::string Md5Hex(std::string_view bytes);

}  // namespace zkop::dubbo
