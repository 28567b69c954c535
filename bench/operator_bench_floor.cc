#include "operator_bench_floor.h"

#include <cpprest/asyncrt_utils.h>

#include <memory>
#include <thread>
#include <vector>

#include "operator_bench_env.h"
#include "zkop/operator/cluster/render.h"
#include "zkop/testing/loopback.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/zk_ensemble.h"
#include "zkop/zk/four_letter.h"

namespace zkop::bench {

namespace {

namespace cl = op::cluster;
using testing::Subprocess;
using testing::SubprocessOptions;

// Debian's jars, as the pod runtime's image table gives them to the entrypoint.
constexpr const char* kClasspath =
    "/usr/share/java/zookeeper.jar:/usr/share/java/servlet-api.jar:"
    "/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar";

std::string DecodeBase64(const std::string& text) {
  const auto bytes = utility::conversions::from_base64(utility::conversions::to_string_t(text));
  return std::string(bytes.begin(), bytes.end());
}

// Majority serving with one leader (the operator's Ready rule), and whether any member answers.
struct Seen {
  bool any = false;
  bool quorum = false;
};

Seen Observe(const std::vector<std::string>& ips) {
  Seen s;
  int serving = 0, leaders = 0;
  for (const auto& ip : ips) {
    zk::ServerInfo info;
    if (!zk::QueryServer(ip + ":2181", 250ms, &info).ok()) continue;
    if (info.mode != zk::ServerMode::kUnknown) s.any = true;
    if (info.mode == zk::ServerMode::kLeader) ++leaders;
    if (info.mode == zk::ServerMode::kLeader || info.mode == zk::ServerMode::kFollower) ++serving;
  }
  s.quorum = serving >= static_cast<int>(ips.size()) / 2 + 1 && leaders == 1;
  return s;
}

}  // namespace

FloorResult MeasureEntrypointFloor(const testing::TempDir& dir, const std::string& name,
                                   int members, std::chrono::milliseconds timeout) {
  cl::ClusterSpec spec;
  spec.name = name;
  spec.ns = "default";
  spec.uid = "floor";
  spec.replicas = members;
  spec.jvm_flags = kJvmFlags;
  spec.config = {{"tickTime", "500"}, {"initLimit", "20"}, {"syncLimit", "10"}};
  const cl::RenderOptions render;

  // What the Pods mount: the ConfigMap's two keys and the Secret's digest.
  const std::string config_dir = dir.MakeDir(name + "/config");
  dir.Write(name + "/config/zoo.cfg", cl::RenderStaticConfig(spec));
  dir.Write(name + "/config/zoo.cfg.dynamic",
            cl::RenderDynamicConfig(cl::InitialMembership(spec, render)));
  const kube::Json secret = cl::RenderAdminSecret(spec, "floor-bench-password");
  const std::string digest_file =
      dir.Write(name + "/admin/digest", DecodeBase64(secret.at("data").at("digest").as_string()));

  std::vector<std::string> ips;
  std::string hosts;
  for (int k = 1; k <= members; ++k) {
    ips.push_back(testing::PickLoopbackAddress({2181, 2888, 3888, 8080}));
    hosts += ips.back() + " " + cl::MemberHost(spec, k, render.cluster_domain) + " " +
             cl::MemberPodName(name, k) + "\n";
  }
  const std::string hosts_file = dir.Write(name + "/hosts", hosts);

  FloorResult r;
  std::vector<std::unique_ptr<Subprocess>> servers;
  std::vector<std::string> logs;
  const auto start = Clock::now();
  for (int k = 1; k <= members; ++k) {
    SubprocessOptions o;
    o.argv = {std::string(ZKOP_SOURCE_DIR) + "/images/zookeeper/entrypoint.sh"};
    const std::string pod = cl::MemberPodName(name, k);
    o.env = {"HOSTNAME=" + pod,
             "JAVA=/usr/bin/java",
             std::string("ZK_CLASSPATH=") + kClasspath,
             "ZK_CONFIG_SOURCE=" + config_dir,
             "ZK_DATA_DIR=" + dir.MakeDir(name + "/" + pod + "/data"),
             "ZK_MEMBER_ID=" + std::to_string(k),
             "ZK_SUPER_DIGEST_FILE=" + digest_file,
             "JAVA_OPTS=-Dzookeeper.admin.serverAddress=" + ips[k - 1] + " " + kJvmFlags +
                 " -Djdk.net.hosts.file=" + hosts_file +
                 " -Dsun.net.inetaddr.ttl=1 -Dsun.net.inetaddr.negative.ttl=0",
             "LD_PRELOAD=libnss_wrapper.so",
             "NSS_WRAPPER_HOSTS=" + hosts_file,
             "NSS_WRAPPER_HOSTNAME=" + pod};
    o.output_file = dir.Path(name + "/" + pod + ".log");
    logs.push_back(o.output_file);
    servers.push_back(std::make_unique<Subprocess>(o));
  }
  const auto deadline = start + timeout;
  while (Clock::now() < deadline) {
    const Seen s = Observe(ips);
    const double now = Ms(Clock::now() - start);
    if (s.any && r.first_ms == 0) r.first_ms = now;
    if (s.quorum) {
      r.quorum_ms = now;
      r.ok = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  if (!r.ok) {
    r.error = name + ": no quorum after " + std::to_string(timeout.count()) + " ms";
    for (const auto& log : logs) r.error += "\n--- " + log + "\n" + testing::TailFile(log, 15);
  }
  for (auto& s : servers) s->Terminate(10s);
  return r;
}

FloorResult MeasureZkEnsemble(int members, std::chrono::milliseconds timeout) {
  FloorResult r;
  testing::ZkEnsembleOptions o;
  o.size = members;
  o.quorum_timeout = timeout;
  o.log_level = "WARN";
  const auto start = Clock::now();
  try {
    testing::ZkEnsemble ensemble(o);
    r.quorum_ms = Ms(Clock::now() - start);
    r.ok = true;
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace zkop::bench
