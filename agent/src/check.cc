#include "zkop/agent/check.h"

#include <unistd.h>

#include <chrono>
#include <map>

// cpprest defines a macro U; keep it last.
#include <cpprest/json.h>

#include "zkop/agent/desired.h"
#include "zkop/agent/diagnose.h"

namespace zkop::agent {

int RunCheck(const AgentConfig& config, const std::vector<Declared>& declared, PortProbe& probe,
             bool json, std::ostream& out) {
  ListenTable table = probe.Probe();
  Diagnosis diagnosis = Diagnose(declared, table, probe);
  Stamps stamps;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  DesiredState desired = BuildDesired(config, declared, diagnosis, &stamps, now, getpid());
  std::map<ServiceState, int> counts;
  for (const auto& d : diagnosis.decisions) ++counts[d.state];
  int status = counts[ServiceState::kConflict] + counts[ServiceState::kConfigError] > 0 ? 1 : 0;

  if (json) {
    auto doc = web::json::value::object(true);
    auto services = web::json::value::array();
    for (size_t i = 0; i < declared.size(); ++i) {
      const Declared& d = declared[i];
      const Decision& dec = diagnosis.decisions[i];
      auto s = web::json::value::object(true);
      s["service"] = web::json::value::string(d.key_path);
      s["interface"] = web::json::value::string(d.interface_name);
      s["application"] = web::json::value::string(d.application);
      s["source"] = web::json::value::string(d.source);
      s["state"] = web::json::value::string(std::string(StateLabel(dec.state)));
      s["port"] = web::json::value::number(dec.bind_port);
      s["registryPort"] = web::json::value::number(dec.registry_port);
      s["pid"] = web::json::value::number(dec.pid);
      auto paths = web::json::value::array();
      for (size_t k = 0; k < desired.paths[i].size(); ++k) {
        paths[k] = web::json::value::string(desired.paths[i][k]);
      }
      s["paths"] = paths;
      s["url"] = web::json::value::string(desired.urls[i]);
      s["reason"] = web::json::value::string(dec.reason);
      services[i] = s;
    }
    doc["services"] = services;
    auto conflicts = web::json::value::array();
    for (size_t i = 0; i < diagnosis.conflicts.size(); ++i) {
      conflicts[i] = web::json::value::string(diagnosis.conflicts[i]);
    }
    doc["conflicts"] = conflicts;
    if (!table.error.empty()) doc["probeError"] = web::json::value::string(table.error);
    doc["ok"] = web::json::value::boolean(status == 0);
    out << doc.serialize() << "\n";
    return status;
  }

  out << "zkop-agent check: " << config.file << " (registerMode "
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
    for (const auto& p : desired.paths[i]) out << "  path:   " << p << "\n";
    if (!desired.urls[i].empty()) out << "  url:    " << desired.urls[i] << "\n";
    if (!dec.reason.empty()) out << "  reason: " << dec.reason << "\n";
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
