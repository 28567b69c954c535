// zkop-agent: per-pod Dubbo registration agent (see docs/agent.md).
#include <malloc.h>
#include <signal.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

#include "zkop/agent/agent.h"
#include "zkop/agent/check.h"
#include "zkop/agent/zk_registry.h"
#include "zkop/config/yaml_reader.h"
#include "zkop/http/health_server.h"
#include "zkop/log/log.h"
#include "zkop/version.h"
#include "zkop/zk/client.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "Usage: zkop-agent <command> [options]\n"
    "\n"
    "Keeps the Dubbo providers of a pod registered in ZooKeeper and diagnoses port conflicts.\n"
    "\n"
    "Commands:\n"
    "  run      run the agent (register while ports listen)\n"
    "  check    resolve the config, probe ports, print each service and its state\n"
    "\n"
    "Run 'zkop-agent <command> --help' for a command's options.\n";

constexpr const char* kDefaultConfig = "/etc/zkop/agent.yaml";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Loads and resolves; prints the precise error (for check --json: as JSON on stdout) and
// returns false on a bad config.
bool Load(const std::string& file, zkop::agent::AgentConfig* config,
          std::vector<zkop::agent::Declared>* declared, bool json = false) {
  try {
    *config = zkop::agent::LoadConfigFile(file);
  } catch (const zkop::config::ConfigError& e) {
    if (json) zkop::agent::PrintCheckError(e.what(), true, std::cout);
    zkop::agent::PrintCheckError(e.what(), false, std::cerr);
    return false;
  }
  *declared =
      zkop::agent::Resolve(*config, zkop::agent::ProcessEnv(), zkop::agent::SystemAddresses());
  return true;
}

int Run(const std::string& file) {
  zkop::log::Logger log("agent");
  // Signals go to a sigwait thread (blocked before any thread starts).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  zkop::agent::AgentConfig config;
  std::vector<zkop::agent::Declared> declared;
  if (!Load(file, &config, &declared)) return 1;
  int bad = 0;
  for (const auto& d : declared) {
    if (!d.config_error.empty()) {
      std::cerr << "zkop-agent: " << d.key_path << " (" << d.interface_name
                << "): " << d.config_error << "\n";
      ++bad;
    }
  }
  if (bad) {
    std::cerr << "zkop-agent: refusing to start with " << bad
              << " unresolvable service(s); run 'zkop-agent check --config " << file
              << "' for details\n";
    return 1;
  }

  for (const std::string& w : zkop::agent::DuplicateServices(config)) {
    log.Warn("service listed more than once", {{"detail", w}});
  }
  // The connect string is resolved again at most once per verify pass while connected.
  zkop::agent::ZkRegistryStore store(
      {config.connect, config.session_timeout, config.verify_interval});
  zkop::agent::ProcProbe probe;
  zkop::agent::AgentDeps deps;
  deps.store = &store;
  deps.probe = &probe;
  deps.env = zkop::agent::ProcessEnv();
  deps.addresses = zkop::agent::SystemAddresses();
  deps.now_ms = NowMs;
  std::unique_ptr<zkop::http::HealthServer> health;  // created before Run, outlives it
  deps.on_round = [&health](bool ready, const std::string& reason) {
    if (health) health->SetReady(ready, reason);
  };
  const std::string metrics_address = config.metrics_address;
  const std::string connect = config.connect;
  const size_t services = declared.size();
  zkop::agent::Agent agent(std::move(config), std::move(declared), deps);

  if (!metrics_address.empty()) {
    try {
      health =
          std::make_unique<zkop::http::HealthServer>(metrics_address, agent.metrics().registry());
    } catch (const std::exception& e) {
      std::cerr << "zkop-agent: " << e.what() << "\n";
      return 1;
    }
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log.Info("signal received; shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    agent.Stop();
  });
  log.Info("starting", {{"version", zkop::kVersion},
                        {"config", file},
                        {"services", static_cast<unsigned long>(services)},
                        {"zookeeper", connect},
                        {"metrics", metrics_address}});
  agent.Run();
  // Run returns only after Stop(); the waiter has finished or is finishing.
  waiter.join();
  log.Info("stopped");
  return 0;
}

}  // namespace

int Main(int argc, char** argv);

int main(int argc, char** argv) {
  // Bad input fails with a precise message where it is read; this is the last line of
  // defence (never an abort on input): exit 1 with the reason, as JSON for check --json.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    bool json = false;
    for (int i = 1; i < argc; ++i) json = json || std::string_view(argv[i]) == "--json";
    std::string error = std::string("internal error: ") + e.what();
    if (json) zkop::agent::PrintCheckError(error, true, std::cout);
    std::cerr << "zkop-agent: " << error << "\n";
    return 1;
  }
}

int Main(int argc, char** argv) {
  // Every ZooKeeper session brings client threads; one malloc arena per thread would keep
  // freed request buffers resident (tens of MB at 10,000 registrations). Two arenas suffice.
  mallopt(M_ARENA_MAX, 2);
  // Multi requests and answers are buffers of hundreds of KB. A fixed mmap threshold keeps
  // glibc from raising it dynamically after the first free, which would put later buffers on
  // the heap, fragment it among the long-lived paths and keep freed pages resident.
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  std::string command;
  if (argc >= 2 && argv[1][0] != '-') command = argv[1];
  po::options_description global("Options");
  global.add_options()("help,h", "show this help")("version", "print the version");
  if (command.empty()) {
    po::variables_map vm;
    try {
      po::store(po::command_line_parser(argc, argv).options(global).run(), vm);
    } catch (const po::error& e) {
      std::cerr << "zkop-agent: " << e.what() << "\n" << kUsage;
      return 2;
    }
    if (vm.count("version")) {
      std::cout << "zkop-agent " << zkop::kVersion << "\n";
      return 0;
    }
    std::cout << kUsage << "\n" << global;
    return vm.count("help") ? 0 : 2;
  }
  if (command != "run" && command != "check") {
    std::cerr << "zkop-agent: unknown command \"" << command << "\"\n" << kUsage;
    return 2;
  }

  std::string config_file, log_level, log_format;
  po::options_description opts(command == "run" ? "zkop-agent run [options]"
                                                : "zkop-agent check [options]");
  opts.add_options()("help,h", "show this help")(
      "config", po::value(&config_file)->default_value(kDefaultConfig), "agent config (YAML)")(
      "log-level", po::value(&log_level)->default_value("info"), "debug, info, warn or error")(
      "log-format", po::value(&log_format)->default_value("text"), "text or json");
  if (command == "check") opts.add_options()("json", "print one JSON document");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zkop-agent " << command << ": " << e.what() << "\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  zkop::log::Level level;
  zkop::log::Format format;
  if (!zkop::log::ParseLevel(log_level, &level)) {
    std::cerr << "zkop-agent: --log-level: expected debug, info, warn or error, found \""
              << log_level << "\"\n";
    return 2;
  }
  if (!zkop::log::ParseFormat(log_format, &format)) {
    std::cerr << "zkop-agent: --log-format: expected text or json, found \"" << log_format
              << "\"\n";
    return 2;
  }
  zkop::log::Configure(level, format);

  if (command == "run") return Run(config_file);

  zkop::agent::AgentConfig config;
  std::vector<zkop::agent::Declared> declared;
  if (!Load(config_file, &config, &declared, vm.count("json") > 0)) return 1;
  zkop::agent::ProcProbe probe;
  // Instance modes: the instance nodes are read (never written) to tell the agent's own
  // registration from a provider's; a ZooKeeper that does not answer within 3 s is reported.
  std::unique_ptr<zkop::zk::Client> client;
  std::string client_error;
  zkop::agent::RegistryReader reader = [&](const std::string& path) {
    zkop::agent::RegistryRead read;
    if (!client && client_error.empty()) {
      zkop::zk::ClientOptions o;
      o.connect = config.connect;
      o.session_timeout = config.session_timeout;
      o.operation_timeout = std::chrono::seconds(3);
      o.name = "check";
      client = std::make_unique<zkop::zk::Client>(o);
      zkop::zk::Status st = client->Connect(std::chrono::seconds(3));
      if (!st.ok()) client_error = st.ToString();
    }
    if (!client_error.empty()) {
      read.error = client_error;
      return read;
    }
    zkop::zk::DataResult r = client->Get(path);
    if (r.status.ok()) {
      read.exists = true;
      read.data = std::move(r.data);
    } else if (r.status.code() != zkop::zk::Error::kNoNode) {
      read.error = r.status.ToString();
    }
    return read;
  };
  return zkop::agent::RunCheck(config, declared, probe, vm.count("json") > 0, std::cout, reader);
}
