#include "operator_bench_scale.h"

#include <iomanip>
#include <set>
#include <sstream>
#include <thread>

#include "operator_bench_env.h"
#include "zkop/operator/cluster/render.h"
#include "zkop/operator/cluster/spec.h"

namespace zkop::bench {

namespace {

namespace res = kube::resources;
namespace cl = op::cluster;

std::string ClusterName(int i) {
  std::ostringstream s;
  s << "c" << std::setw(3) << std::setfill('0') << i;
  return s.str();
}

struct Wanted {
  kube::ResourceRef ref;
  int per_cluster;
};

const std::vector<Wanted>& WantedObjects() {
  static const std::vector<Wanted> w = {{res::Secrets(), 1},
                                        {res::ConfigMaps(), 2},
                                        {res::Services(), 2},
                                        {res::PodDisruptionBudgets(), 1},
                                        {res::PersistentVolumeClaims(), 3},
                                        {res::Pods(), 3}};
  return w;
}

// Every cluster has a status with conditions.
bool AllHaveStatus(kube::Client& c, int clusters) {
  auto list = c.ListAll(res::ZookeeperClusters(), "default");
  if (!list.ok()) return false;
  int with_status = 0;
  for (const auto& item : list.value().at("items").as_array()) {
    if (!ConditionStatus(item, "Ready").empty()) ++with_status;
  }
  return with_status >= clusters;
}

// Every cluster has all its objects; `missing` says what is not there yet.
bool AllObjects(kube::Client& c, int clusters, std::string* missing) {
  kube::ListOptions o;
  o.label_selector = "app.kubernetes.io/managed-by=zkop";
  for (const auto& w : WantedObjects()) {
    auto list = c.ListAll(w.ref, "default", o);
    if (!list.ok()) {
      *missing = w.ref.resource + ": " + list.error().ToString();
      return false;
    }
    std::map<std::string, int> per;
    for (const auto& item : list.value().at("items").as_array()) {
      ++per[kube::LabelsOf(item)["app.kubernetes.io/instance"]];
    }
    for (int i = 0; i < clusters; ++i) {
      if (per[ClusterName(i)] != w.per_cluster) {
        *missing = ClusterName(i) + " has " + std::to_string(per[ClusterName(i)]) + " of " +
                   std::to_string(w.per_cluster) + " " + w.ref.resource;
        return false;
      }
    }
  }
  return true;
}

std::map<std::string, double> Diff(const std::map<std::string, double>& after,
                                   const std::map<std::string, double>& before) {
  std::map<std::string, double> d;
  for (const auto& [verb, n] : after) {
    auto it = before.find(verb);
    const double delta = n - (it == before.end() ? 0 : it->second);
    if (delta != 0) d[verb] = delta;
  }
  return d;
}

}  // namespace

ScaleResult MeasureOperatorScale(const testing::TempDir& dir, const std::string& name, int clusters,
                                 std::chrono::seconds steady,
                                 const std::vector<std::string>& operator_flags) {
  ScaleResult r;
  Devkube kube(dir, name, /*pods=*/false);
  Operator op(dir, name, kube, operator_flags);
  if (!op.WaitReady(60s)) {
    r.error = "the operator never became ready:\n" + op.LogTail();
    return r;
  }
  std::this_thread::sleep_for(1s);
  r.idle_rss_kb = StatusKb(op.pid(), "VmRSS:");
  const auto requests_before = op.ApiRequests();
  const size_t log_before = kube.LogSize();
  const auto start = Clock::now();
  for (int i = 0; i < clusters; ++i) {
    auto created =
        kube.client().Create(res::ZookeeperClusters(), "default", ClusterObject(ClusterName(i), 3));
    if (!created.ok()) {
      r.error = "creating " + ClusterName(i) + ": " + created.error().ToString();
      return r;
    }
  }
  std::string missing = "no status yet";
  const bool complete = WaitUntil(
      [&] {
        if (!AllHaveStatus(kube.client(), clusters)) return false;
        return AllObjects(kube.client(), clusters, &missing);
      },
      std::chrono::seconds(120 + clusters * 2), 100ms);
  r.complete_ms = Ms(Clock::now() - start);
  if (!complete) {
    r.error = "not every cluster got its objects and a status: " + missing + "\noperator log:\n" +
              op.LogTail();
    return r;
  }

  // Until the operator goes quiet: no new write for 5 s (Lease renewals apart).
  int last_count = -1;
  auto last_change = Clock::now();
  const auto quiet_deadline = Clock::now() + 120s;
  while (Clock::now() < quiet_deadline && Clock::now() - last_change < 5s) {
    const int n = kube.RequestsSince(log_before).WritesExcept("leases");
    if (n != last_count) {
      last_count = n;
      last_change = Clock::now();
    }
    std::this_thread::sleep_for(100ms);
  }
  r.last_write_ms = Ms(last_change - start);
  const auto requests_quiet = op.ApiRequests();
  r.requests = Diff(requests_quiet, requests_before);
  const RequestLog work = kube.RequestsSince(log_before);
  r.writes_by_kind = work.writes_by_kind;
  r.writes_by_kind["POST zookeeperclusters"] -= clusters;  // the benchmark's own creates
  if (r.writes_by_kind["POST zookeeperclusters"] == 0)
    r.writes_by_kind.erase("POST zookeeperclusters");

  // Steady state: nothing changes, so nothing may be written.
  const size_t log_steady = kube.LogSize();
  std::this_thread::sleep_for(steady);
  const RequestLog rest = kube.RequestsSince(log_steady);
  r.steady_requests = Diff(op.ApiRequests(), requests_quiet);
  r.steady_writes = rest.WritesExcept("leases");
  r.steady_lease_writes = rest.writes - r.steady_writes;
  for (const auto& line : rest.write_lines) {
    if (line.find("/leases/") == std::string::npos) r.steady_write_lines.push_back(line);
  }
  r.rss_kb = StatusKb(op.pid(), "VmRSS:");
  r.anon_kb = StatusKb(op.pid(), "RssAnon:");
  r.file_kb = StatusKb(op.pid(), "RssFile:");
  r.hwm_kb = StatusKb(op.pid(), "VmHWM:");
  r.threads = StatusKb(op.pid(), "Threads:");
  if (!op.Running()) {
    r.error = "the operator exited:\n" + op.LogTail();
    return r;
  }
  r.ok = true;
  return r;
}

BaselineResult MeasureBaseline(const testing::TempDir& dir, int clusters) {
  BaselineResult r;
  Devkube kube(dir, "baseline", /*pods=*/false);
  std::vector<cl::ClusterSpec> specs;
  for (int i = 0; i < clusters; ++i) {
    auto created =
        kube.client().Create(res::ZookeeperClusters(), "default", ClusterObject(ClusterName(i), 3));
    if (!created.ok()) {
      r.error = "creating " + ClusterName(i) + ": " + created.error().ToString();
      return r;
    }
    const auto parsed = cl::ParseCluster(created.value());
    if (!parsed.ok()) {
      r.error = ClusterName(i) + ": the spec is refused: " + parsed.errors.front().message;
      return r;
    }
    specs.push_back(parsed.spec);
  }
  // Render first: what is timed is the API work, as a lower bound.
  std::vector<std::vector<Json>> objects;
  for (const auto& spec : specs) {
    objects.push_back(cl::RenderCluster(spec, "baseline-password-0123456789abcd", {}));
  }
  int writes = 0;
  const auto start = Clock::now();
  for (size_t i = 0; i < specs.size(); ++i) {
    for (const auto& object : objects[i]) {
      const std::string kind = object.at("kind").as_string();
      kube::ResourceRef ref;
      for (const auto& w : WantedObjects()) {
        if (w.ref.kind == kind) ref = w.ref;
      }
      auto created = kube.client().Create(ref, "default", object);
      ++writes;
      if (!created.ok()) {
        r.error =
            "creating " + kind + " " + kube::NameOf(object) + ": " + created.error().ToString();
        return r;
      }
    }
    Json status = Json::object();
    status["status"] = Json::object();
    status["status"]["observedGeneration"] = Json::number(1);
    auto patched =
        kube.client().PatchStatus(res::ZookeeperClusters(), "default", specs[i].name, status);
    ++writes;
    if (!patched.ok()) {
      r.error = "status of " + specs[i].name + ": " + patched.error().ToString();
      return r;
    }
  }
  r.ms = Ms(Clock::now() - start);
  r.writes_per_cluster = clusters > 0 ? writes / clusters : 0;
  r.ok = true;
  return r;
}

}  // namespace zkop::bench
