#include "zkop/agent/check.h"

#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string_view>

#include "zkop/agent/desired.h"
#include "zkop/agent/diagnose.h"
#include "zkop/dubbo/url_encode.h"
#include "zkop/log/log.h"

namespace zkop::agent {

namespace {

// Every string is made valid UTF-8 first (names come from files and the environment), so
// the document is valid JSON whatever the input.
std::string JsonString(std::string_view v) {
  std::string out;
  log::AppendJsonString(out, dubbo::ToValidUtf8(v));
  return out;
}

// What the registry holds at a service's instance node, compared with the agent's own.
struct InstanceView {
  std::string state;  // absent, agent, provider, unknown
  std::string revision;
  std::string detail;
};

InstanceView ViewInstance(const RegistryRead& read, const std::string& agent_revision) {
  if (!read.error.empty()) return {"unknown", "", "ZooKeeper not consulted: " + read.error};
  if (!read.exists) return {"absent", "", "not in ZooKeeper"};
  std::string revision(dubbo::InstanceRevision(read.data));
  if (!agent_revision.empty() && revision == agent_revision) {
    return {"agent", revision, "registered with the agent's revision"};
  }
  return {"provider", revision,
          "registered by the provider itself (revision " + (revision.empty() ? "none" : revision) +
              "); the agent leaves it alone"};
}

}  // namespace

void PrintCheckError(std::string_view error, bool json, std::ostream& out) {
  if (json) {
    out << "{\"services\":[],\"conflicts\":[],\"warnings\":[],\"error\":" << JsonString(error)
        << ",\"ok\":false}\n";
  } else {
    out << "zkop-agent: bad config: " << dubbo::ToValidUtf8(error) << "\n";
  }
}

int RunCheck(const AgentConfig& config, const std::vector<Declared>& declared, PortProbe& probe,
             bool json, std::ostream& out, const RegistryReader& registry) {
  ListenTable table = probe.Probe();
  Diagnosis diagnosis = Diagnose(declared, table, probe);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  Registrations registrations(config, declared, getpid());
  ServiceNodes desired = registrations.Describe(diagnosis, now);
  std::vector<std::string> warnings = DuplicateServices(config);
  std::map<ServiceState, int> counts;
  for (const auto& d : diagnosis.decisions) ++counts[d.state];
  int status = counts[ServiceState::kConflict] + counts[ServiceState::kConfigError] > 0 ? 1 : 0;
  // Instance modes: each instance node read once.
  std::map<std::string, RegistryRead> reads;
  std::vector<std::optional<InstanceView>> instances(declared.size());
  if (registry && config.register_mode != RegisterMode::kInterface) {
    for (size_t i = 0; i < declared.size(); ++i) {
      const std::string& path = desired.instance_paths[i];
      if (path.empty()) continue;
      auto it = reads.find(path);
      if (it == reads.end()) it = reads.emplace(path, registry(path)).first;
      instances[i] = ViewInstance(it->second, desired.revisions[i]);
    }
  }

  if (json) {
    // Written by hand: a JSON library here would be the daemon's only reason to load
    // cpprest (and OpenSSL with it), several MB resident in every pod.
    out << "{\"services\":[";
    for (size_t i = 0; i < declared.size(); ++i) {
      const Declared& d = declared[i];
      const Decision& dec = diagnosis.decisions[i];
      out << (i ? "," : "") << "{\"service\":" << JsonString(d.key_path)
          << ",\"interface\":" << JsonString(d.interface_name)
          << ",\"application\":" << JsonString(d.application)
          << ",\"source\":" << JsonString(d.source)
          << ",\"state\":" << JsonString(StateLabel(dec.state)) << ",\"port\":" << dec.bind_port
          << ",\"registryPort\":" << dec.registry_port << ",\"pid\":" << dec.pid
          << ",\"holder\":" << JsonString(dec.holder) << ",\"paths\":[";
      for (size_t k = 0; k < desired.paths[i].size(); ++k) {
        out << (k ? "," : "") << JsonString(desired.paths[i][k]);
      }
      out << "],\"url\":" << JsonString(desired.urls[i])
          << ",\"reason\":" << JsonString(dec.reason);
      if (instances[i]) {
        out << ",\"instance\":{\"path\":" << JsonString(desired.instance_paths[i])
            << ",\"state\":" << JsonString(instances[i]->state)
            << ",\"revision\":" << JsonString(instances[i]->revision)
            << ",\"agentRevision\":" << JsonString(desired.revisions[i])
            << ",\"detail\":" << JsonString(instances[i]->detail) << "}";
      }
      out << "}";
    }
    out << "],\"conflicts\":[";
    for (size_t i = 0; i < diagnosis.conflicts.size(); ++i) {
      out << (i ? "," : "") << JsonString(diagnosis.conflicts[i]);
    }
    out << "],\"warnings\":[";
    for (size_t i = 0; i < warnings.size(); ++i) {
      out << (i ? "," : "") << JsonString(warnings[i]);
    }
    out << "]";
    if (!table.error.empty()) out << ",\"probeError\":" << JsonString(table.error);
    out << ",\"ok\":" << (status == 0 ? "true" : "false") << "}\n";
    return status;
  }

  out << "zkop-agent check: " << dubbo::ToValidUtf8(config.file) << " (registerMode "
      << RegisterModeName(config.register_mode) << ")\n";
  if (!table.error.empty()) out << "warning: " << table.error << "\n";
  for (size_t i = 0; i < declared.size(); ++i) {
    const Declared& d = declared[i];
    const Decision& dec = diagnosis.decisions[i];
    out << "\n" << d.key_path << " " << d.interface_name << " — " << d.OwnerName() << "\n";
    out << "  state:  " << StateText(dec.state);
    if (dec.bind_port > 0) {
      out << " (port " << dec.bind_port;
      if (dec.registry_port && dec.registry_port != dec.bind_port) {
        out << ", registered as " << dec.registry_port;
      }
      if (dec.pid)
        out << (dec.state == ServiceState::kConflict ? ", held by pid " : ", pid ") << dec.pid;
      out << ")";
    }
    out << "\n";
    if (dec.state == ServiceState::kRegister && !dec.holder.empty()) {
      out << "  holder: " << dec.holder << "\n";
    }
    for (const auto& p : desired.paths[i]) out << "  path:   " << p << "\n";
    if (!desired.urls[i].empty()) out << "  url:    " << desired.urls[i] << "\n";
    if (instances[i]) out << "  instance: " << dubbo::ToValidUtf8(instances[i]->detail) << "\n";
    if (!dec.reason.empty()) out << "  reason: " << dec.reason << "\n";
  }
  if (!warnings.empty()) {
    out << "\nwarnings:\n";
    for (const auto& w : warnings) out << "  - " << w << "\n";
  }
  if (!diagnosis.conflicts.empty()) {
    out << "\nport conflicts:\n";
    for (const auto& c : diagnosis.conflicts) out << "  - " << c << "\n";
  }
  out << "\nsummary: " << counts[ServiceState::kRegister] << " would register, "
      << counts[ServiceState::kNotListening] << " not listening, "
      << counts[ServiceState::kConflict] << " conflict, " << counts[ServiceState::kConfigError]
      << " config error\n";
  return status;
}

}  // namespace zkop::agent
