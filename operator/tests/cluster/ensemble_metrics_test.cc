// EnsembleCollector on a fake informer cache and a fake four-letter-word asker: which members
// are asked, what a standby exports, the scrape budget, and the rejected-answer counters.
#include "zkop/operator/cluster/ensemble_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <set>

#include "zkop/kube/resource.h"

namespace zkop::op::cluster {
namespace {

using namespace std::chrono_literals;

class FakeCache : public ObjectCache {
 public:
  void Add(const kube::ResourceRef& ref, const std::string& json) {
    objects_[ref.resource].push_back(Json::parse(json));
  }
  std::optional<Json> Get(const kube::ResourceRef&, const std::string&,
                          const std::string&) const override {
    return std::nullopt;
  }
  std::vector<Json> List(const kube::ResourceRef& ref, const std::string& ns,
                         const kube::LabelSelector& selector) const override {
    std::vector<Json> out;
    auto it = objects_.find(ref.resource);
    if (it == objects_.end()) return out;
    for (const Json& obj : it->second) {
      if (!ns.empty() && kube::NamespaceOf(obj) != ns) continue;
      if (selector.Matches(kube::LabelsOf(obj))) out.push_back(obj);
    }
    return out;
  }

 private:
  std::map<std::string, std::vector<Json>> objects_;
};

std::string Cluster(const std::string& ns, const std::string& name, const std::string& config) {
  return R"({"apiVersion":"zkop.io/v1alpha1","kind":"ZookeeperCluster","metadata":{"name":")" +
         name + R"(","namespace":")" + ns + R"("},"spec":{"replicas":3,"config":{)" + config +
         "}}}";
}

std::string Pod(const std::string& ns, const std::string& cluster, const std::string& name,
                const std::string& ip, bool deleting = false) {
  return R"({"metadata":{"name":")" + name + R"(","namespace":")" + ns +
         R"(","labels":{"app.kubernetes.io/name":"zookeeper","app.kubernetes.io/instance":")" +
         cluster + R"(","app.kubernetes.io/managed-by":"zkop"})" +
         (deleting ? R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")" : "") + R"(},"status":{)" +
         (ip.empty() ? "" : R"("podIP":")" + ip + "\"") + "}}";
}

class Asker {
 public:
  explicit Asker(std::string answer) : answer_(std::move(answer)) {}
  FourLetterAsker Fn() {
    return [this](const std::string& address, std::string_view word,
                  std::chrono::milliseconds timeout) {
      std::lock_guard<std::mutex> lock(mu_);
      asked_.insert(address + " " + std::string(word));
      max_timeout_ = std::max(max_timeout_, timeout);
      return zk::FourLetterResult{zk::Status(), answer_};
    };
  }
  std::set<std::string> asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }
  std::chrono::milliseconds max_timeout_{0};

 private:
  std::mutex mu_;
  std::string answer_;
  std::set<std::string> asked_;
};

std::string Text(const EnsembleCollector& c) {
  return prometheus::TextSerializer().Serialize(c.Collect());
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

class EnsembleCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_.Add(kube::resources::ZookeeperClusters(), Cluster("prod", "demo", ""));
    cache_.Add(kube::resources::ZookeeperClusters(),
               Cluster("prod", "own",
                       R"("metricsProvider.className":"org.apache.zookeeper.)"
                       R"(metrics.prometheus.PrometheusMetricsProvider")"));
    cache_.Add(kube::resources::Pods(), Pod("prod", "demo", "demo-1", "127.0.0.11"));
    cache_.Add(kube::resources::Pods(), Pod("prod", "demo", "demo-2", ""));
    cache_.Add(kube::resources::Pods(), Pod("prod", "demo", "demo-3", "127.0.0.13", true));
    cache_.Add(kube::resources::Pods(), Pod("prod", "demo", "demo-debug", "127.0.0.14"));
    cache_.Add(kube::resources::Pods(), Pod("prod", "own", "own-1", "127.0.0.21"));
  }
  FakeCache cache_;
};

TEST_F(EnsembleCollectorTest, LeaderAsksEveryMemberWithAnAddressOnce) {
  Asker asker("zk_server_state\tleader\nzk_quorum_size\t3\nzk_znode_count\t5\n");
  EnsembleCollector collector(
      &cache_, [] { return true; }, {}, asker.Fn());
  const std::string text = Text(collector);
  EXPECT_EQ(asker.asked(), std::set<std::string>{"127.0.0.11:2181 mntr"});
  EXPECT_LE(asker.max_timeout_, 1000ms);
  const std::string one = R"({namespace="prod",cluster="demo",member="demo-1",server_id="1")";
  const std::string two = R"({namespace="prod",cluster="demo",member="demo-2",server_id="2")";
  EXPECT_TRUE(Has(text, "zkop_member_up" + one + "} 1")) << text;
  EXPECT_TRUE(Has(text, "zkop_member_up" + two + "} 0")) << text;
  EXPECT_TRUE(Has(text, "zkop_member_role" + one + ",role=\"leader\"} 1")) << text;
  EXPECT_TRUE(Has(text, "zkop_member_role" + two + ",role=\"leader\"} 0")) << text;
  EXPECT_TRUE(Has(text, "quorum_size" + one + "} 3")) << text;
  EXPECT_EQ(text.find("demo-3"), std::string::npos) << "a Pod being deleted is not a member";
  EXPECT_EQ(text.find("demo-debug"), std::string::npos) << "not a member name";
  EXPECT_EQ(text.find("own-1"), std::string::npos) << "a cluster with its own provider";
  EXPECT_NE(text.find("# TYPE zkop_operator_ensemble_scrape_duration_seconds gauge"),
            std::string::npos);
  EXPECT_TRUE(Has(text, R"(zkop_operator_mntr_rejected_total{reason="malformed"} 0)")) << text;
}

TEST_F(EnsembleCollectorTest, StandbyAsksNothingAndExportsNoMemberSeries) {
  Asker asker("zk_server_state\tleader\n");
  EnsembleCollector collector(
      &cache_, [] { return false; }, {}, asker.Fn());
  const std::string text = Text(collector);
  EXPECT_TRUE(asker.asked().empty());
  EXPECT_EQ(text.find("zkop_member_"), std::string::npos) << text;
  EXPECT_EQ(text.find("scrape_duration"), std::string::npos) << text;
  EXPECT_TRUE(Has(text, R"(zkop_operator_mntr_rejected_total{reason="oversized"} 0)")) << text;
}

TEST_F(EnsembleCollectorTest, RejectedLinesAddUpAcrossScrapes) {
  Asker asker("zk_server_state\tfollower\nnot a metric line\nzk_uptime\tsoon\n");
  EnsembleCollector collector(
      &cache_, [] { return true; }, {}, asker.Fn());
  Text(collector);
  const std::string text = Text(collector);
  EXPECT_TRUE(Has(text, R"(zkop_operator_mntr_rejected_total{reason="malformed"} 4)")) << text;
}

TEST_F(EnsembleCollectorTest, AnAnswerOverTheReadersCapCountsAsOversized) {
  EnsembleCollector collector(
      &cache_, [] { return true; }, {},
      [](const std::string&, std::string_view, std::chrono::milliseconds) {
        return zk::FourLetterResult{zk::Status(zk::Error::kParseError, "answer over 1 MiB"), ""};
      });
  const std::string text = Text(collector);
  EXPECT_TRUE(Has(text, R"(zkop_operator_mntr_rejected_total{reason="oversized"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(zkop_member_up{namespace="prod",cluster="demo",member="demo-1",)"
                        R"(server_id="1"} 0)"))
      << text;
}

TEST_F(EnsembleCollectorTest, NoMemberIsAskedOnceTheScrapeBudgetIsSpent) {
  Asker asker("zk_server_state\tleader\n");
  EnsembleMetricsOptions options;
  options.scrape_budget = 0ms;
  EnsembleCollector collector(
      &cache_, [] { return true; }, options, asker.Fn());
  const std::string text = Text(collector);
  EXPECT_TRUE(asker.asked().empty());
  EXPECT_TRUE(Has(text, R"(zkop_member_up{namespace="prod",cluster="demo",member="demo-1",)"
                        R"(server_id="1"} 0)"))
      << text;
}

TEST(ScrapeTargetsTest, SortedByNamespaceClusterAndIdWithBracketedIPv6) {
  FakeCache cache;
  cache.Add(kube::resources::ZookeeperClusters(), Cluster("b", "z", ""));
  cache.Add(kube::resources::ZookeeperClusters(), Cluster("a", "z", ""));
  cache.Add(kube::resources::Pods(), Pod("b", "z", "z-10", "fd00::10"));
  cache.Add(kube::resources::Pods(), Pod("b", "z", "z-2", "127.0.0.2"));
  cache.Add(kube::resources::Pods(), Pod("a", "z", "z-1", "127.0.0.1"));
  const auto targets = ScrapeTargets(cache);
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].member.ns + "/" + targets[0].member.pod, "a/z-1");
  EXPECT_EQ(targets[1].member.pod, "z-2");
  EXPECT_EQ(targets[2].member.pod, "z-10");
  EXPECT_EQ(targets[2].member.server_id, 10);
  EXPECT_EQ(targets[2].address, "[fd00::10]:2181");
}

}  // namespace
}  // namespace zkop::op::cluster
