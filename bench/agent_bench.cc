// agent_bench: how fast the agent registers, against sequential synchronous creates with the
// same C client, measured in the same run on a private 3-server ensemble (docs/benchmarks.md).
//
//   agent_bench            register 1, 100, 10,000 services; port-close latency; RSS
//   agent_bench --smoke    100 services only (ctest)
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
#include <sstream>
#include <thread>

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

// Baseline: what a registry client does one service at a time (Dubbo's ZookeeperRegistry):
// synchronous creates of the persistent parents (NodeExists is fine) and the ephemeral node,
// one after the other. The nodes are then deleted (pipelined) before the session closes, so
// no large session is ever closed with its ephemerals.
double Baseline(const std::string& connect, const std::string& root,
                const std::map<std::string, std::string>& nodes) {
  auto c = Connect(connect);
  c->Create(root, "");
  zkop::zk::CreateOptions eph;
  eph.mode = zkop::zk::CreateMode::kEphemeral;
  auto start = Clock::now();
  for (const auto& [path, data] : nodes) {
    std::string providers = path.substr(0, path.rfind('/'));
    c->Create(providers.substr(0, providers.rfind('/')), "");
    c->Create(providers, "");
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

struct EngineResult {
  double ms = 0;
  size_t sessions = 0;
  bool ok = false;
};

// The agent's sync engine in process: time until every node is created and acknowledged.
EngineResult Engine(const ZkEnsemble& e, const std::map<std::string, std::string>& nodes) {
  zkop::agent::ZkRegistryStore store({e.ConnectString(), std::chrono::milliseconds(10000)});
  zkop::agent::SyncOptions o;
  zkop::agent::Syncer syncer(&store, o, [] {});
  syncer.Sync({});  // the first session, connected (as in a running agent)
  int64_t before = Ephemerals(e);
  EngineResult r;
  auto start = Clock::now();
  r.ok = syncer.Sync(nodes);
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
  o.argv = {ZKOP_FAKE_PROVIDER_BIN, "--app", "bench-provider", "--host", host, "--port",
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

  ZkEnsemble ensemble;
  TempDir dir("agent-bench");
  std::string host = zkop::testing::PickLoopbackAddress({});
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  bool failed = false;

  std::cout
      << "# zkop-agent benchmark\n\n3-server ZooKeeper 3.8 ensemble on loopback, "
      << std::thread::hardware_concurrency() << " cores.\n\n"
      << "| services | avg path bytes | sequential sync creates | agent engine (batched multi) "
         "| speed-up | sessions | agent process, start to all visible |\n"
      << "|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<int> sizes = smoke ? std::vector<int>{100} : std::vector<int>{1, 100, 10000};
  auto provider = Provider(dir, host, 0);
  int port = 0;
  {
    std::string out = zkop::testing::ReadFile(dir.Path("provider.log"));
    port = std::stoi(out.substr(out.rfind(':') + 1));
  }
  long rss_at_max = -1, rss_settled = -1, rss_anon = -1, rss_file = -1;
  for (int n : sizes) {
    auto nodes = Nodes("/bench-engine-" + std::to_string(n), n, host, port, now);
    size_t bytes = 0;
    for (const auto& [p, d] : nodes) bytes += p.size();
    double base = vm.count("no-baseline")
                      ? 0
                      : Baseline(ensemble.ConnectString(), "/bench-base-" + std::to_string(n),
                                 Nodes("/bench-base-" + std::to_string(n), n, host, port, now));
    EngineResult eng = Engine(ensemble, nodes);
    failed = failed || !eng.ok;

    // The real binary: process start, config, probe, sessions, sync.
    int64_t before = Ephemerals(ensemble);
    std::string config =
        Config(dir, ensemble, "/bench-agent-" + std::to_string(n), host, port, n, "1s");
    zkop::testing::SubprocessOptions o;
    o.argv = {ZKOP_AGENT_BIN, "run", "--config", config, "--log-level", "warn"};
    o.output_file = dir.Path("agent-" + std::to_string(n) + ".log");
    auto start = Clock::now();
    zkop::testing::Subprocess agent(o);
    bool visible = Eventually([&] { return Ephemerals(ensemble) >= before + n; }, 120s, 1ms);
    double e2e = Ms(Clock::now() - start);
    failed = failed || !visible;
    if (n == sizes.back()) {
      rss_at_max = RssKb(agent.pid());
      // The round that made them visible may still be finishing: look again once it is over.
      std::this_thread::sleep_for(2s);
      rss_settled = RssKb(agent.pid());
      rss_anon = RssKb(agent.pid(), "RssAnon:");
      rss_file = RssKb(agent.pid(), "RssFile:");
    }
    agent.Terminate(30s);
    Eventually([&] { return Ephemerals(ensemble) == before; }, 60s);

    std::cout << "| " << n << " | " << bytes / std::max<size_t>(1, nodes.size()) << " | "
              << std::fixed << std::setprecision(1) << base << " ms (" << std::setprecision(0)
              << n / (base / 1000) << "/s) | " << std::setprecision(1) << eng.ms << " ms ("
              << std::setprecision(0) << n / (eng.ms / 1000) << "/s)" << (eng.ok ? "" : " FAILED")
              << " | " << std::setprecision(1) << base / eng.ms << "x | " << eng.sessions << " | "
              << (visible ? "" : "not visible after ") << e2e << " ms |\n";
  }
  std::cout << "\nAgent RSS with " << sizes.back() << " registrations: " << rss_at_max
            << " KiB when all became visible; " << rss_settled << " KiB 2 s later (anon "
            << rss_anon << " KiB, file-backed " << rss_file << " KiB)\n";

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
