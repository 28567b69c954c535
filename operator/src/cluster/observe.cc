#include "zkop/operator/cluster/observe.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "zkop/kube/resource.h"
#include "zkop/operator/cluster/render.h"

namespace zkop::op::cluster {
namespace {

class FourLetterProbe : public MemberProbe {
 public:
  explicit FourLetterProbe(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  ServerObservation Probe(const std::string& address) override {
    ServerObservation out;
    zk::ServerInfo info;
    const zk::Status srvr = zk::QueryServer(address, timeout_, &info);
    if (!srvr.ok()) {
      out.error = srvr.ToString();
      return out;
    }
    out.answered = info.mode != zk::ServerMode::kUnknown;
    out.mode = info.mode;
    out.version = info.version.substr(0, info.version.find_first_of("-, "));
    out.zxid = info.zxid;
    const auto conf = zk::FourLetterWord(address, "conf", timeout_);
    if (conf.status.ok()) out.config = MembershipFromConf(conf.text);
    return out;
  }

 private:
  std::chrono::milliseconds timeout_;
};

std::string Str(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = &obj;
  for (const char* key : path) {
    if (!v->is_object() || !v->has_field(key)) return "";
    v = &v->at(key);
  }
  return v->is_string() ? v->as_string() : "";
}

bool Has(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = &obj;
  for (const char* key : path) {
    if (!v->is_object() || !v->has_field(key)) return false;
    v = &v->at(key);
  }
  return !v->is_null();
}

void ReadPod(const Json& pod, MemberState* m) {
  m->pod_exists = true;
  m->pod_uid = Str(pod, {"metadata", "uid"});
  m->pod_terminating = Has(pod, {"metadata", "deletionTimestamp"});
  m->pod_ip = Str(pod, {"status", "podIP"});
  m->phase = Str(pod, {"status", "phase"});
  m->template_hash = Str(pod, {"metadata", "annotations", kTemplateHashAnnotation});
  if (Has(pod, {"status", "conditions"})) {
    for (const auto& c : pod.at("status").at("conditions").as_array())
      if (Str(c, {"type"}) == "Ready") m->pod_ready = Str(c, {"status"}) == "True";
  }
  if (Has(pod, {"status", "containerStatuses"})) {
    for (const auto& cs : pod.at("status").at("containerStatuses").as_array()) {
      if (Str(cs, {"name"}) != "zookeeper") continue;
      if (cs.has_field("restartCount") && cs.at("restartCount").is_integer())
        m->restarts = cs.at("restartCount").as_integer();
      m->waiting_reason = Str(cs, {"state", "waiting", "reason"});
      m->waiting_message = Str(cs, {"state", "waiting", "message"});
    }
  }
}

}  // namespace

std::string MemberState::ClientAddress() const {
  if (pod_ip.empty()) return "";
  const bool v6 = pod_ip.find(':') != std::string::npos;
  return (v6 ? "[" + pod_ip + "]" : pod_ip) + ":" + std::to_string(kClientPort);
}

const MemberState* Observation::Find(int id) const {
  for (const auto& m : members)
    if (m.id == id) return &m;
  return nullptr;
}

std::unique_ptr<MemberProbe> NewFourLetterProbe(std::chrono::milliseconds timeout) {
  return std::make_unique<FourLetterProbe>(timeout);
}

std::optional<zk::EnsembleConfig> MembershipFromConf(const std::string& conf) {
  std::string lines;
  size_t pos = 0;
  while (pos < conf.size()) {
    size_t end = conf.find('\n', pos);
    if (end == std::string::npos) end = conf.size();
    const std::string line = conf.substr(pos, end - pos);
    if (line.rfind("server.", 0) == 0 || line.rfind("version=", 0) == 0) lines += line + "\n";
    pos = end + 1;
  }
  zk::EnsembleConfig config;
  if (lines.empty() || !zk::ParseEnsembleConfig(lines, &config).ok()) return std::nullopt;
  return config;
}

Observation Observe(const ClusterSpec& spec, const std::vector<int>& ids, const ObjectCache& cache,
                    MemberProbe& probe) {
  const auto selector = kube::LabelSelector::Parse(SelectorString(spec.name));
  std::map<int, MemberState> members;
  for (int id : ids) members[id].id = id;
  Observation out;
  for (const auto& pod : cache.List(kube::resources::Pods(), spec.ns, *selector)) {
    const std::string name = Str(pod, {"metadata", "name"});
    const int id = MemberIdOfPod(spec.name, name);
    if (id == 0) {
      out.stray_pods.push_back(name);
      continue;
    }
    members[id].id = id;
    ReadPod(pod, &members[id]);
  }
  for (const auto& claim :
       cache.List(kube::resources::PersistentVolumeClaims(), spec.ns, *selector)) {
    const std::string name = Str(claim, {"metadata", "name"});
    const std::string prefix = "data-";
    if (name.rfind(prefix, 0) != 0) continue;
    const int id = MemberIdOfPod(spec.name, name.substr(prefix.size()));
    if (id == 0) continue;
    members[id].id = id;
    members[id].claim_exists = true;
    members[id].claim_terminating = Has(claim, {"metadata", "deletionTimestamp"});
  }
  for (auto& [id, m] : members) m.pod = MemberPodName(spec.name, id);

  // Ask every member with an address at once: a stopped member costs one timeout, not one each.
  std::vector<std::pair<int, std::future<ServerObservation>>> asks;
  for (auto& [id, m] : members) {
    if (!m.pod_exists || m.pod_ip.empty() || m.pod_terminating) continue;
    const std::string address = m.ClientAddress();
    asks.emplace_back(
        id, std::async(std::launch::async, [&probe, address] { return probe.Probe(address); }));
  }
  for (auto& [id, answer] : asks) members[id].server = answer.get();
  for (auto& [id, m] : members) out.members.push_back(std::move(m));
  return out;
}

}  // namespace zkop::op::cluster
