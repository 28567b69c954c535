#include "operator_bench_env.h"

#include <cpprest/http_client.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "zkop/kube/config.h"
#include "zkop/kube/manifest.h"
#include "zkop/testing/loopback.h"

namespace zkop::bench {

using testing::ReadFile;
using testing::Subprocess;
using testing::SubprocessOptions;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds every) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

long StatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return one;
}

Json ClusterObject(const std::string& name, int replicas) {
  const std::string yaml =
      "apiVersion: zkop.io/v1alpha1\nkind: ZookeeperCluster\nmetadata:\n"
      "  name: " +
      name + "\nspec:\n  replicas: " + std::to_string(replicas) + "\n  jvmFlags: " + kJvmFlags +
      "\n  config:\n    tickTime: \"500\"\n    initLimit: \"20\"\n"
      "    syncLimit: \"10\"\n";
  return kube::ParseManifests(yaml, name + ".yaml").at(0);
}

std::string ConditionStatus(const Json& cluster, const std::string& type) {
  if (!cluster.has_field("status") || !cluster.at("status").has_field("conditions")) return "";
  for (const auto& c : cluster.at("status").at("conditions").as_array()) {
    if (c.has_field("type") && c.at("type").as_string() == type) return c.at("status").as_string();
  }
  return "";
}

int RequestLog::WritesExcept(const std::string& kind_substring) const {
  int n = 0;
  for (const auto& [kind, count] : writes_by_kind) {
    if (kind.find(kind_substring) == std::string::npos) n += count;
  }
  return n;
}

namespace {

std::string Field(const std::string& line, const std::string& key) {
  const size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size() + 2;
  const size_t end = line.find(' ', begin);
  std::string v = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

// "/api/v1/namespaces/default/secrets/demo-admin" -> "secrets"; ".../zookeeperclusters/x/status"
// -> "zookeeperclusters/status".
std::string KindOfPath(const std::string& path) {
  std::vector<std::string> seg;
  std::stringstream in(path.substr(0, path.find('?')));
  for (std::string s; std::getline(in, s, '/');) {
    if (!s.empty()) seg.push_back(s);
  }
  size_t i = seg.size() > 0 && seg[0] == "api" ? 2 : 3;
  if (i < seg.size() && seg[i] == "namespaces" && i + 2 < seg.size()) i += 2;
  if (i >= seg.size()) return path;
  std::string kind = seg[i];
  if (i + 2 < seg.size()) kind += "/" + seg[i + 2];
  return kind;
}

}  // namespace

Devkube::Devkube(const testing::TempDir& dir, const std::string& name, bool pods)
    : log_path_(dir.Path(name + "-devkube.log")), kubeconfig_(dir.Path(name + ".kubeconfig")) {
  SubprocessOptions o;
  o.argv = {ZKOP_DEVKUBE_BIN, "--listen",    "127.0.0.1:0", "--kubeconfig-out",
            kubeconfig_,      "--log-level", "debug"};
  if (pods) {
    // A /16 of its own (the default 127.42.0.0/16 may be in use by a test running beside us).
    const std::string probe = testing::PickLoopbackAddress({});
    const std::string a = probe.substr(4, probe.find('.', 4) - 4);
    for (const std::string& arg :
         {std::string("--pod-state-dir"), dir.Path(name + "-pods"), std::string("--pod-backoff"),
          std::string("1s"), std::string("--pod-address-range"), "127." + a + ".0.0/16"}) {
      o.argv.push_back(arg);
    }
  } else {
    o.argv.push_back("--no-pods");
  }
  o.output_file = log_path_;
  process_ = std::make_unique<Subprocess>(o);
  // main() prints this line once the kubeconfig is written (the server's own "serving" log
  // line comes before that).
  if (!WaitUntil(
          [&] { return ReadFile(log_path_).find("zkop-devkube: serving") != std::string::npos; },
          30s)) {
    throw std::runtime_error("zkop-devkube did not start:\n" + LogTail());
  }
  kube::ClientOptions co;
  co.qps = 0;  // the benchmark's own requests are not what is measured: no client-side limit
  client_ = kube::Client::FromConfig(kube::LoadKubeconfig(kubeconfig_), co);
  const auto crds =
      kube::LoadManifestFile(std::string(ZKOP_SOURCE_DIR) + "/crds/zookeeperclusters.zkop.io.yaml");
  for (const auto& crd : crds) {
    auto r = client_->Create(kube::resources::CustomResourceDefinitions(), "", crd);
    if (!r.ok()) throw std::runtime_error("applying the CRD: " + r.error().ToString());
  }
  if (!WaitUntil([&] { return client_->List(kube::resources::ZookeeperClusters(), "").ok(); },
                 30s)) {
    throw std::runtime_error("the ZookeeperCluster CRD is not served:\n" + LogTail());
  }
}

Devkube::~Devkube() { Stop(); }

void Devkube::Stop() {
  if (process_) process_->Terminate(30s);  // stops every Pod it runs
}

size_t Devkube::LogSize() const { return ReadFile(log_path_).size(); }

std::string Devkube::LogTail(int lines) const { return testing::TailFile(log_path_, lines); }

RequestLog Devkube::RequestsSince(size_t offset) const {
  const std::string log = ReadFile(log_path_);
  RequestLog out;
  size_t pos = std::min(offset, log.size());
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(pos, end - pos);
    pos = end + 1;
    if (line.find(": request ") == std::string::npos) continue;
    const std::string method = Field(line, "method");
    if (method == "GET" || method == "HEAD") {
      ++out.reads;
    } else if (method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE") {
      ++out.writes;
      ++out.writes_by_kind[method + " " + KindOfPath(Field(line, "path"))];
      out.write_lines.push_back(line);
    }
  }
  return out;
}

Operator::Operator(const testing::TempDir& dir, const std::string& name, const Devkube& kube,
                   std::vector<std::string> extra_flags)
    : port_(testing::PickFreePort("127.0.0.1")), log_path_(dir.Path(name + "-operator.log")) {
  SubprocessOptions o;
  o.argv = {ZKOP_OPERATOR_BIN,   "run",
            "--kubeconfig",      kube.kubeconfig(),
            "--metrics-address", "127.0.0.1:" + std::to_string(port_)};
  o.argv.insert(o.argv.end(), extra_flags.begin(), extra_flags.end());
  o.output_file = log_path_;
  process_ = std::make_unique<Subprocess>(o);
}

Operator::~Operator() { Stop(); }

void Operator::Stop() {
  if (process_) process_->Terminate(10s);
}

std::string Operator::LogTail(int lines) const { return testing::TailFile(log_path_, lines); }

namespace {

// GET http://127.0.0.1:<port><path>: {status, body}; status 0 when nothing answered.
std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(5));
    web::http::client::http_client c("http://127.0.0.1:" + std::to_string(port), cfg);
    web::http::http_response r = c.request(web::http::methods::GET, path).get();
    return {r.status_code(), r.extract_string(true).get()};
  } catch (const std::exception&) {
    return {0, ""};
  }
}

}  // namespace

bool Operator::WaitReady(std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return HttpGet(port_, "/readyz").first == 200; }, timeout, 100ms);
}

std::map<std::string, double> Operator::ApiRequests() {
  std::map<std::string, double> out;
  const auto [status, body] = HttpGet(port_, "/metrics");
  if (status != 200) return out;
  std::istringstream in(body);
  const std::string family = "zkop_operator_api_requests_total{";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family, 0) != 0) continue;
    const size_t close = line.find('}');
    const std::string labels = line.substr(family.size(), close - family.size());
    const size_t v = labels.find("verb=\"");
    if (v == std::string::npos || close == std::string::npos) continue;
    const std::string verb = labels.substr(v + 6, labels.find('"', v + 6) - v - 6);
    out[verb] += std::stod(line.substr(close + 1));
  }
  return out;
}

}  // namespace zkop::bench
