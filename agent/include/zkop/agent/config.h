// The agent's YAML configuration (DESIGN.md "Agent": these keys keep their meaning).
//
//   zookeeper: {connect, sessionTimeout, root, servicesRoot, sessionPathBudget}
//   application, host, probeInterval, verifyInterval, shutdownTimeout, metricsAddress,
//   registerMode (interface | instance | all), release,
//   sources: [{dubboProperties | springBoot: FILE, application?, process?}],
//   services: [{interface, methods, version?, group?, port?, protocol?, application?,
//               source?, process?, parameters?}]
//
// Errors: zkop::config::ConfigError naming file:line:column, the key path, what was
// expected and how to fix it. Unknown keys are errors. Setup-time code: throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "zkop/config/yaml_reader.h"

namespace zkop::agent {

enum class RegisterMode { kInterface, kInstance, kAll };
std::string_view RegisterModeName(RegisterMode m);

struct SourceConfig {
  enum class Kind { kDubboProperties, kSpringBoot };
  Kind kind = Kind::kDubboProperties;
  std::string path;         // the provider's config file
  std::string application;  // overrides the file's application name ("" = from the file)
  std::string process;      // substring of the provider's command line ("" = infer)
  std::string key_path;     // "sources[1]" (for messages)
  int line = 0;
};

struct ServiceConfig {
  std::string interface_name;
  std::vector<std::string> methods;
  std::string version;
  std::string group;
  std::optional<int> port;  // -1: the first free port from the protocol's default upward
  std::string protocol;     // protocol name or id of dubbo.protocols.<id> ("" = from source)
  std::string application;  // "" = from the source, else the top-level application
  std::string source;       // path of one of `sources` ("" = the only source, if any)
  std::string process;      // substring of the provider's command line ("" = infer)
  std::vector<std::pair<std::string, std::string>> parameters;  // extra URL parameters
  std::string key_path;                                         // "services[2]"
  int line = 0;
  int port_line = 0;
};

struct AgentConfig {
  std::string file;
  // zookeeper
  std::string connect;
  std::chrono::milliseconds session_timeout{30000};
  std::string root = "/dubbo";
  std::string services_root = "/services";
  int64_t session_path_budget = 512 * 1024;  // ephemeral path bytes per ZooKeeper session
  // agent
  std::string application;
  std::string host = "auto";
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds verify_interval{10000};
  std::chrono::milliseconds shutdown_timeout{5000};
  std::string metrics_address = "0.0.0.0:9464";
  RegisterMode register_mode = RegisterMode::kInterface;
  std::string release = "2.7.23";  // the "release" URL parameter (Dubbo version written)
  std::vector<SourceConfig> sources;
  std::vector<ServiceConfig> services;
};

// Values given on the command line (`--zookeeper`, `--metrics-address`) that win over the
// file's `zookeeper.connect` and `metricsAddress`. In a Pod they come from the environment
// (`$(ZOOKEEPER)` of the cluster's discovery ConfigMap, `$(POD_IP):9464`), so one ConfigMap
// serves every Pod and every cluster. With `connect` set, the file may leave
// `zookeeper.connect` out. Bad values fail like the file's keys, named by the flag.
struct ConfigOverrides {
  std::optional<std::string> connect;          // --zookeeper
  std::optional<std::string> metrics_address;  // --metrics-address
};

// Reads and validates the whole config. Throws config::ConfigError.
AgentConfig ParseConfig(const config::YamlReader& root, const ConfigOverrides& overrides = {});
AgentConfig LoadConfigFile(const std::string& path, const ConfigOverrides& overrides = {});

// One warning per service listed more than once (same interface, version, group, protocol,
// port and source), naming the first and the repeats; a repeat is registered only once.
std::vector<std::string> DuplicateServices(const AgentConfig& config);

}  // namespace zkop::agent
