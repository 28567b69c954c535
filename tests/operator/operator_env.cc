#include "operator_env.h"

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <cpprest/http_client.h>

#include "zkop/kube/resource.h"
#include "zkop/testing/loopback.h"

namespace zkop::op::testing {

using zkop::testing::ReadFile;
using zkop::testing::SubprocessOptions;

std::string ClusterYaml(const std::string& name, int replicas, const std::string& extra_spec,
                        const std::string& extra_config) {
  return "apiVersion: zkop.io/v1alpha1\nkind: ZookeeperCluster\nmetadata:\n  name: " + name +
         "\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  jvmFlags: -Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k\n" + extra_spec +
         "  config:\n    tickTime: \"500\"\n    initLimit: \"20\"\n    syncLimit: \"10\"\n" +
         extra_config;
}

void OperatorEnv::SetUp() {
  std::vector<std::string> argv = {ZKOP_DEVKUBE_BIN,
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--kubeconfig-out",
                                   dir_.Path("kubeconfig"),
                                   "--pod-state-dir",
                                   dir_.Path("pods"),
                                   "--pod-backoff",
                                   "1s",
                                   "--log-level",
                                   "debug"};
  devkube_ = std::make_unique<Subprocess>(argv, dir_.Path("devkube.log"));
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(dir_.Path("devkube.log")).find("zkop-devkube: serving") !=
               std::string::npos;
      },
      20s, 20ms))
      << ReadFile(dir_.Path("devkube.log"));
  const auto config = kube::LoadKubeconfig(dir_.Path("kubeconfig"));
  client_ = kube::Client::FromConfig(config);
  ASSERT_EQ(Kubectl({"apply", "-f",
                     std::string(ZKOP_SOURCE_DIR) + "/crds/zookeeperclusters.zkop.io.yaml"}),
            0);
}

void OperatorEnv::TearDown() {
  for (auto& op : operators_) op->Terminate(5s);
  operators_.clear();
  if (devkube_) devkube_->Terminate(30s);  // stops every Pod it runs
}

int OperatorEnv::Kubectl(const std::vector<std::string>& args, std::string* out,
                         const std::string& stdin_text) {
  const std::string log = dir_.Path("kubectl-" + std::to_string(++kubectl_runs_) + ".log");
  SubprocessOptions o;
  o.argv = {"/usr/bin/kubectl", "--kubeconfig", dir_.Path("kubeconfig"), "--cache-dir",
            dir_.Path("kube-cache")};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.output_file = log;
  if (!stdin_text.empty()) {
    const std::string input = dir_.Path("kubectl-" + std::to_string(kubectl_runs_) + ".in");
    std::ofstream(input) << stdin_text;
    for (auto& a : o.argv)
      if (a == "-") a = input;
  }
  Subprocess k(o);
  const auto status = k.Wait(60s);
  const std::string text = ReadFile(log);
  std::remove(log.c_str());
  if (out) *out = text;
  return status ? *status : -1;
}

void OperatorEnv::Apply(const std::string& yaml) {
  std::string out;
  ASSERT_EQ(Kubectl({"apply", "-f", "-"}, &out, yaml), 0) << out;
}

Subprocess& OperatorEnv::StartOperator(const std::string& name, std::vector<std::string> extra) {
  SubprocessOptions o;
  const int port = zkop::testing::PickFreePort("127.0.0.1");
  metrics_ports_[name] = port;
  o.argv = {ZKOP_OPERATOR_BIN,   "run",
            "--kubeconfig",      dir_.Path("kubeconfig"),
            "--metrics-address", "127.0.0.1:" + std::to_string(port)};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.output_file = dir_.Path("operator-" + name + ".log");
  operators_.push_back(std::make_unique<Subprocess>(o));
  operator_names_.push_back(name);
  return *operators_.back();
}

std::string OperatorEnv::OperatorLog(const std::string& name) const {
  return ReadFile(dir_.Path("operator-" + name + ".log"));
}

std::string OperatorEnv::OperatorHttp(const std::string& name, const std::string& path) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(5));
    web::http::client::http_client c("http://127.0.0.1:" + std::to_string(metrics_ports_[name]),
                                     cfg);
    web::http::http_response r = c.request(web::http::methods::GET, path).get();
    return r.status_code() == 200 ? r.extract_string(true).get() : "";
  } catch (const std::exception&) {
    return "";
  }
}

int OperatorEnv::Promtool(const std::string& text, std::string* out) {
  const std::string file = dir_.Path("metrics.txt");
  std::ofstream(file) << text;
  Subprocess p({"/bin/sh", "-c", "promtool check metrics < " + file}, dir_.Path("promtool.log"));
  const auto status = p.Wait(30s);
  *out = ReadFile(dir_.Path("promtool.log"));
  return status ? *status : -1;
}

std::string OperatorEnv::PromtoolBeyondZooKeeperNaming(const std::string& text) {
  std::string out;
  const int status = Promtool(text, &out);
  if (status != 0 && status != 3) return "promtool exit " + std::to_string(status) + ":\n" + out;
  std::string beyond;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const bool provider_naming =
        line.find("non-histogram and non-summary metrics should not have \"_count\" suffix") !=
            std::string::npos ||
        line.find("metric names should not contain abbreviated units") != std::string::npos;
    if (line.rfind("zkop_", 0) == 0 || !provider_naming) beyond += line + "\n";
  }
  return beyond;
}

std::optional<Json> OperatorEnv::Get(const kube::ResourceRef& ref, const std::string& name,
                                     const std::string& ns) {
  auto got = client_->Get(ref, ns, name);
  if (!got.ok()) return std::nullopt;
  return got.value();
}

std::string OperatorEnv::ConditionStatus(const std::string& cluster, const std::string& type) {
  const auto cr = Get(kube::resources::ZookeeperClusters(), cluster);
  if (!cr || !cr->has_field("status") || !cr->at("status").has_field("conditions")) return "";
  for (const auto& c : cr->at("status").at("conditions").as_array())
    if (c.at("type").as_string() == type) return c.at("status").as_string();
  return "";
}

bool OperatorEnv::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

bool OperatorEnv::WaitReady(const std::string& cluster, std::chrono::milliseconds timeout) {
  return WaitFor([&] { return ConditionStatus(cluster, "Ready") == "True"; }, timeout);
}

std::string OperatorEnv::MemberConnectString(const std::string& cluster, int replicas) {
  std::string out;
  for (int k = 1; k <= replicas; ++k) {
    const auto pod = Get(kube::resources::Pods(), cluster + "-" + std::to_string(k));
    if (!pod || !pod->has_field("status") || !pod->at("status").has_field("podIP")) continue;
    out += (out.empty() ? "" : ",") + pod->at("status").at("podIP").as_string() + ":2181";
  }
  return out;
}

size_t OperatorEnv::DevkubeLogSize() { return ReadFile(dir_.Path("devkube.log")).size(); }

int OperatorEnv::ApiWritesSince(size_t offset, std::string* lines) {
  const std::string log = ReadFile(dir_.Path("devkube.log"));
  int writes = 0;
  size_t pos = std::min(offset, log.size());
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(pos, end - pos);
    pos = end + 1;
    if (line.find(": request ") == std::string::npos) continue;
    // The leader's Lease renewals (every retry period) are leader election's heartbeat, not
    // writes of the cluster's state.
    if (line.find("/leases/") != std::string::npos) continue;
    for (const char* m : {"method=POST", "method=PUT", "method=PATCH", "method=DELETE"}) {
      if (line.find(m) == std::string::npos) continue;
      ++writes;
      if (lines) *lines += line + "\n";
    }
  }
  return writes;
}

bool OperatorEnv::RunInPod(const std::string& name, const std::vector<std::string>& args,
                           std::string* out, const std::string& discovery) {
  std::string command = "[";
  for (size_t i = 0; i < args.size(); ++i)
    command += (i ? ", " : "") + Json::string(args[i]).serialize();
  command += "]";
  std::string yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
                     "}\nspec:\n  restartPolicy: Never\n  containers:\n  - name: main\n"
                     "    image: zkop.io/local-exec\n    command: " +
                     command + "\n";
  if (!discovery.empty()) yaml += "    envFrom: [{configMapRef: {name: " + discovery + "}}]\n";
  Apply(yaml);
  std::string phase;
  const bool done = WaitFor(
      [&] {
        const auto pod = Get(kube::resources::Pods(), name);
        phase = pod && pod->has_field("status") && pod->at("status").has_field("phase")
                    ? pod->at("status").at("phase").as_string()
                    : "";
        return phase == "Succeeded" || phase == "Failed";
      },
      60s);
  Kubectl({"logs", name}, out);
  return done && phase == "Succeeded";
}

std::string OperatorEnv::Explain(const std::string& cluster) {
  std::string out = "cluster:\n";
  if (auto cr = Get(kube::resources::ZookeeperClusters(), cluster))
    out += cr->has_field("status") ? cr->at("status").serialize() : "(no status)";
  std::string pods;
  Kubectl({"get", "pods", "-o", "wide"}, &pods);
  out += "\npods:\n" + pods;
  for (size_t i = 0; i < operator_names_.size(); ++i) {
    const std::string log = OperatorLog(operator_names_[i]);
    out += "\noperator " + operator_names_[i] + " log (tail):\n" +
           log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }
  return out;
}

}  // namespace zkop::op::testing
