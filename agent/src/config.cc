#include "zkop/agent/config.h"

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

AgentConfig ParseConfig(const YamlReader& root) {
  AgentConfig c;
  c.file = root.file();
  if (!root.IsMap()) root.FailExpected("a mapping (the agent config)");
  root.ExpectKeys({"zookeeper", "application", "host", "probeInterval", "verifyInterval",
                   "shutdownTimeout", "metricsAddress", "registerMode", "release", "sources",
                   "services"});
  YamlReader zk = root.Get("zookeeper");
  if (!zk.IsMap()) zk.FailExpected("a mapping with connect: HOST:PORT[,HOST:PORT...]");
  zk.ExpectKeys({"connect", "sessionTimeout", "root", "servicesRoot", "sessionPathBudget"});
  c.connect = zk.RequiredString("connect");
  if (c.connect.empty()) zk.Get("connect").FailExpected("a connect string like zk-client:2181");
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
  if (!c.metrics_address.empty()) {
    http::Endpoint ep;
    std::string err;
    if (!http::ParseEndpoint(c.metrics_address, &ep, &err)) {
      root.Get("metricsAddress").FailExpected("host:port like 0.0.0.0:9464", err);
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
  if (c.host != "auto" && c.host.empty())
    root.Get("host").FailExpected("\"auto\" or an IP address");
  return c;
}

AgentConfig LoadConfigFile(const std::string& path) {
  return ParseConfig(YamlReader::LoadFile(path));
}

}  // namespace zkop::agent
