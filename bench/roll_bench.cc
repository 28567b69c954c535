// roll_bench: leader elections, write unavailability and lost writes while a 3-member
// ensemble is rolled and scaled 3 -> 5 -> 3, in zkop's order against a StatefulSet's
// (docs/benchmarks.md, issue 12). Both orders run with the same harness (writer, election
// counter) on fresh ensembles of the same size and flags.
//
//   roll_bench                one election reference, then --trials rounds of the four runs
//   roll_bench --trials 1     one round
//   roll_bench --smoke        zkop's roll, the StatefulSet's roll and zkop's 3 -> 5 -> 3 once
//
// Prints a Markdown report on stdout, progress on stderr. Exit status 1 when an acknowledged
// write was lost, when zkop's roll elected more than once (--smoke), or when a run could not
// be carried out (a failure, not a slow result: the figures are for reading, not asserting).
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "roll_bench_harness.h"
#include "roll_bench_orders.h"

namespace {

using namespace std::chrono_literals;
using namespace rollbench;
namespace zk = zkop::zk;

struct Trial {
  bool scale = false;
  bool zkop = false;
  std::string steps;
  std::string error;
  int elections = 0;
  int most_leaders = 0;  // members saying "leader" at once (2: a split brain)
  WriterResult writes;
  int windows = 0;        // gaps between acknowledgments longer than 100 ms
  double windows_ms = 0;  // their sum
  double seconds = 0;
  // Rolls: the longest gap between acknowledgments in each member's step ("3(L)": 412).
  std::vector<std::pair<StepStart, double>> step_windows;
};

std::string ScenarioName(bool scale) { return scale ? "3 -> 5 -> 3" : "roll of 3"; }
std::string OrderName(bool zkop) { return zkop ? "zkop" : "StatefulSet"; }

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << a << ", " << b << ", " << c;
  return out.str();
}

zkop::testing::ZkEnsembleOptions EnsembleOptions() {
  zkop::testing::ZkEnsembleOptions o;  // 3 members, tickTime 500 ms, 256 MB heaps
  o.log_level = "WARN";
  return o;
}

std::string ConnectString(const ZkEnsemble& e, MemberAddresses& addresses) {
  std::string connect;
  for (int id : e.Ids()) {
    addresses.Set(id, e.ClientAddress(id));
    connect += (connect.empty() ? "" : ",") + e.ClientAddress(id);
  }
  return connect;
}

Trial RunTrial(bool scale, bool zkop) {
  Trial t;
  t.scale = scale;
  t.zkop = zkop;
  std::cerr << "[roll_bench] --- " << ScenarioName(scale) << ", " << OrderName(zkop) << "\n";
  try {
    ZkEnsemble ensemble(EnsembleOptions());
    std::vector<zk::Member> all;
    if (scale && !zkop) all = PrepareStaticEnsemble(ensemble, 3, 5);
    MemberAddresses addresses;
    const std::string connect = ConnectString(ensemble, addresses);  // members 1..3
    Writer writer(connect, "/roll-bench/writes");
    if (!writer.Start()) throw std::runtime_error("the writer got no session");
    ElectionCounter elections(addresses);
    if (!elections.Start()) throw std::runtime_error("no leader epoch seen");
    std::this_thread::sleep_for(1s);
    const auto start = Clock::now();
    std::vector<StepStart> starts;
    try {
      const std::vector<int> ids{1, 2, 3};
      if (!scale) {
        if (zkop) {
          auto admin = ConnectAdmin(ensemble, connect);
          t.steps = ZkopRoll(ensemble, *admin, ids, &starts);
        } else {
          t.steps = StatefulSetRoll(ensemble, ids, &starts);
        }
      } else if (zkop) {
        auto admin = ConnectAdmin(ensemble, connect);
        t.steps = ZkopScale(ensemble, addresses, *admin, 5);
        t.steps += "; " + ZkopScale(ensemble, addresses, *admin, 3);
      } else {
        t.steps = StatefulSetScale(ensemble, addresses, all, 3, 5);
        t.steps += "; " + StatefulSetScale(ensemble, addresses, all, 5, 3);
      }
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    t.seconds = Ms(Clock::now() - start) / 1000;
    std::this_thread::sleep_for(1s);
    t.elections = elections.Stop();
    t.most_leaders = elections.most_leaders();
    t.writes = writer.StopAndVerify();
    if (!t.writes.verified && t.error.empty()) t.error = "the writes could not be read back";
    t.windows_ms = GapsLongerThan(t.writes.ack_times, 100ms, &t.windows);
    for (size_t i = 0; i < starts.size(); ++i) {
      const auto to = i + 1 < starts.size() ? starts[i + 1].at : Clock::now();
      t.step_windows.push_back({starts[i], LongestGapWithin(t.writes.ack_times, starts[i].at, to)});
    }
  } catch (const std::exception& e) {
    if (t.error.empty()) t.error = e.what();
  }
  std::cerr << "[roll_bench] " << t.steps << ": elections " << t.elections << ", longest gap "
            << t.writes.longest_gap_ms << " ms, failed " << t.writes.failed_attempts
            << ", acknowledged " << t.writes.acknowledged << ", lost " << t.writes.lost
            << (t.error.empty() ? "" : ", ERROR: " + t.error) << std::endl;
  return t;
}

// One election on this machine: the leader of a 3-member ensemble is stopped while the
// writer writes, `trials` times with SIGKILL and `trials` times with SIGTERM (how the rolls
// stop a member), alternately; the window is the gap between the writer's acknowledgments
// from the signal until the next one (SIGTERM: the JVM serves a little longer). Returns {SIGKILL
// windows, SIGTERM windows}.
std::pair<std::vector<double>, std::vector<double>> ReferenceElections(int trials) {
  std::cerr << "[roll_bench] --- one election (leader stopped), " << 2 * trials << " times\n";
  ZkEnsemble ensemble(EnsembleOptions());
  MemberAddresses addresses;
  Writer writer(ConnectString(ensemble, addresses), "/roll-bench/reference");
  if (!writer.Start()) throw std::runtime_error("reference: the writer got no session");
  std::vector<std::pair<Clock::time_point, bool>> stops;  // when, SIGTERM
  for (int i = 0; i < 2 * trials; ++i) {
    std::this_thread::sleep_for(1500ms);
    const int leader = ensemble.Leader();
    if (leader == 0) continue;
    const int64_t before = writer.acknowledged();
    const bool term = i % 2 == 1;
    stops.push_back({Clock::now(), term});
    if (term) {
      ensemble.Stop(leader);
    } else {
      ensemble.Kill(leader);
    }
    Eventually([&] { return writer.acknowledged() > before + 1; }, 60s, 5ms);
    ensemble.Start(leader);
    if (!ensemble.WaitForQuorum(60s)) throw std::runtime_error("reference: no quorum again");
  }
  std::this_thread::sleep_for(1s);
  WriterResult r = writer.StopAndVerify();
  std::pair<std::vector<double>, std::vector<double>> gaps;
  for (size_t i = 0; i < stops.size(); ++i) {  // the outage may begin after the signal
    const Clock::time_point to = i + 1 < stops.size() ? stops[i + 1].first : Clock::now();
    (stops[i].second ? gaps.second : gaps.first)
        .push_back(LongestGapWithin(r.ack_times, stops[i].first, to));
  }
  return gaps;
}

template <typename T>
std::string Spread(std::vector<T> v, int precision = 0) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision);
  if (v.front() == v.back()) {
    out << v.front();
  } else {
    out << v.front() << " / " << v[v.size() / 2] << " / " << v.back();
  }
  return out.str();
}

void Report(const std::vector<Trial>& trials,
            const std::pair<std::vector<double>, std::vector<double>>& reference) {
  std::cout << "| scenario | order | runs | leader elections | longest write-failure window (ms) "
               "| write gaps > 100 ms: count, total ms | failed attempts | acknowledged writes "
               "| lost writes | duration (s) | most leaders at once |\n"
               "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (bool scale : {false, true}) {
    for (bool zkop : {true, false}) {
      std::vector<int> elections;
      std::vector<double> gaps, seconds, windows_ms;
      std::vector<int> windows, leaders;
      std::vector<int64_t> failed, acked, lost;
      for (const Trial& t : trials) {
        if (t.scale != scale || t.zkop != zkop || !t.error.empty()) continue;
        elections.push_back(t.elections);
        gaps.push_back(t.writes.longest_gap_ms);
        windows.push_back(t.windows);
        leaders.push_back(t.most_leaders);
        windows_ms.push_back(t.windows_ms);
        failed.push_back(t.writes.failed_attempts);
        acked.push_back(t.writes.acknowledged);
        lost.push_back(t.writes.lost);
        seconds.push_back(t.seconds);
      }
      if (elections.empty()) continue;
      std::cout << "| " << ScenarioName(scale) << " | " << OrderName(zkop) << " | "
                << elections.size() << " | " << Spread(elections) << " | " << Spread(gaps) << " | "
                << Spread(windows) << ", " << Spread(windows_ms) << " | " << Spread(failed) << " | "
                << Spread(acked) << " | " << Spread(lost) << " | " << Spread(seconds, 1) << " | "
                << Spread(leaders) << " |\n";
    }
  }
  std::cout << "\nCells with three figures: min / median / max over the runs.\n";
  if (!reference.first.empty())
    std::cout << "\nOne election on this machine (the leader of 3 stopped; the writer's gap "
                 "after the signal, ms): SIGKILL "
              << Spread(reference.first) << " (" << reference.first.size() << " times), SIGTERM "
              << Spread(reference.second) << " (" << reference.second.size() << " times)\n";
  for (bool zkop : {true, false}) {
    std::vector<double> leader, others;
    for (const Trial& t : trials) {
      if (t.scale || t.zkop != zkop || !t.error.empty()) continue;
      for (const auto& [step, ms] : t.step_windows) (step.leader ? leader : others).push_back(ms);
    }
    if (leader.empty() && others.empty()) continue;
    std::cout << "\nRoll of 3, " << OrderName(zkop)
              << ": longest window in a step on the leader (ms) " << Spread(leader)
              << "; in a step on another member " << Spread(others) << "\n";
  }
  std::cout << "\nRuns:\n\n";
  for (const Trial& t : trials) {
    std::cout << "- " << ScenarioName(t.scale) << ", " << OrderName(t.zkop) << ": " << t.steps
              << " — elections " << t.elections << ", longest window " << std::fixed
              << std::setprecision(0) << t.writes.longest_gap_ms << " ms, " << t.windows
              << " gaps > 100 ms totalling " << t.windows_ms << " ms, failed "
              << t.writes.failed_attempts << ", acknowledged " << t.writes.acknowledged << ", lost "
              << t.writes.lost << ", at most " << t.most_leaders << " leader(s) at once"
              << std::setprecision(1) << ", " << t.seconds << " s"
              << (t.error.empty() ? "" : " — ERROR: " + t.error);
    std::string by_step;
    for (const auto& [step, ms] : t.step_windows)
      by_step += (by_step.empty() ? "" : ", ") + step.label + " " + std::to_string(std::lround(ms));
    if (!by_step.empty()) std::cout << "; longest window by step (ms): " << by_step;
    std::cout << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description desc("roll_bench options");
  desc.add_options()("help", "this help")("smoke", "one short run of each check (ctest)")(
      "trials", po::value<int>()->default_value(3), "rounds of the four runs")(
      "reference", po::value<int>()->default_value(4),
      "leader stops per signal (SIGKILL, SIGTERM) for the election reference")(
      "only", po::value<std::string>(),
      "one run: reference, roll-zkop, roll-statefulset, scale-zkop, scale-statefulset");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "roll_bench: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  const bool smoke = vm.count("smoke") > 0;
  zk::Client::SetCLogLevel(zkop::log::Level::kError);
  zkop::log::Configure(zkop::log::Level::kError, zkop::log::Format::kText);

  const std::string load_before = LoadAverage();
  std::pair<std::vector<double>, std::vector<double>> reference;
  std::vector<Trial> trials;
  try {
    if (vm.count("only") && vm["only"].as<std::string>() == "reference") {
      reference = ReferenceElections(vm["reference"].as<int>());
    } else if (vm.count("only")) {
      const std::string only = vm["only"].as<std::string>();
      const bool scale = only.rfind("scale-", 0) == 0;
      if (!scale && only.rfind("roll-", 0) != 0) {
        std::cerr << "roll_bench: --only " << only << ": unknown run\n";
        return 2;
      }
      trials.push_back(RunTrial(scale, only.find("zkop") != std::string::npos));
    } else if (smoke) {
      trials.push_back(RunTrial(false, true));
      trials.push_back(RunTrial(false, false));
      trials.push_back(RunTrial(true, true));
    } else {
      reference = ReferenceElections(vm["reference"].as<int>());
      for (int i = 0; i < vm["trials"].as<int>(); ++i) {
        for (bool scale : {false, true})
          for (bool zkop : {true, false}) trials.push_back(RunTrial(scale, zkop));
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "roll_bench: " << e.what() << "\n";
    return 1;
  }
  std::cout << "## roll_bench" << (smoke ? " --smoke" : "")
            << "\n\nLoad average before: " << load_before << "; after: " << LoadAverage() << "\n\n";
  Report(trials, reference);

  int status = 0;
  for (const Trial& t : trials) {
    const std::string what = ScenarioName(t.scale) + ", " + OrderName(t.zkop);
    if (!t.error.empty()) {
      std::cerr << "roll_bench: FAILED: " << what << ": " << t.error << "\n";
      status = 1;
    }
    if (t.writes.lost > 0 && t.zkop) {
      std::cerr << "roll_bench: FAILED: " << what << ": " << t.writes.lost
                << " acknowledged writes lost\n";
      status = 1;
    }
    if (smoke && t.zkop && !t.scale && t.elections > 1) {
      std::cerr << "roll_bench: FAILED: zkop's roll elected " << t.elections << " times\n";
      status = 1;
    }
  }
  return status;
}
