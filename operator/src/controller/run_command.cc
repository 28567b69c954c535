#include "zkop/operator/controller/run_command.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "zkop/config/duration.h"
#include "zkop/config/yaml_reader.h"
#include "zkop/http/health_server.h"
#include "zkop/log/log.h"

namespace po = boost::program_options;

namespace zkop::op {

namespace {

bool ParseDurationFlag(const std::string& flag, const std::string& text,
                       std::chrono::milliseconds* out, std::string* error) {
  std::string why;
  std::optional<std::chrono::milliseconds> d = config::ParseDuration(text, &why);
  if (!d || d->count() <= 0) {
    *error = "--" + flag + ": expected a positive duration like 15s or 500ms, found \"" + text +
             "\"" + (why.empty() ? "" : " (" + why + ")");
    return false;
  }
  *out = *d;
  return true;
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

bool ParseRunFlags(int argc, const char* const* argv, RunFlags* flags, std::string* error,
                   std::string* usage) {
  ManagerOptions& m = flags->manager;
  std::vector<std::string> namespaces;
  std::string metrics = m.metrics_address, log_level = "info", log_format = "text";
  std::string lease_ns, lease_duration = "15s", renew_deadline = "10s", retry_period = "2s";
  std::string step_delay = "0s";
  int concurrency = m.controller.concurrency;
  double qps = 20;
  int burst = 30;
  bool leader_elect = true;
  po::options_description opts("zkop-operator run [options]");
  opts.add_options()("help,h", "show this help")(
      "kubeconfig", po::value(&flags->kubeconfig),
      "kubeconfig file (default: in-cluster service account, else $KUBECONFIG, else "
      "~/.kube/config)")("namespace", po::value(&namespaces)->composing(),
                         "watch this namespace (repeatable; default: all namespaces)")(
      "concurrency", po::value(&concurrency)->default_value(concurrency),
      "clusters reconciled in parallel")("metrics-address",
                                         po::value(&metrics)->default_value(metrics),
                                         "host:port of /metrics, /healthz and /readyz")(
      "log-format", po::value(&log_format)->default_value(log_format), "text or json")(
      "log-level", po::value(&log_level)->default_value(log_level), "debug, info, warn or error")(
      "leader-elect", po::value(&leader_elect)->default_value(true)->implicit_value(true),
      "run only while holding the Lease (--leader-elect=false: always)")(
      "leader-election-namespace", po::value(&lease_ns),
      "namespace of the zkop-operator Lease (default: the pod's namespace, else the "
      "kubeconfig context's, else default)")(
      "leader-election-lease-duration", po::value(&lease_duration)->default_value(lease_duration),
      "how long a standby waits on an unrenewed Lease before taking it")(
      "leader-election-renew-deadline", po::value(&renew_deadline)->default_value(renew_deadline),
      "how long the leader keeps trying to renew before it steps down")(
      "leader-election-retry-period", po::value(&retry_period)->default_value(retry_period),
      "how often candidates try to acquire or renew")("qps", po::value(&qps)->default_value(qps),
                                                      "Kubernetes API requests per second")(
      "burst", po::value(&burst)->default_value(burst), "Kubernetes API request burst")(
      "cluster-domain", po::value(&m.cluster_domain)->default_value(m.cluster_domain),
      "the cluster's DNS domain (member and Service names end in svc.<domain>)")(
      "step-delay", po::value(&step_delay)->default_value(step_delay),
      "fault-injection testing only: pause this long after recording each step of a "
      "membership change or roll, before acting on it");
  std::ostringstream help;
  help << opts;
  *usage = help.str();
  po::variables_map vm;
  try {
    // argv[0] ("run") is skipped by the parser, as a program name.
    po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    *error = e.what();
    return false;
  }
  if (vm.count("help")) {
    flags->help = true;
    return true;
  }
  if (vm.count("kubeconfig") && flags->kubeconfig.empty()) {
    *error = "--kubeconfig: expected a file path, found \"\"";
    return false;
  }
  for (const std::string& ns : namespaces) {
    if (ns.empty()) {
      *error = "--namespace: expected a namespace name, found \"\"";
      return false;
    }
  }
  if (concurrency < 1 || concurrency > 64) {
    *error = "--concurrency: expected 1 to 64, found " + std::to_string(concurrency);
    return false;
  }
  http::Endpoint ep;
  std::string why;
  if (!http::ParseEndpoint(metrics, &ep, &why)) {
    *error = "--metrics-address: expected host:port like 0.0.0.0:8080, found \"" + metrics +
             "\": " + why;
    return false;
  }
  log::Level level;
  log::Format format;
  if (!log::ParseLevel(log_level, &level)) {
    *error = "--log-level: expected debug, info, warn or error, found \"" + log_level + "\"";
    return false;
  }
  if (!log::ParseFormat(log_format, &format)) {
    *error = "--log-format: expected text or json, found \"" + log_format + "\"";
    return false;
  }
  LeaderElectionOptions& le = m.leader_election;
  if (step_delay != "0s" && !ParseDurationFlag("step-delay", step_delay, &m.step_delay, error))
    return false;
  if (!ParseDurationFlag("leader-election-lease-duration", lease_duration, &le.lease_duration,
                         error) ||
      !ParseDurationFlag("leader-election-renew-deadline", renew_deadline, &le.renew_deadline,
                         error) ||
      !ParseDurationFlag("leader-election-retry-period", retry_period, &le.retry_period, error)) {
    return false;
  }
  if (le.renew_deadline >= le.lease_duration) {
    *error = "--leader-election-renew-deadline (" + renew_deadline +
             ") must be shorter than --leader-election-lease-duration (" + lease_duration + ")";
    return false;
  }
  if (le.retry_period >= le.renew_deadline) {
    *error = "--leader-election-retry-period (" + retry_period +
             ") must be shorter than --leader-election-renew-deadline (" + renew_deadline + ")";
    return false;
  }
  if (vm.count("leader-election-namespace")) {
    if (lease_ns.empty()) {
      *error = "--leader-election-namespace: expected a namespace name, found \"\"";
      return false;
    }
    le.lease_namespace = lease_ns;
    flags->lease_namespace_set = true;
  }
  if (!(qps > 0) || qps > 10000) {
    *error = "--qps: expected a number above 0 (at most 10000), found " + std::to_string(qps);
    return false;
  }
  if (burst < 1 || burst > 100000) {
    *error = "--burst: expected 1 to 100000, found " + std::to_string(burst);
    return false;
  }
  le.enabled = leader_elect;
  m.controller.namespaces = namespaces;
  m.controller.concurrency = concurrency;
  m.metrics_address = metrics;
  m.client.qps = qps;
  m.client.burst = burst;
  m.client.user_agent = "zkop-operator";
  log::Configure(level, format);
  return true;
}

std::string DefaultLeaseNamespace(const kube::ClientConfig& config,
                                  const std::filesystem::path& namespace_file) {
  std::ifstream in(namespace_file);
  if (in) {
    std::stringstream s;
    s << in.rdbuf();
    std::string ns = Trim(s.str());
    if (!ns.empty()) return ns;
  }
  return config.default_namespace.empty() ? "default" : config.default_namespace;
}

namespace {

// The API configuration: --kubeconfig, else in-cluster, else $KUBECONFIG / ~/.kube/config.
// In-cluster, $ZKOP_SERVICEACCOUNT_DIR (when set) replaces the ServiceAccount directory
// /var/run/secrets/kubernetes.io/serviceaccount: runtimes without a mount namespace per
// container (zkop-devkube's pod runtime) project the token there instead.
kube::ClientConfig LoadApiConfig(const std::string& kubeconfig) {
  if (!kubeconfig.empty()) return kube::LoadKubeconfig(kubeconfig);
  if (std::getenv("KUBERNETES_SERVICE_HOST")) {
    kube::InClusterOptions in_cluster;
    if (const char* dir = std::getenv("ZKOP_SERVICEACCOUNT_DIR"); dir && *dir)
      in_cluster.root = dir;
    return kube::InClusterConfig(in_cluster);
  }
  std::string path;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    path = env;
    path = path.substr(0, path.find(':'));  // the first file of a list
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    path = std::string(home) + "/.kube/config";
  }
  if (path.empty()) {
    throw std::runtime_error(
        "no Kubernetes API configuration: not in a cluster, and neither --kubeconfig, "
        "$KUBECONFIG nor $HOME is set");
  }
  return kube::LoadKubeconfig(path);
}

}  // namespace

constexpr int kMallocArenas = 2;

int RunCommand(int argc, char** argv, ReconcilerFactory factory) {
  RunFlags flags;
  std::string error, usage;
  if (!ParseRunFlags(argc, argv, &flags, &error, &usage)) {
    std::cerr << "zkop-operator run: " << error << "\n"
              << "Run 'zkop-operator run --help' for the options.\n";
    return 2;
  }
  if (flags.help) {
    std::cout << usage;
    return 0;
  }
  log::Logger log("operator");
  // Signals go to one sigwait thread; block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kube::ClientConfig config;
  try {
    config = LoadApiConfig(flags.kubeconfig);
  } catch (const std::exception& e) {
    std::cerr << "zkop-operator run: " << e.what() << "\n";
    return 1;
  }
  // Memory (the operator's RSS is a target, docs/benchmarks.md): with glibc every thread that
  // allocates can get an arena of its own that keeps what it freed; two are enough for the
  // operator's few busy threads. Set before any other thread starts.
  mallopt(M_ARENA_MAX, kMallocArenas);
  ManagerOptions& options = flags.manager;
  if (!flags.lease_namespace_set) {
    options.leader_election.lease_namespace = DefaultLeaseNamespace(config);
  }
  options.default_namespace = config.default_namespace;
  std::unique_ptr<Manager> manager;
  try {
    manager = std::make_unique<Manager>(options, kube::NewHttpTransport(config, "zkop-operator"),
                                        std::move(factory));
  } catch (const std::exception& e) {
    std::cerr << "zkop-operator run: " << e.what() << "\n";
    return 1;
  }
  log.Info("api", {{"server", config.server}, {"source", config.source}});

  std::stop_source stop;
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (done) return;
    log.Info("signal received; finishing in-flight work and stopping",
             {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stop.request_stop();
  });
  int code = manager->Run(stop.get_token());
  done = true;
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes sigwait if no signal came
  waiter.join();
  manager.reset();
  return code;
}

}  // namespace zkop::op
