#include "zkop/agent/config.h"

#include <arpa/inet.h>

#include "zkop/agent/resolve.h"

#include <map>
#include <set>

#include "zkop/dubbo/provider_url.h"
#include "zkop/http/health_server.h"

namespace zkop::agent {

using config::YamlReader;

std::string_view RegisterModeName(RegisterMode m) {
  switch (m) {
    case RegisterMode::kInterface:
      return "interface";
    case RegisterMode::kInstance:
      return "instance";
    case RegisterMode::kAll:
      return "all";
  }
  return "interface";
}

namespace {

std::string ZkPath(const YamlReader& r, std::string_view key, std::string_view def) {
  if (!r.Has(key)) return std::string(def);
  YamlReader n = r.Get(key);
  std::string v = n.AsString();
  if (v.empty() || v[0] != '/' || (v.size() > 1 && v.back() == '/') ||
      v.find("//") != std::string::npos) {
    n.FailExpected("an absolute ZooKeeper path like \"/dubbo\"");
  }
  return v;
}

// "host:port[,host:port...][/chroot]" as the ZooKeeper C client reads it (the port after the
// last ':', so an IPv6 address is written without brackets). "" when valid, else the reason.
std::string ConnectStringProblem(const std::string& connect) {
  std::string hosts = connect;
  size_t slash = connect.find('/');
  if (slash != std::string::npos) {
    hosts = connect.substr(0, slash);
    std::string chroot = connect.substr(slash);
    if (chroot != "/" && (chroot.back() == '/' || chroot.find("//") != std::string::npos ||
                          chroot.find_first_of(" \t\r\n") != std::string::npos)) {
      return "the chroot \"" + chroot + "\" is not a ZooKeeper path like /apps/dubbo";
    }
  }
  if (hosts.empty()) return "no servers before the chroot";
  size_t start = 0;
  while (start <= hosts.size()) {
    size_t comma = hosts.find(',', start);
    std::string server = hosts.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t colon = server.rfind(':');
    std::string host = colon == std::string::npos ? server : server.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : server.substr(colon + 1);
    if (server.empty()) return "an empty server entry (two commas, or a comma at an end)";
    if (host.empty()) return "server \"" + server + "\" has no host";
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
        std::stoi(port) > 65535) {
      return "server \"" + server + "\" needs a port 1-65535 after the last ':'";
    }
    bool name = host.find_first_not_of(
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
                std::string::npos;
    bool v6 = host.find(':') != std::string::npos &&
              host.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos &&
              host.find(":::") == std::string::npos;
    if (!(name && host.front() != '.' && host.front() != '-') && !v6) {
      return "server \"" + server + "\": \"" + host + "\" is not a host name or IP address";
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

int64_t ParseBytes(const YamlReader& n) {
  std::string s = n.AsString();
  int64_t mult = 1;
  std::string num = s;
  for (auto [suffix, m] : {std::pair<std::string_view, int64_t>{"Ki", 1024},
                           {"Mi", 1024 * 1024},
                           {"KiB", 1024},
                           {"MiB", 1024 * 1024}}) {
    if (s.size() > suffix.size() && s.ends_with(suffix)) {
      mult = m;
      num = s.substr(0, s.size() - suffix.size());
    }
  }
  int64_t v = 0;
  for (char c : num) {
    if (c < '0' || c > '9' || v > (int64_t{1} << 40)) {
      n.FailExpected("a byte count like 524288, \"512Ki\" or \"1Mi\"");
    }
    v = v * 10 + (c - '0');
  }
  v *= mult;
  if (num.empty() || v < 4096 || v > 1800 * 1024) {
    n.FailExpected("a byte count between 4Ki and 1800Ki",
                   "ZooKeeper cannot replay closing a session whose ephemeral paths exceed its "
                   "~2 MB jute buffer (ZOOKEEPER-4306); the default 512Ki is safe");
  }
  return v;
}

SourceConfig ParseSource(const YamlReader& n, size_t i) {
  SourceConfig s;
  s.key_path = n.path();
  s.line = n.line();
  if (!n.IsMap()) n.FailExpected("a mapping with dubboProperties: FILE or springBoot: FILE");
  n.ExpectKeys({"dubboProperties", "springBoot", "application", "process"});
  bool props = n.Has("dubboProperties");
  bool boot = n.Has("springBoot");
  if (props == boot) {
    n.Fail(
        "set exactly one of dubboProperties (a dubbo.properties file) or springBoot (an "
        "application.yml / application.properties file)");
  }
  s.kind = props ? SourceConfig::Kind::kDubboProperties : SourceConfig::Kind::kSpringBoot;
  YamlReader p = n.Get(props ? "dubboProperties" : "springBoot");
  s.path = p.AsString();
  if (s.path.empty()) p.FailExpected("a file path");
  if (boot &&
      !(s.path.ends_with(".yml") || s.path.ends_with(".yaml") || s.path.ends_with(".properties"))) {
    p.FailExpected("a file ending in .yml, .yaml or .properties");
  }
  s.application = n.String("application", "");
  s.process = n.String("process", "");
  (void)i;
  return s;
}

ServiceConfig ParseService(const YamlReader& n, const std::vector<SourceConfig>& sources) {
  ServiceConfig s;
  s.key_path = n.path();
  s.line = n.line();
  if (!n.IsMap()) n.FailExpected("a mapping with at least interface: and methods:");
  n.ExpectKeys({"interface", "methods", "version", "group", "port", "protocol", "application",
                "source", "process", "parameters"});
  YamlReader iface = n.Get("interface");
  s.interface_name = n.RequiredString("interface");
  if (!dubbo::IsJavaQualifiedName(s.interface_name)) {
    iface.FailExpected("a Java interface name like org.apache.dubbo.demo.DemoService",
                       "dot-separated Java identifiers, no reserved words");
  }
  if (n.Has("methods")) {
    YamlReader m = n.Get("methods");
    s.methods = m.AsStringList();
    for (size_t k = 0; k < s.methods.size(); ++k) {
      if (!dubbo::IsJavaIdentifier(s.methods[k])) {
        m.AsList()[k].FailExpected("a Java method name like sayHello");
      }
    }
  }
  s.version = n.String("version", "");
  s.group = n.String("group", "");
  if (n.Has("port")) {
    YamlReader p = n.Get("port");
    int64_t v = p.AsInt(-1, 65535);
    if (v == 0) p.FailExpected("a port 1-65535 or -1", "leave port out to take it from the source");
    s.port = static_cast<int>(v);
    s.port_line = p.line();
  }
  s.protocol = n.String("protocol", "");
  s.application = n.String("application", "");
  s.process = n.String("process", "");
  if (n.Has("source")) {
    YamlReader src = n.Get("source");
    s.source = src.AsString();
    bool found = false;
    std::string known;
    for (const auto& so : sources) {
      found = found || so.path == s.source;
      known += (known.empty() ? "" : ", ") + so.path;
    }
    if (!found) {
      src.FailExpected("the path of one of the configured sources",
                       known.empty() ? "no sources are configured" : "one of: " + known);
    }
  } else if (sources.size() > 1) {
    n.Fail(
        "several sources are configured; set source: to the file this service's provider "
        "reads (one of the sources[].dubboProperties / springBoot paths)");
  } else if (sources.size() == 1) {
    s.source = sources[0].path;
  }
  if (n.Has("parameters")) {
    std::set<std::string> reserved = {"interface", "methods", "application", "side", "pid",
                                      "timestamp", "dubbo",   "version",     "group"};
    for (auto& [k, v] : n.Get("parameters").AsEntries()) {
      if (reserved.count(k)) {
        v.Fail("parameter \"" + k + "\" is set by the agent; use the service's own key instead");
      }
      s.parameters.emplace_back(k, v.AsString());
    }
  }
  return s;
}

}  // namespace

AgentConfig ParseConfig(const YamlReader& root, const ConfigOverrides& overrides) {
  AgentConfig c;
  c.file = root.file();
  if (!root.IsMap()) root.FailExpected("a mapping (the agent config)");
  root.ExpectKeys({"zookeeper", "application", "host", "probeInterval", "verifyInterval",
                   "shutdownTimeout", "metricsAddress", "registerMode", "release", "sources",
                   "services"});
  YamlReader zk = root.Get("zookeeper");
  if (!zk.IsMap() && (zk.present() || !overrides.connect)) {
    zk.FailExpected("a mapping with connect: HOST:PORT[,HOST:PORT...]");
  }
  zk.ExpectKeys({"connect", "sessionTimeout", "root", "servicesRoot", "sessionPathBudget"});
  constexpr const char* kConnectExpected =
      "a connect string like zk-client:2181 or 10.0.0.1:2181,10.0.0.2:2181/chroot";
  if (overrides.connect) {
    c.connect = *overrides.connect;
    if (std::string why = c.connect.empty() ? "it is empty" : ConnectStringProblem(c.connect);
        !why.empty()) {
      throw config::ConfigError("--zookeeper", 0, 0, "",
                                std::string("expected ") + kConnectExpected + ", found \"" +
                                    c.connect + "\" (" + why + ")");
    }
  } else {
    c.connect = zk.RequiredString("connect");
    if (std::string why = c.connect.empty() ? "it is empty" : ConnectStringProblem(c.connect);
        !why.empty()) {
      zk.Get("connect").FailExpected(kConnectExpected, why);
    }
  }
  c.session_timeout = zk.Duration("sessionTimeout", c.session_timeout);
  if (c.session_timeout < std::chrono::seconds(2) || c.session_timeout > std::chrono::minutes(10)) {
    zk.Get("sessionTimeout").FailExpected("a duration between 2s and 10m");
  }
  c.root = ZkPath(zk, "root", c.root);
  c.services_root = ZkPath(zk, "servicesRoot", c.services_root);
  if (zk.Has("sessionPathBudget")) c.session_path_budget = ParseBytes(zk.Get("sessionPathBudget"));

  c.application = root.String("application", "");
  c.host = root.String("host", "auto");
  c.probe_interval = root.Duration("probeInterval", c.probe_interval);
  if (c.probe_interval < std::chrono::milliseconds(50) ||
      c.probe_interval > std::chrono::minutes(5)) {
    root.Get("probeInterval").FailExpected("a duration between 50ms and 5m");
  }
  c.verify_interval = root.Duration("verifyInterval", c.verify_interval);
  if (c.verify_interval < c.probe_interval) {
    root.Get("verifyInterval").FailExpected("a duration not shorter than probeInterval");
  }
  c.shutdown_timeout = root.Duration("shutdownTimeout", c.shutdown_timeout);
  c.metrics_address = root.String("metricsAddress", c.metrics_address);
  if (overrides.metrics_address) c.metrics_address = *overrides.metrics_address;
  if (!c.metrics_address.empty()) {
    http::Endpoint ep;
    std::string err;
    if (!http::ParseEndpoint(c.metrics_address, &ep, &err)) {
      if (overrides.metrics_address) throw config::ConfigError("--metrics-address", 0, 0, "", err);
      root.Get("metricsAddress").FailExpected("host:port like 0.0.0.0:9464", err);
    }
    in6_addr any;
    if (overrides.metrics_address && inet_pton(AF_INET, ep.host.c_str(), &any) != 1 &&
        inet_pton(AF_INET6, ep.host.c_str(), &any) != 1) {
      throw config::ConfigError(
          "--metrics-address", 0, 0, "",
          "\"" + ep.host +
              "\" is not an IP address (expected host:port, e.g. $(POD_IP):9464 "
              "with POD_IP defined from status.podIP before the reference)");
    }
  }
  std::string mode = root.String("registerMode", "interface");
  if (mode == "interface") {
    c.register_mode = RegisterMode::kInterface;
  } else if (mode == "instance") {
    c.register_mode = RegisterMode::kInstance;
  } else if (mode == "all") {
    c.register_mode = RegisterMode::kAll;
  } else {
    root.Get("registerMode").FailExpected("one of interface, instance, all");
  }
  c.release = root.String("release", c.release);

  auto sources = root.Get("sources").AsList();
  for (size_t i = 0; i < sources.size(); ++i) c.sources.push_back(ParseSource(sources[i], i));
  auto services = root.Get("services").AsList();
  if (services.empty()) {
    root.Get("services").FailExpected("a list of services (interface, methods, ...)");
  }
  c.services.reserve(services.size());
  for (const auto& s : services) c.services.push_back(ParseService(s, c.sources));
  if (c.host != "auto") {
    std::string why;
    if (c.host.empty() || !CheckRegistryHost(c.host, &why)) {
      root.Get("host").FailExpected("\"auto\" or the IP address to register", why);
    }
  }
  return c;
}

std::vector<std::string> DuplicateServices(const AgentConfig& c) {
  std::map<std::string, std::vector<size_t>> by_identity;
  std::vector<std::string> order;
  for (size_t i = 0; i < c.services.size(); ++i) {
    const ServiceConfig& s = c.services[i];
    std::string id = s.interface_name + '\n' + s.version + '\n' + s.group + '\n' + s.protocol +
                     '\n' + (s.port ? std::to_string(*s.port) : "") + '\n' + s.source;
    auto [it, added] = by_identity.try_emplace(std::move(id));
    if (added) order.push_back(it->first);
    it->second.push_back(i);
  }
  std::vector<std::string> out;
  for (const std::string& id : order) {
    const std::vector<size_t>& list = by_identity[id];
    if (list.size() < 2) continue;
    const ServiceConfig& first = c.services[list[0]];
    std::string m = c.file + ":" + std::to_string(first.line) + ": " + first.key_path + " (" +
                    first.interface_name +
                    (first.version.empty() ? "" : " version " + first.version) +
                    (first.group.empty() ? "" : " group " + first.group) + ") is listed " +
                    std::to_string(list.size()) + " times (also ";
    for (size_t k = 1; k < list.size() && k <= 3; ++k) {
      m += (k > 1 ? ", " : "") + c.services[list[k]].key_path + " at line " +
           std::to_string(c.services[list[k]].line);
    }
    if (list.size() > 4) m += ", ...";
    m += "); it is registered once: remove the repeats";
    out.push_back(std::move(m));
  }
  return out;
}

AgentConfig LoadConfigFile(const std::string& path, const ConfigOverrides& overrides) {
  return ParseConfig(YamlReader::LoadFile(path), overrides);
}

}  // namespace zkop::agent
