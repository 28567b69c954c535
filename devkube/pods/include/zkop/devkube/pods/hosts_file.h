// Pod and Service names as a hosts file: the runtime's stand-in for cluster DNS. Every Pod
// gets its own file (its namespace decides what a bare Service name means); the JVM reads it
// through -Djdk.net.hosts.file and C programs through libnss_wrapper (NSS_WRAPPER_HOSTS).
//
// Records (cluster domain "cluster.local"):
//  - a Pod with an address and spec.hostname/subdomain: <hostname>.<subdomain>.<ns>.svc.<domain>,
//    <hostname>.<subdomain>.<ns>.svc and <hostname>.<subdomain> (the latter in its own
//    namespace only), whether or not it is ready;
//  - a Service with a selector: <svc>.<ns>.svc.<domain>, <svc>.<ns>.svc, <svc>.<ns> and, in
//    its own namespace, <svc>: one line per selected Pod address — ready Pods, plus not-ready
//    ones when publishNotReadyAddresses is set — for headless and ClusterIP Services alike
//    (DNS round robin stands in for the ClusterIP's load balancing);
//  - the Pod itself: its address for its hostname, its FQDN and "localhost" (a Pod's
//    localhost is its own address here), and 127.0.0.1 for the machine's hostname.
//
// Contract: pure functions of their arguments, deterministic output (sorted), thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace zkop::devkube::pods {

struct PodEndpoint {
  std::string ns;
  std::string name;
  std::string hostname;   // spec.hostname, else the Pod's name
  std::string subdomain;  // spec.subdomain, may be empty
  std::string ip;         // empty: no address yet (no records)
  bool ready = false;
  std::map<std::string, std::string> labels;
  bool operator==(const PodEndpoint&) const = default;
};

struct ServiceRecord {
  std::string ns;
  std::string name;
  std::map<std::string, std::string> selector;  // empty: no records (endpoints are manual)
  bool publish_not_ready = false;
};

std::string RenderHostsFile(const std::vector<PodEndpoint>& pods,
                            const std::vector<ServiceRecord>& services, const PodEndpoint& self,
                            const std::string& cluster_domain, const std::string& machine_hostname);

// Writes `content` to `path` through a temporary file in the same directory and rename(2), so
// readers see the old or the new file, never a partial one. False + *error on failure.
bool WriteFileAtomically(const std::string& path, const std::string& content, unsigned mode,
                         std::string* error);

}  // namespace zkop::devkube::pods
