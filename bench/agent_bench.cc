// agent_bench: how fast the agent registers, against sequential synchronous creates with the
// same C client, measured in the same run on a private 3-server ensemble (docs/benchmarks.md).
//
//   agent_bench                 register 1, 100, 10,000 services; port-close latency; RSS
//   agent_bench --smoke         100 services only (ctest)
//   agent_bench --no-baseline   skip the sequential baseline (quick runs)
//
// Each size is measured twice: with new interfaces (the persistent parents are created too:
// three creates per registration) and with the parents already there (a restarted agent, a
// second replica, a rescheduled pod: one create per registration).
//
// Prints a Markdown report on stdout. Exit status 1 when a registration set never became
// visible (a failure, not a slow result: the figures are for reading, not asserting).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "zkop/agent/node.h"
#include "zkop/agent/syncer.h"
#include "zkop/agent/zk_registry.h"
#include "zkop/dubbo/provider_url.h"
#include "zkop/testing/loopback.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"
#include "zkop/testing/zk_ensemble.h"
#include "zkop/zk/client.h"
#include "zkop/zk/four_letter.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zkop::testing::TempDir;
using zkop::testing::ZkEnsemble;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::microseconds step = 2ms) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

int64_t Ephemerals(const ZkEnsemble& e) {
  int leader = e.Leader();
  if (!leader) return -1;
  auto r = zkop::zk::FourLetterWord(e.ClientAddress(leader), "mntr", 2s);
  if (!r.status.ok()) return -1;
  auto m = zkop::zk::ParseMntr(r.text);
  return m.count("zk_ephemerals_count") ? std::stoll(m["zk_ephemerals_count"]) : -1;
}

std::string Interface(int i) {
  return "org.apache.dubbo.bench.generated.GeneratedService" + std::to_string(i);
}

// Dubbo-length provider nodes, as the agent writes them.
std::map<std::string, std::string> Nodes(const std::string& root, int n, const std::string& host,
                                         int port, int64_t ts) {
  std::map<std::string, std::string> out;
  for (int i = 0; i < n; ++i) {
    zkop::dubbo::ProviderSpec s;
    s.host = host;
    s.port = port;
    s.interface_name = Interface(i);
    s.application = "bench-provider";
    s.methods = {"get", "put"};
    s.pid = 4242;
    s.release = "2.7.23";
    s.timestamp_ms = ts;
    out[zkop::dubbo::ProviderNodePath(root, s)] = host;
  }
  return out;
}

std::unique_ptr<zkop::zk::Client> Connect(const std::string& connect) {
  zkop::zk::ClientOptions o;
  o.connect = connect;
  o.session_timeout = 10s;
  o.name = "bench";
  auto c = std::make_unique<zkop::zk::Client>(o);
  c->Connect(30s);
  return c;
}

// Baseline: what Dubbo's ZookeeperRegistry does, one service at a time, with the same C
// client: `exists` on the providers directory, and when it is missing the same for its
// parents and synchronous creates of what is missing; then the synchronous create of the
// ephemeral node. Directories seen are remembered (Dubbo's persistentExistNodePath). The
// ephemeral nodes are then deleted (pipelined) before the session closes, so no large
// session is ever closed with its ephemerals; the parents stay.
double Baseline(const std::string& connect, const std::map<std::string, std::string>& nodes) {
  auto c = Connect(connect);
  zkop::zk::CreateOptions eph;
  eph.mode = zkop::zk::CreateMode::kEphemeral;
  std::set<std::string> seen;
  std::function<void(const std::string&)> ensure = [&](const std::string& dir) {
    if (dir.empty() || seen.count(dir)) return;
    if (!c->Exists(dir).status.ok()) {
      ensure(dir.substr(0, dir.rfind('/')));
      c->Create(dir, "");
    }
    seen.insert(dir);
  };
  auto start = Clock::now();
  for (const auto& [path, data] : nodes) {
    ensure(path.substr(0, path.rfind('/')));
    c->Create(path, data, eph);
  }
  double ms = Ms(Clock::now() - start);
  std::atomic<size_t> left{nodes.size()};
  for (const auto& [path, data] : nodes) {
    c->DeleteAsync(path, -1, [&left](const zkop::zk::StatResult&) { --left; });
  }
  Eventually([&] { return left == 0; }, 60s);
  return ms;
}

// Brings the servers to steady state before anything is measured (a production ensemble is
// long-running: its JIT has compiled the request path): rounds of 30,000 creates and deletes
// as multis of 1,000 ops, 8 in flight, on one session. Returns the last round's creates/s:
// what this ensemble can do here, the ceiling for everything below.
double WarmUp(const std::string& connect) {
  auto c = Connect(connect);
  c->Create("/bench-warmup", "");
  constexpr int kNodes = 30000;
  double rate = 0;
  for (int round = 0; round < 3; ++round) {
    for (bool create : {true, false}) {
      std::atomic<int> in_flight{0};
      auto start = Clock::now();
      for (int first = 0; first < kNodes; first += 1000) {
        Eventually([&] { return in_flight < 8; }, 60s, 50us);
        std::vector<zkop::zk::Op> ops;
        for (int i = first; i < first + 1000; ++i) {
          std::string path = "/bench-warmup/" + Interface(i);
          ops.push_back(create ? zkop::zk::Op::Create(path, "") : zkop::zk::Op::Delete(path));
        }
        ++in_flight;
        c->MultiAsync(std::move(ops), [&in_flight](const zkop::zk::MultiResult&) { --in_flight; });
      }
      Eventually([&] { return in_flight == 0; }, 60s, 50us);
      if (create) rate = kNodes / (Ms(Clock::now() - start) / 1000);
    }
  }
  return rate;
}

struct EngineResult {
  double ms = 0;
  size_t sessions = 0;
  bool ok = false;
};

// The agent's sync engine in process: time until every node is created and acknowledged.
EngineResult Engine(const ZkEnsemble& e, const std::map<std::string, std::string>& nodes) {
  zkop::agent::ZkRegistryStore store(
      {e.ConnectString(), std::chrono::milliseconds(10000), std::chrono::milliseconds(10000)});
  zkop::agent::LiteralNodes literal;
  zkop::agent::Syncer syncer(&store, &literal, {}, [] {});
  syncer.Sync({});  // the first session, connected (as in a running agent)
  auto keys = literal.Keys(nodes);
  int64_t before = Ephemerals(e);
  EngineResult r;
  auto start = Clock::now();
  r.ok = syncer.Sync(keys);
  r.ms = Ms(Clock::now() - start);
  r.ok = r.ok && Ephemerals(e) == before + static_cast<int64_t>(nodes.size());
  r.sessions = syncer.stats().shards.size();
  syncer.RemoveAll(Clock::now() + 30s);
  return r;
}

std::string Config(const TempDir& dir, const ZkEnsemble& e, const std::string& root,
                   const std::string& host, int port, int n, const std::string& probe) {
  std::ostringstream y;
  y << "zookeeper:\n  connect: " << e.ConnectString() << "\n  sessionTimeout: 10s\n  root: " << root
    << "\n"
    << "application: bench-provider\nhost: " << host << "\nprobeInterval: " << probe
    << "\nverifyInterval: 60s\nshutdownTimeout: 30s\nmetricsAddress: \"\"\nservices:\n";
  for (int i = 0; i < n; ++i) {
    y << "  - {interface: " << Interface(i) << ", methods: [get, put], port: " << port << "}\n";
  }
  return dir.Write("agent-" + std::to_string(n) + "-" + probe + ".yaml", y.str());
}

std::unique_ptr<zkop::testing::Subprocess> Provider(const TempDir& dir, const std::string& host,
                                                    int port) {
  zkop::testing::SubprocessOptions o;
  o.argv = {ZKOP_DEMO_PROVIDER_BIN, "--app", "bench-provider", "--host", host, "--port",
            std::to_string(port)};
  o.output_file = dir.Path("provider.log");
  auto p = std::make_unique<zkop::testing::Subprocess>(o);
  Eventually(
      [&] { return zkop::testing::ReadFile(o.output_file).find("listening") != std::string::npos; },
      10s);
  return p;
}

long RssKb(pid_t pid, const std::string& field = "VmRSS:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  po::options_description opts("agent_bench [options]");
  opts.add_options()("help,h", "show this help")("smoke", "100 services only (for ctest)")(
      "no-baseline", "skip the sequential baseline (quick engine/RSS runs)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, opts), vm);
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  bool smoke = vm.count("smoke") > 0;
  zkop::log::Configure(zkop::log::Level::kWarn, zkop::log::Format::kText);

  // A production-like JVM (full JIT, heap committed), warmed up: see WarmUp(). The smoke
  // run (ctest) keeps the tests' quick-start servers.
  zkop::testing::ZkEnsembleOptions ensemble_options;
  if (!smoke) {
    ensemble_options.production_jvm = true;
    ensemble_options.heap = "512m";
  }
  ZkEnsemble ensemble(ensemble_options);
  double ceiling = smoke ? 0 : WarmUp(ensemble.ConnectString());
  TempDir dir("agent-bench");
  std::string host = zkop::testing::PickLoopbackAddress({});
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  bool failed = false;

  std::cout << "# zkop-agent benchmark\n\n3-server ZooKeeper 3.8 ensemble on loopback, "
            << std::thread::hardware_concurrency() << " cores";
  if (ceiling > 0) {
    std::cout << "; after warm-up it took " << std::fixed << std::setprecision(0) << ceiling
              << " creates/s (1,000-op multis, 8 in flight, one session)";
  }
  std::cout << ".\n\n"
            << "| services | parents | avg path bytes | sequential sync (Dubbo's way) | agent "
               "engine | speed-up | sessions | agent process, start to all visible |\n"
            << "|---:|---|---:|---:|---:|---:|---:|---:|\n";
  std::vector<int> sizes = smoke ? std::vector<int>{100} : std::vector<int>{1, 100, 10000};
  auto provider = Provider(dir, host, 0);
  int port = 0;
  {
    std::string out = zkop::testing::ReadFile(dir.Path("provider.log"));
    port = std::stoi(out.substr(out.rfind(':') + 1));
  }
  std::ostringstream rss;
  for (int n : sizes) {
    std::string size = std::to_string(n);
    auto engine_nodes = Nodes("/bench-engine-" + size, n, host, port, now);
    auto base_nodes = Nodes("/bench-base-" + size, n, host, port, now);
    size_t bytes = 0;
    for (const auto& [p, d] : engine_nodes) bytes += p.size();
    // First every parent is new; the second time the parents are there.
    for (bool present : {false, true}) {
      double base = vm.count("no-baseline") ? 0 : Baseline(ensemble.ConnectString(), base_nodes);
      EngineResult eng = Engine(ensemble, engine_nodes);
      failed = failed || !eng.ok;

      // The real binary: process start, config, probe, sessions, sync.
      int64_t before = Ephemerals(ensemble);
      std::string config = Config(dir, ensemble, "/bench-agent-" + size, host, port, n, "1s");
      zkop::testing::SubprocessOptions o;
      o.argv = {ZKOP_AGENT_BIN, "run", "--config", config, "--log-level", "warn"};
      o.output_file = dir.Path("agent-" + size + ".log");
      auto start = Clock::now();
      zkop::testing::Subprocess agent(o);
      long sync_peak = 0;  // the highest RSS seen once the first node was there
      bool visible = Eventually(
          [&] {
            int64_t now_there = Ephemerals(ensemble);
            if (now_there > before) sync_peak = std::max(sync_peak, RssKb(agent.pid()));
            return now_there >= before + n;
          },
          120s, 1ms);
      double e2e = Ms(Clock::now() - start);
      failed = failed || !visible;
      if (n == sizes.back()) {
        long at_visible = RssKb(agent.pid());
        // The round that made them visible may still be finishing: look again once it is over.
        std::this_thread::sleep_for(2s);
        rss << "\nAgent RSS with " << n << " registrations, parents "
            << (present ? "present" : "new") << ": " << RssKb(agent.pid())
            << " KiB once the first round is over (anon " << RssKb(agent.pid(), "RssAnon:")
            << " KiB, file-backed " << RssKb(agent.pid(), "RssFile:") << " KiB); " << at_visible
            << " KiB when all became visible; at most " << sync_peak
            << " KiB while they were being created; high-water mark since start (the config "
               "parse included) "
            << RssKb(agent.pid(), "VmHWM:") << " KiB\n";
      }
      agent.Terminate(30s);
      Eventually([&] { return Ephemerals(ensemble) == before; }, 60s);

      std::cout << "| " << n << " | " << (present ? "present" : "new") << " | "
                << bytes / std::max<size_t>(1, engine_nodes.size()) << " | " << std::fixed
                << std::setprecision(1) << base << " ms (" << std::setprecision(0)
                << n / (base / 1000) << "/s) | " << std::setprecision(1) << eng.ms << " ms ("
                << std::setprecision(0) << n / (eng.ms / 1000) << "/s)" << (eng.ok ? "" : " FAILED")
                << " | " << std::setprecision(1) << base / eng.ms << "x | " << eng.sessions << " | "
                << (visible ? "" : "not visible after ") << e2e << " ms |\n";
    }
  }
  std::cout << rss.str();

  // Port close -> node gone, probeInterval 1s (the agent probes once per interval).
  std::string config = Config(dir, ensemble, "/dubbo", host, port, 1, "1s");
  zkop::testing::SubprocessOptions o;
  o.argv = {ZKOP_AGENT_BIN, "run", "--config", config, "--log-level", "warn"};
  o.output_file = dir.Path("agent-latency.log");
  zkop::testing::Subprocess agent(o);
  auto client = Connect(ensemble.ConnectString());
  std::string parent = zkop::dubbo::ProvidersPath("/dubbo", Interface(0));
  std::vector<double> latencies;
  int trials = smoke ? 2 : 8;
  for (int t = 0; t < trials; ++t) {
    if (!provider) provider = Provider(dir, host, port);
    if (!Eventually([&] { return client->GetChildren(parent).children.size() == 1; }, 10s)) {
      failed = true;
      break;
    }
    // Close at a random point of the probe cycle.
    std::this_thread::sleep_for(std::chrono::milliseconds(137 * (t + 1) % 1000));
    provider->Terminate(2s);
    auto closed = Clock::now();
    Eventually([&] { return client->GetChildren(parent).children.empty(); }, 10s, 1ms);
    latencies.push_back(Ms(Clock::now() - closed));
    provider.reset();
  }
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    std::cout << "\nPort close -> node gone (probeInterval 1s, " << latencies.size()
              << " trials): median " << std::setprecision(0) << latencies[latencies.size() / 2]
              << " ms, max " << latencies.back() << " ms\n";
  }
  agent.Terminate(10s);
  return failed ? 1 : 0;
}
