#include "zkop/agent/resolve.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include "zkop/dubbo/settings.h"

namespace zkop::agent {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

AddressLister SystemAddresses() {
  return [] {
    std::vector<std::string> v4, v6;
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return v4;
    for (auto* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
      if (ifa->ifa_addr == nullptr || !(ifa->ifa_flags & IFF_UP)) continue;
      char buf[INET6_ADDRSTRLEN] = {0};
      if (ifa->ifa_addr->sa_family == AF_INET) {
        auto* a = reinterpret_cast<struct sockaddr_in*>(ifa->ifa_addr);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        v4.emplace_back(buf);
      } else if (ifa->ifa_addr->sa_family == AF_INET6) {
        auto* a = reinterpret_cast<struct sockaddr_in6*>(ifa->ifa_addr);
        if (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) continue;
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        v6.emplace_back(buf);
      }
    }
    freeifaddrs(list);
    v4.insert(v4.end(), v6.begin(), v6.end());
    return v4;
  };
}

std::string Declared::OwnerName() const {
  std::string s =
      "application " + (application.empty() ? std::string("(unnamed)") : application.str());
  if (!source.empty()) s += " (" + source + ")";
  return s;
}

bool CheckRegistryHost(const std::string& host, std::string* why) {
  if (host == "localhost" || host == "0.0.0.0" || host == "::") {
    *why = "\"" + host + "\" is not an address consumers can reach; give the provider's IP";
    return false;
  }
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    if (buf[0] >= 224 || (buf[0] == 0)) {
      *why = "\"" + host + "\" is not a unicast address";
      return false;
    }
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    const auto* a = reinterpret_cast<const struct in6_addr*>(buf);
    if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a)) {
      *why = "\"" + host + "\" is not a unicast address";
      return false;
    }
    return true;
  }
  std::string shown = host.size() > 64 ? host.substr(0, 61) + "..." : host;
  *why = "\"" + shown +
         "\" is not an IP address (IPv4 like 10.0.0.5 or IPv6; DNS names are "
         "not accepted: consumers connect to what is registered)";
  return false;
}

namespace {

bool IsLoopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1" || ip == "0.0.0.0" || ip == "::" ||
         ip == "localhost";
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Dubbo's getValueFromConfig: "<PROTOCOL>_<key>" first, then "<key>"; empty counts as unset.
std::optional<std::pair<std::string, std::string>> EnvValue(const EnvLookup& env,
                                                            const std::string& protocol,
                                                            const std::string& key) {
  for (const std::string& name : {Upper(protocol) + "_" + key, key}) {
    auto v = env(name);
    if (v && !v->empty()) return std::make_pair(name, *v);
  }
  return std::nullopt;
}

struct LoadedSource {
  dubbo::DubboSettings settings;
  std::string error;
};

}  // namespace

std::vector<Declared> Resolve(const AgentConfig& config, const EnvLookup& env,
                              const AddressLister& addresses) {
  std::map<std::string, LoadedSource> loaded;
  std::map<std::string, const SourceConfig*> source_config;
  for (const auto& src : config.sources) {
    source_config[src.path] = &src;
    LoadedSource ls;
    try {
      dubbo::SettingMap m = src.kind == SourceConfig::Kind::kDubboProperties
                                ? dubbo::LoadPropertiesFile(src.path)
                                : dubbo::LoadSpringBootFile(src.path);
      ls.settings = dubbo::ExtractDubboSettings(m);
    } catch (const dubbo::PropertiesError& e) {
      ls.error = e.what();
      if (e.line() == 0) {  // the file as a whole: say which entry of the agent config names it
        ls.error +=
            " [" + src.key_path + " at " + config.file + ":" + std::to_string(src.line) + "]";
      }
    }
    loaded[src.path] = std::move(ls);
  }

  std::optional<std::string> pod_ip = env("POD_IP");
  std::vector<std::string> machine_addresses;
  bool listed = false;
  std::vector<Declared> out;
  out.reserve(config.services.size());
  for (size_t i = 0; i < config.services.size(); ++i) {
    const ServiceConfig& sc = config.services[i];
    Declared d;
    d.index = i;
    d.key_path = sc.key_path;
    d.interface_name = sc.interface_name;
    d.methods = sc.methods;
    d.version = sc.version;
    d.group = sc.group;
    d.parameters = sc.parameters;
    d.source = sc.source;
    d.process = sc.process;
    const SourceConfig* src = sc.source.empty() ? nullptr : source_config.at(sc.source);
    const LoadedSource* ls = sc.source.empty() ? nullptr : &loaded.at(sc.source);
    if (d.process.empty() && src) d.process = src->process;
    if (ls && !ls->error.empty()) {
      d.config_error = ls->error;
      out.push_back(std::move(d));
      continue;
    }
    const dubbo::DubboSettings* ds = ls ? &ls->settings : nullptr;

    // Application: services[].application, sources[].application, the file, the top level.
    d.application = sc.application;
    if (d.application.empty() && src) d.application = src->application;
    if (d.application.empty() && ds && ds->application) d.application = ds->application->value;
    if (d.application.empty()) d.application = config.application;
    if (d.application.empty()) {
      d.config_error = sc.key_path + ": no application name: set application: at the top of " +
                       config.file + " or dubbo.application.name in the provider's config";
    } else if (config.register_mode != RegisterMode::kInterface) {
      // It names ZooKeeper nodes: <servicesRoot>/<application>, <root>/metadata/<application>.
      std::string_view app = d.application.str();
      bool control = std::any_of(app.begin(), app.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      });
      if (app.find('/') != std::string_view::npos || app == "." || app == ".." || control) {
        d.config_error = sc.key_path + ": application \"" + std::string(app) +
                         "\" cannot name a ZooKeeper node (registerMode " +
                         std::string(RegisterModeName(config.register_mode)) +
                         " writes <servicesRoot>/<application>): use a name without '/', control "
                         "characters, and other than . and ..";
      }
    }

    // Protocol: services[].protocol names a protocol id or name of the source.
    const dubbo::ProtocolSetting* proto = nullptr;
    if (ds) {
      for (const auto& p : ds->protocols) {
        if (!sc.protocol.empty() &&
            (p.id == dubbo::CanonicalKey(sc.protocol) || p.name == sc.protocol)) {
          proto = &p;
          break;
        }
      }
      if (!proto && sc.protocol.empty() && !ds->protocols.empty()) proto = &ds->protocols.front();
    }
    d.protocol = proto ? proto->name : (sc.protocol.empty() ? "dubbo" : sc.protocol);
    auto def = dubbo::DefaultPort(d.protocol);
    d.default_port = def.value_or(0);

    // Bind port.
    auto bad_env = [&](const std::pair<std::string, std::string>& e) {
      d.config_error = "environment variable " + e.first + "=\"" + e.second +
                       "\": expected a port number 1-65535";
    };
    if (auto e = EnvValue(env, d.protocol, "DUBBO_PORT_TO_BIND")) {
      int p = 0;
      if (!dubbo::ParseDubboPort(e->second, &p) || p <= 0) {
        bad_env(*e);
      } else {
        d.bind_port = p;
        d.port_origin = "environment " + e->first;
      }
    } else if (sc.port) {
      d.bind_port = *sc.port;
      d.port_origin =
          config.file + ":" + std::to_string(sc.port_line) + " " + sc.key_path + ".port";
    } else if (proto && proto->port && *proto->port != 0) {
      d.bind_port = *proto->port;
      std::string key =
          proto->id.empty() ? "dubbo.protocol.port" : "dubbo.protocols." + proto->id + ".port";
      d.port_origin = proto->origin->file + ":" + std::to_string(proto->origin->line) + " " + key;
    } else if (ds && ds->provider_port && *ds->provider_port != 0) {
      d.bind_port = *ds->provider_port;
      d.port_origin = ds->provider_port_origin->file + ":" +
                      std::to_string(ds->provider_port_origin->line) + " dubbo.provider.port";
    } else if (def) {
      d.bind_port = *def;
      d.port_origin = "the default port of protocol " + d.protocol;
    } else if (d.config_error.empty()) {
      std::string where =
          proto && proto->name_origin
              ? proto->name_origin->file + ":" + std::to_string(proto->name_origin->line) + ": " +
                    (proto->id.empty() ? "dubbo.protocol.name"
                                       : "dubbo.protocols." + proto->id + ".name")
              : config.file + ":" + std::to_string(sc.line) + ": " + sc.key_path + ".protocol";
      d.config_error = where + ": protocol \"" + d.protocol +
                       "\" has no default port (known: dubbo, tri, grpc, rest, http, hessian, "
                       "webservice, rmi, thrift, redis, memcached); fix the name or set a port";
    }
    if (d.bind_port == -1 && !def && d.config_error.empty()) {
      d.config_error = sc.key_path + ": port -1 needs a protocol with a default port";
    }

    // Registry port.
    if (auto e = EnvValue(env, d.protocol, "DUBBO_PORT_TO_REGISTRY")) {
      int p = 0;
      if (!dubbo::ParseDubboPort(e->second, &p) || p <= 0) {
        bad_env(*e);
      } else {
        d.registry_port = p;
      }
    }

    // Host.
    std::string configured_host = config.host == "auto" ? "" : config.host;
    std::string configured_origin = "configured host";
    auto from_file = [&](const std::string& host, const std::optional<dubbo::Setting>& origin,
                         const std::string& key) {
      configured_host = host;
      if (origin) configured_origin = origin->file + ":" + std::to_string(origin->line) + " " + key;
    };
    if (configured_host.empty() && proto && !proto->host.empty()) {
      from_file(
          proto->host, proto->host_origin,
          proto->id.empty() ? "dubbo.protocol.host" : "dubbo.protocols." + proto->id + ".host");
    }
    if (configured_host.empty() && ds && !ds->provider_host.empty())
      from_file(ds->provider_host, ds->provider_host_origin, "dubbo.provider.host");
    auto reg = EnvValue(env, d.protocol, "DUBBO_IP_TO_REGISTRY");
    auto bind = EnvValue(env, d.protocol, "DUBBO_IP_TO_BIND");
    d.anyhost = !bind && configured_host.empty();
    if (reg) {
      d.host = reg->second;
      d.host_origin = "environment " + reg->first;
    } else if (bind) {
      d.host = bind->second;
      d.host_origin = "environment " + bind->first;
    } else if (!configured_host.empty()) {
      d.host = configured_host;
      d.host_origin = configured_origin;
    } else if (pod_ip && !pod_ip->empty()) {
      d.host = *pod_ip;
      d.host_origin = "environment POD_IP";
    } else {
      if (!listed) {  // the machine's addresses: looked up once, not once per service
        machine_addresses = addresses();
        listed = true;
      }
      for (const auto& a : machine_addresses) {
        if (!IsLoopback(a)) {
          d.host = a;
          break;
        }
      }
      d.host_origin = "first non-loopback address";
      if (d.host.empty() && d.config_error.empty()) {
        d.config_error =
            "no registry host: no DUBBO_IP_TO_REGISTRY, host, POD_IP or "
            "non-loopback address; set host: in " +
            config.file;
      }
    }
    std::string why;
    if (!d.host.empty() && d.config_error.empty() && !CheckRegistryHost(d.host, &why)) {
      d.config_error = "registry host from " + d.host_origin + ": " + why;
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace zkop::agent
