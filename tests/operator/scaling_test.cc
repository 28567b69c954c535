// Membership changes and rolls on real ZooKeeper, with a client writing all along: scale
// 3 -> 5 -> 3 -> 1 -> 3 with `kubectl scale`, roll an image change and a config change.
// Asserted: the final membership equals the spec, every acknowledged write is readable
// afterwards, no member ever serves a membership it is not in, removed ids come back with fresh
// volumes, exactly one election per roll, and an operator killed at any step is finished by the
// next one.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "operator_env.h"
#include "zkop/kube/resource.h"
#include "zkop/operator/cluster/observe.h"
#include "zkop/zk/client.h"
#include "zkop/zk/four_letter.h"

namespace zkop::op::testing {
namespace {

namespace res = kube::resources;

// Writes /writes/w-<n> every ~10 ms through the members' addresses, reconnecting (with the
// members the API lists at that moment) after a lost connection, as a real client would.
// Remembers every write the ensemble acknowledged.
class Writer {
 public:
  explicit Writer(std::function<std::string()> connect) : connect_(std::move(connect)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> Acknowledged() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  int failures() const { return failures_; }
  // The longest time between two acknowledged writes.
  std::chrono::milliseconds LongestGap() const { return longest_gap_; }

 private:
  void Run() {
    std::unique_ptr<zk::Client> client;
    int n = 0;
    auto last_ack = std::chrono::steady_clock::now();
    while (!stop_) {
      if (!client) {
        zk::ClientOptions o;
        o.connect = connect_();
        o.session_timeout = std::chrono::seconds(10);
        o.operation_timeout = std::chrono::seconds(5);
        if (o.connect.empty()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        client = std::make_unique<zk::Client>(o);
        if (!client->Connect(std::chrono::seconds(5)).ok()) {
          client.reset();
          continue;
        }
      }
      const std::string path = "/writes/w-" + std::to_string(n);
      zk::CreateOptions co;
      co.make_parents = true;
      const auto created = client->Create(path, "v", co);
      if (created.status.ok() || created.status.code() == zk::Error::kNodeExists) {
        // kNodeExists: an earlier attempt whose answer was lost was applied.
        std::lock_guard lock(mu_);
        acked_.push_back(path);
        ++n;
        const auto now = std::chrono::steady_clock::now();
        longest_gap_ = std::max(
            longest_gap_, std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ack));
        last_ack = now;
      } else {
        ++failures_;
        if (zk::IsOutcomeUnknown(created.status.code()) ||
            client->state() != zk::State::kConnected) {
          // Retry the same path on a fresh connection to the current members.
          client.reset();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::function<std::string()> connect_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> acked_;
  std::atomic<int> failures_{0};
  std::chrono::milliseconds longest_gap_{0};
  std::thread thread_;
};

class ScalingTest : public OperatorEnv {
 protected:
  // Member ids with a Pod, and their IPs.
  std::map<int, std::string> MemberIps(const std::string& cluster) {
    std::map<int, std::string> out;
    auto pods = client_->List(res::Pods(), "default");
    if (!pods.ok()) return out;
    for (const auto& pod : pods.value().at("items").as_array()) {
      const std::string name = kube::NameOf(pod);
      if (name.rfind(cluster + "-", 0) != 0) continue;
      if (!pod.has_field("status") || !pod.at("status").has_field("podIP")) continue;
      out[std::stoi(name.substr(cluster.size() + 1))] = pod.at("status").at("podIP").as_string();
    }
    return out;
  }

  std::string Connect(const std::string& cluster) {
    std::string out;
    for (const auto& [id, ip] : MemberIps(cluster)) out += (out.empty() ? "" : ",") + ip + ":2181";
    return out;
  }

  // The member an operation in progress is adding or removing (0: none).
  int MemberInOperation(const std::string& cluster) {
    const auto cr = Get(res::ZookeeperClusters(), cluster);
    if (!cr || !cr->has_field("status") || !cr->at("status").has_field("operation")) return 0;
    const Json& op = cr->at("status").at("operation");
    return op.at("type").as_string() == "Roll" ? 0 : op.at("member").as_integer();
  }

  // Watches every member: none may serve a membership it is not in — except, while an
  // operation adds or removes it, the member in question (a joiner syncs as a non-voting
  // follower before reconfig adds it; a removed member runs until its Pod is deleted, the next
  // step). The leader's epoch (zxid >> 32) counts elections.
  void Monitor(const std::string& cluster) {
    monitor_ = std::thread([this, cluster] {
      while (!stop_monitor_) {
        const int changing_before = MemberInOperation(cluster);
        for (const auto& [id, ip] : MemberIps(cluster)) {
          zk::ServerInfo info;
          if (!zk::QueryServer(ip + ":2181", std::chrono::seconds(1), &info).ok()) continue;
          if (info.mode == zk::ServerMode::kLeader && info.zxid >= 0) {
            std::lock_guard lock(mu_);
            epochs_.insert(info.zxid >> 32);
          }
          const auto conf = zk::FourLetterWord(ip + ":2181", "conf", std::chrono::seconds(1));
          if (!conf.status.ok()) continue;
          const auto membership = cluster::MembershipFromConf(conf.text);
          if (membership && !membership->Find(id) && id != changing_before &&
              id != MemberInOperation(cluster)) {
            std::lock_guard lock(mu_);
            violations_.push_back("member " + std::to_string(id) + " serves (" +
                                  std::string(zk::ServerModeName(info.mode)) +
                                  ") a membership without itself");
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  void StopMonitor() {
    stop_monitor_ = true;
    if (monitor_.joinable()) monitor_.join();
  }
  size_t Elections() {
    std::lock_guard lock(mu_);
    return epochs_.size();
  }
  void TearDown() override {
    StopMonitor();
    OperatorEnv::TearDown();
  }

  std::set<int> Committed(const std::string& cluster) {
    for (const auto& [id, ip] : MemberIps(cluster)) {
      const auto conf = zk::FourLetterWord(ip + ":2181", "conf", std::chrono::seconds(2));
      if (!conf.status.ok()) continue;
      if (auto m = cluster::MembershipFromConf(conf.text)) {
        std::set<int> ids;
        for (const auto& member : m->members) ids.insert(member.id);
        return ids;
      }
    }
    return {};
  }

  bool Settled(const std::string& cluster, int replicas) {
    const auto cr = Get(res::ZookeeperClusters(), cluster);
    if (!cr || !cr->has_field("status")) return false;
    const Json& s = cr->at("status");
    return !s.has_field("operation") && s.has_field("readyReplicas") &&
           s.at("readyReplicas").as_integer() == replicas && s.has_field("replicas") &&
           s.at("replicas").as_integer() == replicas &&
           ConditionStatus(cluster, "Ready") == "True" &&
           static_cast<int>(Committed(cluster).size()) == replicas;
  }

  // How many different pod templates the cluster's Pods run.
  size_t Templates(const std::string& cluster) {
    std::set<std::string> hashes;
    auto pods = client_->List(res::Pods(), "default");
    if (!pods.ok()) return 0;
    for (const auto& pod : pods.value().at("items").as_array()) {
      if (kube::NameOf(pod).rfind(cluster + "-", 0) != 0) continue;
      const Json& meta = pod.at("metadata");
      if (meta.has_field("annotations") &&
          meta.at("annotations").has_field("zkop.io/pod-template-hash"))
        hashes.insert(meta.at("annotations").at("zkop.io/pod-template-hash").as_string());
    }
    return hashes.size();
  }

  std::string ClaimUid(const std::string& name) {
    const auto claim = Get(res::PersistentVolumeClaims(), name);
    return claim ? kube::UidOf(*claim) : "";
  }

  std::thread monitor_;
  std::atomic<bool> stop_monitor_{false};
  std::mutex mu_;
  std::set<int64_t> epochs_;
  std::vector<std::string> violations_;
};

TEST_F(ScalingTest, ScaleThreeFiveThreeOneThreeAndRollWhileAClientWrites) {
  StartOperator("main");
  Apply(ClusterYaml("sc", 3));
  ASSERT_TRUE(WaitFor([&] { return Settled("sc", 3); }, 180s)) << Explain("sc");
  Monitor("sc");
  Writer writer([&] { return Connect("sc"); });

  std::map<int, std::string> claims_at_three;  // before 3 -> 1
  std::set<int> kept_at_one;
  for (int size : {5, 3, 1, 3}) {
    if (size == 1) {
      for (const auto& [id, ip] : MemberIps("sc"))
        claims_at_three[id] = ClaimUid("data-sc-" + std::to_string(id));
    }
    ASSERT_EQ(Kubectl({"scale", "zkc", "sc", "--replicas", std::to_string(size)}), 0);
    ASSERT_TRUE(WaitFor([&] { return Settled("sc", size); }, 300s)) << "scaling to " << size << "\n"
                                                                    << Explain("sc");
    EXPECT_EQ(static_cast<int>(MemberIps("sc").size()), size);
    if (size == 1) {
      for (const auto& [id, ip] : MemberIps("sc")) kept_at_one.insert(id);
    }
  }
  // 3 -> 1 removed two ids with their claims; 1 -> 3 added the lowest unused ids back, each on
  // a fresh claim (never the removed member's data).
  int returned = 0;
  for (const auto& [id, ip] : MemberIps("sc")) {
    if (kept_at_one.count(id) || !claims_at_three.count(id)) continue;
    ++returned;
    EXPECT_NE(ClaimUid("data-sc-" + std::to_string(id)), claims_at_three[id])
        << "member " << id << " came back on its old claim";
  }
  EXPECT_EQ(returned, 2);
  const std::set<int> members = Committed("sc");
  EXPECT_EQ(members.size(), 3u);

  // Rolls: the image, then a static setting. One election each (the leader goes last).
  const size_t before_roll = Elections();
  Apply(ClusterYaml("sc", 3, "  image: zkop/zookeeper:3.8.0-roll1\n"));
  ASSERT_TRUE(WaitFor([&] { return ConditionStatus("sc", "Progressing") == "True"; }, 60s));
  ASSERT_TRUE(WaitFor([&] { return Settled("sc", 3) && Templates("sc") == 1; }, 300s))
      << Explain("sc");
  EXPECT_EQ(Elections() - before_roll, 1u) << "elections during the image roll";
  const size_t before_config = Elections();
  Apply(ClusterYaml("sc", 3, "  image: zkop/zookeeper:3.8.0-roll1\n",
                    "    maxClientCnxns: \"77\"\n"));
  ASSERT_TRUE(WaitFor([&] { return ConditionStatus("sc", "Progressing") == "True"; }, 60s));
  ASSERT_TRUE(WaitFor([&] { return Settled("sc", 3) && Templates("sc") == 1; }, 300s))
      << Explain("sc");
  EXPECT_EQ(Elections() - before_config, 1u) << "elections during the config roll";

  writer.Stop();
  StopMonitor();
  for (const auto& v : violations_) ADD_FAILURE() << v;
  const auto acked = writer.Acknowledged();
  EXPECT_GT(acked.size(), 100u);
  zk::ClientOptions o;
  o.connect = Connect("sc");
  o.session_timeout = std::chrono::seconds(10);
  zk::Client reader(o);
  ASSERT_TRUE(reader.Connect(20s).ok());
  ASSERT_TRUE(reader.Sync("/writes").ok());
  const auto children = reader.GetChildren("/writes");
  ASSERT_TRUE(children.status.ok()) << children.status.ToString();
  std::set<std::string> present;
  for (const auto& c : children.children) present.insert("/writes/" + c);
  int lost = 0;
  for (const auto& path : acked) lost += present.count(path) == 0;
  EXPECT_EQ(lost, 0) << "of " << acked.size() << " acknowledged writes";
  std::cout << "acknowledged writes " << acked.size() << ", failed attempts " << writer.failures()
            << ", longest gap " << writer.LongestGap().count() << " ms\n";
}

TEST_F(ScalingTest, AnOperatorKilledAtAnyStepIsFinishedByTheNextOne) {
  // No leader election (each replacement starts at once), and a pause after each recorded step
  // so that every step can be caught between being recorded and being acted on.
  const std::vector<std::string> flags = {"--leader-elect=false", "--step-delay", "1500ms"};
  StartOperator("op0", flags);
  Apply(ClusterYaml("ks", 3));
  ASSERT_TRUE(WaitFor([&] { return Settled("ks", 3); }, 180s)) << Explain("ks");

  std::set<std::string> killed_at;
  int generation = 0;
  auto kill_on_steps = [&](int target, const std::string& extra_spec) {
    if (extra_spec.empty())
      ASSERT_EQ(Kubectl({"scale", "zkc", "ks", "--replicas", std::to_string(target)}), 0);
    else
      Apply(ClusterYaml("ks", target, extra_spec));
    // The change is seen (an operation starts) before "settled" can mean anything.
    ASSERT_TRUE(WaitFor([&] { return !Settled("ks", target) || Templates("ks") > 1; }, 30s, 50ms));
    std::set<std::string> seen;
    const bool settled = WaitFor(
        [&] {
          const auto cr = Get(res::ZookeeperClusters(), "ks");
          if (cr && cr->has_field("status") && cr->at("status").has_field("operation")) {
            const Json& op = cr->at("status").at("operation");
            const std::string step = op.at("type").as_string() + "/" + op.at("step").as_string();
            if (!seen.count(step)) {
              seen.insert(step);
              killed_at.insert(step);
              operators_.back()->Kill();
              StartOperator("op" + std::to_string(++generation), flags);
            }
          }
          return Settled("ks", target) && Templates("ks") == 1;
        },
        300s, 50ms);
    ASSERT_TRUE(settled) << Explain("ks");
  };
  kill_on_steps(4, "");
  kill_on_steps(3, "");
  kill_on_steps(3, "  image: zkop/zookeeper:3.8.0-k\n");
  for (const char* step :
       {"ScaleUp/CreateMember", "ScaleUp/WaitSynced", "ScaleUp/Reconfigure",
        "ScaleDown/Reconfigure", "ScaleDown/DeletePod", "Roll/DeletePod", "ScaleDown/DeleteClaim",
        "Roll/WaitServing", "Roll/HandOff", "Roll/Promote"})
    EXPECT_TRUE(killed_at.count(step)) << "never killed at " << step;
  std::string all;
  for (const auto& s : killed_at) all += s + " ";
  std::cout << "operator killed at: " << all << "\n";
  EXPECT_EQ(Committed("ks").size(), 3u);
}

}  // namespace
}  // namespace zkop::op::testing
