// operator_bench: what zkop-operator costs, measured against baselines in the same run
// (docs/benchmarks.md).
//
//   operator_bench            CR -> Ready for 3 and 5 members (3 trials each) next to the floor
//                             (the same servers started without an operator); 100 clusters
//                             against `zkop-devkube --no-pods`: wall time, API requests per
//                             cluster next to a plain client loop, writes at steady state
//                             (60 s), operator RSS
//   operator_bench --smoke    1 cluster of 1 member, 5 clusters, 10 s steady windows (ctest)
//
// Prints a Markdown report on stdout. Exit status 1 when a target is missed in a way that is
// not noise: a cluster never Ready, objects never created, the operator writing at steady state
// (Lease renewals apart) or exiting. Timings are reported, never asserted.
#include <algorithm>
#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "operator_bench_env.h"
#include "operator_bench_floor.h"
#include "operator_bench_scale.h"
#include "zkop/log/log.h"

namespace {

using namespace zkop::bench;
namespace res = zkop::kube::resources;

struct Series {
  std::vector<double> ms;
  void Add(double v) { ms.push_back(v); }
  double Median() const {
    if (ms.empty()) return 0;
    auto s = ms;
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
  }
  // "min / median / max ms" (one value alone when there is one trial).
  std::string Text() const {
    if (ms.empty()) return "—";
    std::ostringstream o;
    o << std::fixed << std::setprecision(0);
    if (ms.size() == 1) {
      o << ms[0] << " ms";
    } else {
      o << *std::min_element(ms.begin(), ms.end()) << " / " << Median() << " / "
        << *std::max_element(ms.begin(), ms.end()) << " ms";
    }
    return o.str();
  }
};

struct Failures {
  std::vector<std::string> list;
  void Add(const std::string& what) {
    list.push_back(what);
    std::cerr << "operator_bench: " << what << "\n";
  }
};

std::string Fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

// --- part 1: CR -> Ready ---------------------------------------------------------------------

struct ReadyRow {
  int members = 0;
  Series single, floor, ensemble, ready, pods;
};

struct ReadyTimes {
  double ready_ms = -1;  // -1: never Ready
  double pods_ms = -1;   // every member Pod exists (the operator's own reaction)
};

// Applies cluster `name` and polls it every 50 ms until Ready=True.
ReadyTimes TimeToReady(Devkube& kube, Operator& op, const std::string& name, int members,
                       Failures* failures) {
  ReadyTimes times;
  zkop::kube::ListOptions pods;
  pods.label_selector = "app.kubernetes.io/instance=" + name;
  const auto start = Clock::now();
  auto created =
      kube.client().Create(res::ZookeeperClusters(), "default", ClusterObject(name, members));
  if (!created.ok()) {
    failures->Add("creating " + name + ": " + created.error().ToString());
    return times;
  }
  Json last;
  const bool ready = WaitUntil(
      [&] {
        if (times.pods_ms < 0) {
          auto list = kube.client().List(res::Pods(), "default", pods);
          if (list.ok() && static_cast<int>(list.value().at("items").as_array().size()) == members)
            times.pods_ms = Ms(Clock::now() - start);
        }
        auto got = kube.client().Get(res::ZookeeperClusters(), "default", name);
        if (got.ok()) last = got.value();
        return got.ok() && ConditionStatus(last, "Ready") == "True";
      },
      180s, 50ms);
  const double ms = Ms(Clock::now() - start);
  if (!ready) {
    failures->Add(name + " never became Ready in 180 s; status: " +
                  (last.has_field("status") ? last.at("status").serialize() : "(none)") +
                  "\noperator log:\n" + op.LogTail());
    return times;
  }
  times.ready_ms = ms;
  return times;
}

// Writes at steady state of a Ready cluster: waits until every member is ready, then counts
// the emulator's logged writes over `window` (Lease renewals apart).
std::string SteadyWithPods(Devkube& kube, const std::string& name, int members,
                           std::chrono::seconds window, Failures* failures) {
  WaitUntil(
      [&] {
        auto got = kube.client().Get(res::ZookeeperClusters(), "default", name);
        return got.ok() && got.value().has_field("status") &&
               got.value().at("status").has_field("readyReplicas") &&
               got.value().at("status").at("readyReplicas").as_integer() == members;
      },
      60s, 200ms);
  std::this_thread::sleep_for(3s);
  const size_t mark = kube.LogSize();
  std::this_thread::sleep_for(window);
  const RequestLog log = kube.RequestsSince(mark);
  const int writes = log.WritesExcept("leases");
  std::string lines;
  for (const auto& l : log.write_lines) {
    if (l.find("/leases/") == std::string::npos) lines += "\n  " + l;
  }
  if (writes > 0) {
    failures->Add(std::to_string(writes) + " API writes at steady state of Ready cluster " + name +
                  " in " + std::to_string(window.count()) + " s:" + lines);
  }
  return std::to_string(writes) + " writes in " + std::to_string(window.count()) + " s (" +
         std::to_string(log.writes - writes) + " Lease renewals)";
}

void DeleteCluster(Devkube& kube, const std::string& name) {
  (void)kube.client().Delete(res::ZookeeperClusters(), "default", name);
  zkop::kube::ListOptions o;
  o.label_selector = "app.kubernetes.io/instance=" + name;
  WaitUntil(
      [&] {
        auto pods = kube.client().List(res::Pods(), "default", o);
        return pods.ok() && pods.value().at("items").as_array().size() == 0;
      },
      90s, 200ms);
}

void ReadyPart(bool smoke, Failures* failures) {
  zkop::testing::TempDir dir("operator-bench-ready");
  const int trials = smoke ? 1 : 3;
  const std::vector<int> sizes = smoke ? std::vector<int>{1} : std::vector<int>{3, 5};
  const auto steady = smoke ? 10s : 60s;
  const double load_before = LoadAverage();

  Devkube kube(dir, "ready", /*pods=*/true);
  Operator op(dir, "ready", kube);
  if (!op.WaitReady(60s)) {
    failures->Add("the operator never became ready:\n" + op.LogTail());
    return;
  }
  std::vector<ReadyRow> rows;
  for (int n : sizes) rows.push_back({n, {}, {}, {}, {}, {}});
  std::string steady_text;
  // Trials interleave floor and operator runs, so both see the same machine.
  for (int t = 1; t <= trials; ++t) {
    for (ReadyRow& row : rows) {
      const std::string tag = std::to_string(row.members) + "-" + std::to_string(t);
      FloorResult one = MeasureEntrypointFloor(dir, "single" + tag, 1, 120s);
      if (one.ok) {
        row.single.Add(one.quorum_ms);
      } else {
        failures->Add("floor, one server: " + one.error);
      }
      if (row.members > 1) {
        FloorResult many = MeasureEntrypointFloor(dir, "floor" + tag, row.members, 120s);
        if (many.ok) {
          row.floor.Add(many.quorum_ms);
        } else {
          failures->Add("floor, " + std::to_string(row.members) + " servers: " + many.error);
        }
        FloorResult plain = MeasureZkEnsemble(row.members, 120s);
        if (plain.ok) {
          row.ensemble.Add(plain.quorum_ms);
        } else {
          failures->Add("ZkEnsemble of " + std::to_string(row.members) + ": " + plain.error);
        }
      }
      const std::string name = "zk" + tag;
      const ReadyTimes times = TimeToReady(kube, op, name, row.members, failures);
      if (times.ready_ms >= 0) row.ready.Add(times.ready_ms);
      if (times.pods_ms >= 0) row.pods.Add(times.pods_ms);
      if (times.ready_ms >= 0 && t == trials && &row == &rows.back()) {
        steady_text = SteadyWithPods(kube, name, row.members, steady, failures);
      }
      DeleteCluster(kube, name);
    }
  }
  if (!op.Running()) failures->Add("the operator exited:\n" + op.LogTail());

  std::cout << "## CR → Ready\n\n"
            << "Times are min / median / max over " << trials
            << " trial(s), from the request that creates the ZookeeperCluster (or the first "
               "server spawn) until the condition is met, polled every 50 ms. Load average "
            << Fixed(load_before, 2) << " before, " << Fixed(LoadAverage(), 2) << " after.\n\n"
            << "| members | floor: 1 server answers | floor: the members' servers to quorum | "
               "ZkEnsemble to quorum | operator: CR → member Pods created | operator: CR → Ready | "
               "Ready − 1-server floor (medians) | "
               "Ready − quorum floor (medians) |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const ReadyRow& row : rows) {
    // Against the target "Ready within floor + 2 s".
    auto versus = [&](const Series& floor) -> std::string {
      if (row.ready.ms.empty() || floor.ms.empty()) return "—";
      const double over = row.ready.Median() - floor.Median();
      return Fixed(over, 0) + " ms (" + (over <= 2000 ? "met" : "**missed**") + ")";
    };
    std::cout << "| " << row.members << " | " << row.single.Text() << " | "
              << (row.members > 1 ? row.floor.Text() : "(same)") << " | " << row.ensemble.Text()
              << " | " << row.pods.Text() << " | " << row.ready.Text() << " | "
              << versus(row.single) << " | " << versus(row.members > 1 ? row.floor : row.single)
              << " |\n";
  }
  std::cout << "\nSteady state of the last Ready cluster (" << sizes.back()
            << " member(s), every member ready): " << steady_text << ".\n\n";
}

// --- part 2: many clusters, no pods ----------------------------------------------------------

std::string PerCluster(double total, int clusters) { return Fixed(total / clusters, 1); }

std::string Verbs(const std::map<std::string, double>& by_verb, int clusters) {
  std::string out;
  double total = 0;
  for (const auto& [verb, n] : by_verb) {
    out += (out.empty() ? "" : ", ") + verb + " " + PerCluster(n, clusters);
    total += n;
  }
  return PerCluster(total, clusters) + " (" + out + ")";
}

void ScalePart(bool smoke, Failures* failures) {
  zkop::testing::TempDir dir("operator-bench-scale");
  const int clusters = smoke ? 5 : 100;
  const auto steady = smoke ? 10s : 60s;
  struct Variant {
    std::string label;
    std::vector<std::string> flags;
  };
  std::vector<Variant> variants = {{"operator, default flags (--qps 20 --burst 30)", {}}};
  if (!smoke)
    variants.push_back({"operator, --qps 1000 --burst 1000", {"--qps", "1000", "--burst", "1000"}});

  const double load_before = LoadAverage();
  BaselineResult base = MeasureBaseline(dir, clusters);
  if (!base.ok) failures->Add("baseline: " + base.error);
  std::vector<ScaleResult> results;
  for (size_t i = 0; i < variants.size(); ++i) {
    results.push_back(MeasureOperatorScale(dir, "scale" + std::to_string(i), clusters, steady,
                                           variants[i].flags));
    const ScaleResult& r = results.back();
    if (!r.ok) failures->Add(variants[i].label + ": " + r.error);
    if (r.steady_writes > 0) {
      std::string lines;
      for (const auto& l : r.steady_write_lines) lines += "\n  " + l;
      failures->Add(variants[i].label + ": " + std::to_string(r.steady_writes) +
                    " API writes at steady state:" + lines);
    }
  }

  std::cout << "## " << clusters << " clusters against zkop-devkube --no-pods\n\n"
            << clusters << " ZookeeperClusters of 3 members created at once; each must get "
            << kObjectsPerCluster
            << " objects (Secret, 2 ConfigMaps, 2 Services, PDB, 3 PVCs, 3 Pods) and a status. "
               "No ZooKeeper runs, so none becomes Ready. Load average "
            << Fixed(load_before, 2) << " before, " << Fixed(LoadAverage(), 2) << " after.\n\n"
            << "| who | all objects + status | last write | API requests per cluster (by verb) "
               "| steady-state writes ("
            << steady.count() << " s) | RSS / high-water mark |\n"
            << "|---|---:|---:|---|---:|---:|\n";
  if (base.ok) {
    std::cout << "| plain client loop (lower bound: one create per object, one status write) | "
              << Fixed(base.ms, 0) << " ms | — | " << base.writes_per_cluster << " (writes only) "
              << "| — | — |\n";
  }
  for (size_t i = 0; i < variants.size(); ++i) {
    const ScaleResult& r = results[i];
    if (!r.ok && r.complete_ms == 0) continue;
    std::cout << "| " << variants[i].label << " | " << (r.ok ? "" : "FAILED ")
              << Fixed(r.complete_ms, 0) << " ms | " << Fixed(r.last_write_ms, 0) << " ms | "
              << Verbs(r.requests, clusters) << " | " << r.steady_writes << " (+"
              << r.steady_lease_writes << " Lease renewals) | " << Fixed(r.rss_kb / 1024.0, 1)
              << " / " << Fixed(r.hwm_kb / 1024.0, 1) << " MiB |\n";
  }
  for (size_t i = 0; i < variants.size(); ++i) {
    const ScaleResult& r = results[i];
    std::cout << "\nWrites per cluster logged by the emulator until the operator went quiet, "
              << variants[i].label << ":";
    std::string sep = " ";
    for (const auto& [kind, n] : r.writes_by_kind) {
      std::cout << sep << kind << " " << PerCluster(n, clusters);
      sep = ", ";
    }
    std::cout << ".\nOperator memory: " << r.idle_rss_kb << " KiB RSS idle (caches synced, no "
              << "cluster); with " << clusters << " clusters " << r.rss_kb << " KiB (anon "
              << r.anon_kb << ", file-backed " << r.file_kb << "), high-water mark " << r.hwm_kb
              << " KiB, " << r.threads << " threads";
    std::cout << ".\nThe operator's requests in the steady window: "
              << (r.steady_requests.empty() ? std::string("none") : "");
    sep = "";
    for (const auto& [verb, n] : r.steady_requests) {
      std::cout << sep << verb << " " << Fixed(n, 0);
      sep = ", ";
    }
    std::cout << ".\n";
  }
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description opts("operator_bench [options]");
  opts.add_options()("help,h", "show this help")(
      "smoke", "1 cluster of 1 member, 5 clusters without pods, 10 s steady windows (ctest)")(
      "no-ready", "skip CR -> Ready (the ZooKeeper part)")("no-scale",
                                                           "skip the many-clusters part");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
  } catch (const po::error& e) {
    std::cerr << "operator_bench: " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  const bool smoke = vm.count("smoke") > 0;
  zkop::log::Configure(zkop::log::Level::kWarn, zkop::log::Format::kText);

  Failures failures;
  std::cout << "# zkop-operator benchmark" << (smoke ? " (smoke)" : "") << "\n\n"
            << std::thread::hardware_concurrency() << " cores, load average "
            << Fixed(LoadAverage(), 2) << " at start.\n\n";
  try {
    if (!vm.count("no-ready")) ReadyPart(smoke, &failures);
    if (!vm.count("no-scale")) ScalePart(smoke, &failures);
  } catch (const std::exception& e) {
    failures.Add(std::string("setup error: ") + e.what());
  }
  if (!failures.list.empty()) {
    std::cout << "## Failures\n\n";
    for (const auto& f : failures.list) std::cout << "- " << f << "\n";
    return 1;
  }
  return 0;
}
