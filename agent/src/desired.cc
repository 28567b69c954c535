#include "zkop/agent/desired.h"

#include <cstdio>
#include <set>

#include "zkop/dubbo/provider_url.h"

namespace zkop::agent {

int64_t Stamps::Get(const std::string& key, int64_t now_ms) {
  return stamps_.emplace(key, now_ms).first->second;
}

void Stamps::Retain(const std::map<std::string, int64_t>& live) {
  for (auto it = stamps_.begin(); it != stamps_.end();) {
    it = live.count(it->first) ? std::next(it) : stamps_.erase(it);
  }
}

namespace {

// A stable fingerprint of an instance's services (Dubbo computes an MD5 over its metadata;
// consumers only compare revisions for equality).
std::string Revision(const std::set<std::string>& parts) {
  uint64_t h = 1469598103934665603ULL;
  for (const auto& p : parts) {
    for (unsigned char c : p) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

DesiredState BuildDesired(const AgentConfig& config, const std::vector<Declared>& declared,
                          const Diagnosis& diagnosis, Stamps* stamps, int64_t now_ms,
                          int64_t agent_pid, bool details) {
  DesiredState out;
  if (details) {
    out.urls.resize(declared.size());
    out.paths.resize(declared.size());
  }
  bool interface_mode = config.register_mode != RegisterMode::kInstance;
  bool instance_mode = config.register_mode != RegisterMode::kInterface;
  std::map<std::string, int64_t> live;

  struct Instance {
    dubbo::InstanceSpec spec;
    std::set<std::string> parts;
    std::vector<size_t> services;
  };
  std::map<std::string, Instance> instances;  // by path

  for (size_t i = 0; i < declared.size(); ++i) {
    const Declared& d = declared[i];
    const Decision& dec = diagnosis.decisions[i];
    if (dec.state == ServiceState::kConfigError || dec.bind_port <= 0) continue;
    bool registrable = dec.state == ServiceState::kRegister;
    int64_t pid = registrable && dec.pid ? dec.pid : agent_pid;
    std::string key =
        std::to_string(i) + "/" + std::to_string(dec.bind_port) + "/" + std::to_string(pid);
    int64_t ts = registrable ? stamps->Get(key, now_ms) : now_ms;
    if (registrable) live[key] = ts;

    dubbo::ProviderSpec spec;
    spec.protocol = d.protocol;
    spec.host = d.host;
    spec.port = dec.registry_port;
    spec.interface_name = d.interface_name;
    spec.application = d.application;
    spec.methods = d.methods;
    spec.version = d.version;
    spec.group = d.group;
    spec.anyhost = d.anyhost;
    spec.pid = pid;
    spec.release = config.release;
    spec.timestamp_ms = ts;
    spec.extra = d.parameters;
    if (details) out.urls[i] = dubbo::ProviderUrl(spec);
    if (interface_mode && (registrable || details)) {
      std::string path = dubbo::ProviderNodePath(config.root, spec);
      if (details) out.paths[i].push_back(path);
      if (registrable) out.nodes[std::move(path)] = d.host;
    }
    if (instance_mode) {
      // One instance per application and host (Dubbo 3: one per process); its port is the
      // dubbo protocol's when there is one, else the first endpoint's.
      Instance& inst = instances[d.application + "\n" + d.host];
      inst.services.push_back(i);
      if (!registrable) continue;
      if (inst.spec.endpoints.empty()) {
        inst.spec.application = d.application;
        inst.spec.host = d.host;
        inst.spec.release = config.release;
        inst.spec.timestamp_ms = ts;
        inst.spec.registration_time_ms = ts;
      }
      inst.spec.timestamp_ms = std::min(inst.spec.timestamp_ms, ts);
      inst.spec.registration_time_ms = inst.spec.timestamp_ms;
      bool have = false;
      for (const auto& e : inst.spec.endpoints) have = have || e.protocol == d.protocol;
      if (!have) inst.spec.endpoints.push_back({d.protocol, dec.registry_port});
      dubbo::ProviderSpec stable = spec;
      stable.timestamp_ms = 0;
      stable.pid = 0;
      inst.parts.insert(dubbo::ProviderUrl(stable));
    }
  }
  for (auto& [key, inst] : instances) {
    if (inst.spec.endpoints.empty()) {  // nothing registrable: the path check would show
      const Declared& d = declared[inst.services.front()];
      inst.spec.application = d.application;
      inst.spec.host = d.host;
      inst.spec.port = diagnosis.decisions[inst.services.front()].registry_port;
    } else {
      inst.spec.port = inst.spec.endpoints.front().port;
      for (const auto& e : inst.spec.endpoints) {
        if (e.protocol == "dubbo") inst.spec.port = e.port;
      }
    }
    std::string path = dubbo::InstanceNodePath(config.services_root, inst.spec);
    if (details) {
      for (size_t i : inst.services) out.paths[i].push_back(path);
    }
    if (inst.spec.endpoints.empty()) continue;
    inst.spec.revision = Revision(inst.parts);
    out.nodes[path] = dubbo::InstanceJson(inst.spec);
  }
  stamps->Retain(live);
  return out;
}

}  // namespace zkop::agent
