#include "zkop/agent/desired.h"

#include <map>
#include <set>

#include "zkop/dubbo/metadata.h"
#include "zkop/dubbo/provider_url.h"
#include "zkop/dubbo/url_encode.h"

namespace zkop::agent {

namespace {

constexpr uint32_t kProvider = 1;
constexpr uint32_t kInstance = 2;

uint64_t Fnv(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return (h ^ 0xFF) * 1099511628211ULL;
}

// The instance parameters Dubbo copies from service URLs besides timestamp
// (DefaultMetadataParamsFilter.instanceParamsIncluded).
constexpr std::string_view kInstanceParams[] = {"heartbeat.timeout", "ipv6"};

}  // namespace

Registrations::Registrations(const AgentConfig& config, const std::vector<Declared>& declared,
                             int64_t agent_pid)
    : config_(config),
      declared_(declared),
      agent_pid_(agent_pid),
      stamps_(declared.size()),
      group_of_(declared.size()) {
  // Services declared more than once with everything that goes into the URL equal render
  // the same node: only the first is desired (config.h DuplicateServices warns about them).
  std::map<std::string, uint32_t> by_identity;
  for (size_t i = 0; i < declared.size(); ++i) {
    const Declared& d = declared[i];
    std::string id = d.interface_name + '\n' + d.version + '\n' + d.group + '\n' + d.protocol +
                     '\n' + d.application + '\n' + d.host + (d.anyhost ? "\n1" : "\n0");
    for (const auto& m : d.methods) id += '\n' + m;
    for (const auto& [k, v] : d.parameters) id += '\n' + k + '=' + v;
    auto [it, added] = by_identity.emplace(std::move(id), static_cast<uint32_t>(i));
    if (!added) {
      if (duplicate_of_.empty()) duplicate_of_.assign(declared.size(), kNotDuplicate);
      duplicate_of_[i] = it->second;
    }
  }
  std::map<std::pair<std::string_view, std::string_view>, uint32_t> by_app;
  for (size_t i = 0; i < declared.size(); ++i) {
    auto [it, added] = by_app.emplace(
        std::pair<std::string_view, std::string_view>(declared[i].application, declared[i].host),
        static_cast<uint32_t>(groups_.size()));
    if (added) groups_.push_back(Group{i, {}, {}, {}});
    group_of_[i] = it->second;
  }
}

std::vector<NodeKey> Registrations::Desired(const Diagnosis& diagnosis, int64_t now_ms) {
  return Walk(diagnosis, now_ms, nullptr);
}

ServiceNodes Registrations::Describe(const Diagnosis& diagnosis, int64_t now_ms) {
  ServiceNodes out;
  out.urls.resize(declared_.size());
  out.paths.resize(declared_.size());
  out.instance_paths.resize(declared_.size());
  out.revisions.resize(declared_.size());
  Walk(diagnosis, now_ms, &out);
  return out;
}

std::vector<NodeKey> Registrations::Walk(const Diagnosis& diagnosis, int64_t now_ms,
                                         ServiceNodes* details) {
  std::vector<NodeKey> out;
  bool interface_mode = config_.register_mode != RegisterMode::kInstance;
  bool instance_mode = config_.register_mode != RegisterMode::kInterface;

  struct Instance {  // only for groups with something registrable, or when describing
    dubbo::InstanceSpec spec;
    std::vector<std::pair<uint32_t, int>> members;  // registrable services, registry ports
    std::vector<size_t> services;
  };
  std::map<uint32_t, Instance> instances;  // by group

  for (size_t i = 0; i < declared_.size(); ++i) {
    const Declared& d = declared_[i];
    const Decision& dec = diagnosis.decisions[i];
    Stamp& stamp = stamps_[i];
    if (dec.state == ServiceState::kConfigError || dec.bind_port <= 0) {
      stamp = Stamp{};
      continue;
    }
    bool registrable = dec.state == ServiceState::kRegister;
    int64_t pid = registrable && dec.pid ? dec.pid : agent_pid_;
    if (!registrable) {
      stamp = Stamp{};
    } else if (stamp.ms == 0 || stamp.port != dec.bind_port || stamp.pid != pid) {
      stamp = Stamp{dec.bind_port, pid, now_ms};
    }
    int64_t ts = registrable ? stamp.ms : now_ms;
    NodeKey key;
    key.kind = kProvider;
    key.index = static_cast<uint32_t>(i);
    key.port = dec.registry_port;
    key.pid = pid;
    key.stamp_ms = ts;
    bool repeat = false;  // the same node as an earlier service's this round
    if (!duplicate_of_.empty() && duplicate_of_[i] != kNotDuplicate && registrable) {
      const Decision& first = diagnosis.decisions[duplicate_of_[i]];
      const Stamp& first_stamp = stamps_[duplicate_of_[i]];
      repeat = first.state == ServiceState::kRegister && first.registry_port == dec.registry_port &&
               first_stamp.pid == pid;
    }
    if (interface_mode && registrable && !repeat) out.push_back(key);
    if (details || (instance_mode && registrable)) {
      if (details) {
        details->urls[i] = dubbo::ProviderUrl(Spec(key));
        if (interface_mode) details->paths[i].push_back(Path(key));
      }
      if (instance_mode) {
        // One instance per application and host (Dubbo 3: one per process); its port is the
        // dubbo protocol's when there is one, else the first endpoint's.
        Instance& inst = instances[group_of_[i]];
        inst.services.push_back(i);
        if (!registrable) continue;
        if (inst.spec.endpoints.empty()) {
          inst.spec.application = d.application;
          inst.spec.host = d.host;
          inst.spec.release = config_.release;
          inst.spec.timestamp_ms = ts;
        }
        inst.spec.timestamp_ms = std::min(inst.spec.timestamp_ms, ts);
        inst.spec.registration_time_ms = inst.spec.timestamp_ms;
        bool have = false;
        for (const auto& e : inst.spec.endpoints) have = have || e.protocol == d.protocol;
        if (!have) inst.spec.endpoints.push_back({d.protocol, dec.registry_port});
        for (const auto& [k, v] : d.parameters) {
          for (std::string_view p : kInstanceParams) {
            if (k == p) inst.spec.instance_params.emplace_back(k, v);
          }
        }
        if (!repeat) inst.members.emplace_back(static_cast<uint32_t>(i), dec.registry_port);
      }
    }
  }
  for (auto& [group, inst] : instances) {
    if (inst.spec.endpoints.empty()) {  // nothing registrable: only described
      const Declared& d = declared_[inst.services.front()];
      inst.spec.application = d.application;
      inst.spec.host = d.host;
      inst.spec.port = diagnosis.decisions[inst.services.front()].registry_port;
    } else {
      inst.spec.port = inst.spec.endpoints.front().port;
      for (const auto& e : inst.spec.endpoints) {
        if (e.protocol == "dubbo") inst.spec.port = e.port;
      }
    }
    NodeKey key;
    key.kind = kInstance;
    key.index = group;
    key.port = inst.spec.port;
    if (details) {
      std::string path = Path(key);
      for (size_t i : inst.services) {
        details->instance_paths[i] = path;
        details->paths[i].push_back(path);
        details->paths[i].push_back(dubbo::MappingPath(config_.root, declared_[i].interface_name));
      }
    }
    if (inst.spec.endpoints.empty()) continue;
    Group& g = groups_[group];
    if (g.revision.empty() || g.members != inst.members) {  // else the revision stands
      g.members = std::move(inst.members);
      g.revision = dubbo::Revision(Metadata(g));
    }
    inst.spec.revision = g.revision;
    g.json = dubbo::InstanceJson(inst.spec);
    key.stamp_ms = inst.spec.timestamp_ms;
    key.revision = Fnv(g.json);
    out.push_back(key);
    if (details) {
      std::string report =
          dubbo::MetadataReportPath(config_.root, inst.spec.application, g.revision);
      for (size_t i : inst.services) {
        details->paths[i].push_back(report);
        details->revisions[i] = g.revision;
      }
    }
  }
  return out;
}

dubbo::AppMetadata Registrations::Metadata(const Group& group) const {
  dubbo::AppMetadata m;
  m.app = declared_[group.first].application;
  m.services.reserve(group.members.size());
  for (const auto& [service, port] : group.members) {
    NodeKey key;
    key.index = service;
    key.port = port;
    m.services.push_back(dubbo::ServiceInfoOf(Spec(key)));
  }
  return m;
}

std::vector<AppRecord> Registrations::AppRecords(const std::vector<NodeKey>& desired) const {
  std::vector<AppRecord> out;
  for (const NodeKey& key : desired) {
    if (key.kind != kInstance) continue;
    const Group& g = groups_[key.index];
    AppRecord r;
    r.key = key;
    r.instance = key.index;
    r.application = declared_[g.first].application;
    r.metadata_path = dubbo::MetadataReportPath(config_.root, r.application, g.revision);
    std::set<std::string_view> interfaces;
    for (const auto& [service, port] : g.members) {
      interfaces.insert(declared_[service].interface_name);
    }
    for (std::string_view i : interfaces) {
      r.mapping_paths.push_back(dubbo::MappingPath(config_.root, i));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string Registrations::MetadataJson(uint32_t instance) const {
  const Group& g = groups_[instance];
  return dubbo::MetadataInfoJson(Metadata(g), g.revision);
}

const std::string& Registrations::Revision(uint32_t instance) const {
  return groups_[instance].revision;
}

bool Registrations::Yields(const NodeKey& key, std::string_view data) const {
  if (key.kind != kInstance || key.index >= groups_.size()) return false;
  return dubbo::InstanceRevision(data) != groups_[key.index].revision;
}

std::string Registrations::Path(const NodeKey& key) const {
  if (key.kind == kInstance) {
    const Declared& d = declared_[groups_[key.index].first];
    dubbo::InstanceSpec spec;
    spec.application = d.application;
    spec.host = d.host;
    spec.port = static_cast<int>(key.port);
    return dubbo::InstanceNodePath(config_.services_root, spec);
  }
  return dubbo::ProviderNodePath(config_.root, Spec(key));
}

dubbo::ProviderSpec Registrations::Spec(const NodeKey& key) const {
  const Declared& d = declared_[key.index];
  dubbo::ProviderSpec spec;
  spec.protocol = d.protocol;
  spec.host = d.host;
  spec.port = static_cast<int>(key.port);
  spec.interface_name = d.interface_name;
  spec.application = d.application;
  spec.methods = d.methods;
  spec.version = d.version;
  spec.group = d.group;
  spec.anyhost = d.anyhost;
  spec.pid = key.pid;
  spec.release = config_.release;
  spec.timestamp_ms = key.stamp_ms;
  spec.extra = d.parameters;
  return spec;
}

std::string Registrations::Data(const NodeKey& key) const {
  if (key.kind == kInstance) return groups_[key.index].json;
  return declared_[key.index].host;
}

bool Registrations::HasIncarnations(const NodeKey& key) const { return key.kind == kProvider; }

bool Registrations::IsIncarnation(const NodeKey& key, std::string_view name) const {
  if (key.kind != kProvider || key.index >= declared_.size()) return false;
  const Declared& d = declared_[key.index];
  std::string url;
  if (!dubbo::UrlDecode(name, &url)) return false;
  // protocol://host:port/interface?k=v&...
  std::string head = d.protocol.str() + "://" + d.host.str() + ":" + std::to_string(key.port) +
                     "/" + d.interface_name + "?";
  if (url.compare(0, head.size(), head) != 0) return false;
  std::string_view query = std::string_view(url).substr(head.size());
  std::string_view version, group, iface;
  bool has_iface = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = kv.find('=');
    std::string_view k = kv.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
    if (k == "version") version = v;
    if (k == "group") group = v;
    if (k == "interface") {
      iface = v;
      has_iface = true;
    }
  }
  return version == d.version.str() && group == d.group.str() &&
         (!has_iface || iface == d.interface_name);
}

}  // namespace zkop::agent
