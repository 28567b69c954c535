// Turns the agent config, the providers' own config files and the Dubbo environment
// variables into one Declared service per configured service: which application it belongs
// to, which port its provider binds, which port and host go into the registry.
//
// Dubbo's precedence (ServiceConfig.findConfigedPorts / findConfigedHosts, ConfigUtils):
//  - bind port: <PROTOCOL>_DUBBO_PORT_TO_BIND, DUBBO_PORT_TO_BIND, services[].port,
//    the source's dubbo.protocol(s).port, dubbo.provider.port, the protocol's default port;
//    -1 means "the first free port from the default upward" (resolved by Diagnose).
//  - registry port: <PROTOCOL>_DUBBO_PORT_TO_REGISTRY, DUBBO_PORT_TO_REGISTRY, else the
//    bind port.
//  - registry host: <PROTOCOL>_DUBBO_IP_TO_REGISTRY, DUBBO_IP_TO_REGISTRY,
//    <PROTOCOL>_DUBBO_IP_TO_BIND, DUBBO_IP_TO_BIND, the configured host (agent `host`, or
//    the source's dubbo.protocol.host / dubbo.provider.host), POD_IP, the first non-loopback
//    address. anyhost=true unless a bind host was configured (env or config), as in Dubbo.
//  Environment variables win over files; for each, the environment is read before Java
//  system properties in Dubbo — the agent has only the environment.
//
// A problem with one service (unreadable source, bad port value in a file or in the
// environment, no application name, a registry host that is not an IP address — see
// CheckRegistryHost — from any of the places above) makes that service a config error
// naming the place (file:line, environment variable); the others resolve.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "zkop/agent/atom.h"
#include "zkop/agent/config.h"

namespace zkop::agent {

// The process environment, behind a function so tests can supply their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

// Lists the machine's addresses (for host "auto" without POD_IP); first non-loopback wins.
using AddressLister = std::function<std::vector<std::string>()>;
AddressLister SystemAddresses();  // getifaddrs(): IPv4 first, then IPv6

// One per configured service. Fields that are mostly the same for every service of a
// provider are Atoms (8 bytes each; 10,000 services are ~2.5 MB smaller).
struct Declared {
  size_t index = 0;      // services[index]
  std::string key_path;  // "services[2]"
  std::string interface_name;
  std::vector<std::string> methods;
  Atom version;
  Atom group;
  Atom protocol = "dubbo";
  Atom application;
  std::vector<std::pair<std::string, std::string>> parameters;
  int bind_port = 0;        // -1 = auto
  int default_port = 0;     // the protocol's default (for -1)
  int registry_port = 0;    // 0 = the bind port
  std::string port_origin;  // where the bind port came from, for messages
  Atom source;              // the provider's config file ("" when none)
  Atom process;             // explicit command-line match ("" = infer)
  Atom host;                // registry host
  Atom host_origin;
  bool anyhost = true;
  Atom config_error;  // non-empty: this service cannot be resolved
  // Identity of the provider: services with equal owner keys are one application.
  std::string OwnerKey() const { return application + "\n" + source; }
  // "application orders (/app/a/dubbo.properties)"
  std::string OwnerName() const;
};

// A registry host must be a unicast IP address (IPv4 or IPv6; 127.x is accepted for
// single-host setups): not a DNS name, not 0.0.0.0, ::, localhost or a multicast address,
// and nothing that would change the URL around it. False with the reason otherwise.
bool CheckRegistryHost(const std::string& host, std::string* why);

std::vector<Declared> Resolve(const AgentConfig& config, const EnvLookup& env,
                              const AddressLister& addresses);

}  // namespace zkop::agent
