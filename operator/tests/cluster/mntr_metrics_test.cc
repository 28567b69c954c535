// mntr -> Prometheus families, on answers captured from Debian's ZooKeeper 3.8.0 (a leader
// and a follower of one 3-member ensemble; testdata/mntr-3.8.0-*.txt).
#include "zkop/operator/cluster/mntr_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace zkop::op::cluster {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(ZKOP_OPERATOR_TESTDATA) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

MntrScrape Scrape(const std::string& pod, int id, std::string text, bool answered = true) {
  return {{"prod", "demo", pod, id}, answered, false, std::move(text)};
}

const prometheus::MetricFamily* FamilyOf(const MntrFamilies& f, const std::string& name) {
  for (const auto& family : f.families)
    if (family.name == name) return &family;
  return nullptr;
}

// The sample of `name` for member `pod` (and `extra` label, if given).
std::optional<prometheus::ClientMetric> Sample(const MntrFamilies& f, const std::string& name,
                                               const std::string& pod,
                                               std::pair<std::string, std::string> extra = {}) {
  const auto* family = FamilyOf(f, name);
  if (!family) return std::nullopt;
  for (const auto& m : family->metric) {
    bool member = false, labelled = extra.first.empty();
    for (const auto& l : m.label) {
      if (l.name == "member" && l.value == pod) member = true;
      if (l.name == extra.first && l.value == extra.second) labelled = true;
    }
    if (member && labelled) return m;
  }
  return std::nullopt;
}

double Gauge(const MntrFamilies& f, const std::string& name, const std::string& pod,
             std::pair<std::string, std::string> extra = {}) {
  auto m = Sample(f, name, pod, extra);
  EXPECT_TRUE(m) << name << " of " << pod;
  EXPECT_EQ(FamilyOf(f, name)->type, prometheus::MetricType::Gauge) << name;
  return m ? m->gauge.value : -1;
}

TEST(MntrMetricsTest, LeaderAnswerMapsToTheProviderNames) {
  const auto f = MntrToFamilies({Scrape("demo-3", 3, ReadTestdata("mntr-3.8.0-leader.txt"))});
  EXPECT_EQ(f.malformed_lines, 0u);
  EXPECT_EQ(f.oversized_answers, 0u);
  EXPECT_EQ(Gauge(f, "zkop_member_up", "demo-3"), 1);
  EXPECT_EQ(Gauge(f, "zkop_member_role", "demo-3", {"role", "leader"}), 1);
  EXPECT_EQ(Gauge(f, "zkop_member_role", "demo-3", {"role", "follower"}), 0);
  EXPECT_EQ(Gauge(f, "zkop_member_role", "demo-3", {"role", "observer"}), 0);
  EXPECT_EQ(Gauge(f, "zkop_member_role", "demo-3", {"role", "standalone"}), 0);
  // Gauges: the figures the captured leader reported.
  const std::map<std::string, double> gauges = {{"quorum_size", 3},
                                                {"synced_followers", 2},
                                                {"learners", 2},
                                                {"outstanding_requests", 0},
                                                {"avg_latency", 0},
                                                {"max_latency", 0},
                                                {"min_latency", 0},
                                                {"znode_count", 5},
                                                {"ephemerals_count", 0},
                                                {"watch_count", 0},
                                                {"num_alive_connections", 1},
                                                {"approximate_data_size", 235},
                                                {"packets_received", 1},
                                                {"packets_sent", 0},
                                                {"open_file_descriptor_count", 47},
                                                {"uptime", 3889},
                                                {"leader_uptime", 3496},
                                                {"max_file_descriptor_count", 20000},
                                                {"min_proposal_size", -1},
                                                {"global_sessions", 0},
                                                {"pending_syncs", 0}};
  for (const auto& [name, value] : gauges) EXPECT_EQ(Gauge(f, name, "demo-3"), value) << name;
  // Counters of ServerMetrics, with Prometheus' suffix.
  auto looking = Sample(f, "looking_count_total", "demo-3");
  ASSERT_TRUE(looking);
  EXPECT_EQ(FamilyOf(f, "looking_count_total")->type, prometheus::MetricType::Counter);
  EXPECT_EQ(looking->counter.value, 1);
  EXPECT_EQ(Sample(f, "diff_count_total", "demo-3")->counter.value, 2);
  EXPECT_EQ(Sample(f, "bytes_received_count_total", "demo-3")->counter.value, 4);
  EXPECT_FALSE(FamilyOf(f, "looking_count"));
  // Summaries: count and sum; percentiles as quantiles; avg/min/max not exported.
  auto election = Sample(f, "election_time", "demo-3");
  ASSERT_TRUE(election);
  EXPECT_EQ(FamilyOf(f, "election_time")->type, prometheus::MetricType::Summary);
  EXPECT_EQ(election->summary.sample_count, 1u);
  EXPECT_EQ(election->summary.sample_sum, 664);
  EXPECT_TRUE(election->summary.quantile.empty());  // BASIC detail: no percentiles in mntr
  EXPECT_FALSE(FamilyOf(f, "avg_election_time"));
  EXPECT_FALSE(FamilyOf(f, "cnt_election_time"));
  auto unavailable = Sample(f, "leader_unavailable_time", "demo-3");
  ASSERT_TRUE(unavailable);
  EXPECT_EQ(unavailable->summary.sample_sum, 1162);
  auto read_latency = Sample(f, "readlatency", "demo-3");
  ASSERT_TRUE(read_latency);
  ASSERT_EQ(read_latency->summary.quantile.size(), 4u);
  EXPECT_EQ(read_latency->summary.quantile[3].quantile, 0.999);
  // Summary sets: one series per learner (server id) or namespace, labelled key.
  auto qp = Sample(f, "learner_handler_qp_size", "demo-3", {"key", "2"});
  ASSERT_TRUE(qp);
  EXPECT_EQ(qp->summary.sample_count, 7u);
  EXPECT_EQ(qp->summary.sample_sum, 3);
  auto writes = Sample(f, "write_per_namespace", "demo-3", {"key", "zookeeper"});
  ASSERT_TRUE(writes);
  EXPECT_EQ(writes->summary.sample_sum, 408);
  EXPECT_FALSE(FamilyOf(f, "zookeeper_write_per_namespace"));
  // quorum_ack_latency is a summary of its own, not member "quorum" of the ack_latency set.
  EXPECT_TRUE(FamilyOf(f, "quorum_ack_latency"));
  EXPECT_FALSE(FamilyOf(f, "ack_latency"));
  // Text keys are not metrics.
  EXPECT_FALSE(FamilyOf(f, "version"));
  EXPECT_FALSE(FamilyOf(f, "server_state"));
  // Every series names its member.
  const auto znodes = Sample(f, "znode_count", "demo-3");
  ASSERT_TRUE(znodes);
  const auto& labels = znodes->label;
  ASSERT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels[0].name + "=" + labels[0].value, "namespace=prod");
  EXPECT_EQ(labels[1].name + "=" + labels[1].value, "cluster=demo");
  EXPECT_EQ(labels[2].name + "=" + labels[2].value, "member=demo-3");
  EXPECT_EQ(labels[3].name + "=" + labels[3].value, "server_id=3");
}

TEST(MntrMetricsTest, FollowerAndLeaderMergeIntoOneFamilyPerName) {
  const auto f = MntrToFamilies({Scrape("demo-1", 1, ReadTestdata("mntr-3.8.0-follower.txt")),
                                 Scrape("demo-3", 3, ReadTestdata("mntr-3.8.0-leader.txt"))});
  EXPECT_EQ(f.malformed_lines, 0u);
  EXPECT_EQ(Gauge(f, "zkop_member_role", "demo-1", {"role", "follower"}), 1);
  EXPECT_EQ(Gauge(f, "zkop_member_role", "demo-1", {"role", "leader"}), 0);
  EXPECT_EQ(Gauge(f, "quorum_size", "demo-1"), 3);
  EXPECT_EQ(Sample(f, "election_time", "demo-1")->summary.sample_sum, 539);
  EXPECT_FALSE(Sample(f, "synced_followers", "demo-1"));  // the leader's figure only
  EXPECT_EQ(Gauge(f, "synced_followers", "demo-3"), 2);
  std::map<std::string, int> names;
  for (const auto& family : f.families) ++names[family.name];
  for (const auto& [name, n] : names) EXPECT_EQ(n, 1) << name;
  EXPECT_EQ(FamilyOf(f, "znode_count")->metric.size(), 2u);
  EXPECT_EQ(FamilyOf(f, "zkop_member_up")->metric.size(), 2u);
  EXPECT_EQ(FamilyOf(f, "zkop_member_role")->metric.size(), 8u);
}

TEST(MntrMetricsTest, MembersThatDoNotServeShowAsDown) {
  const auto f = MntrToFamilies(
      {Scrape("demo-1", 1, "This ZooKeeper instance is not currently serving requests\n"),
       Scrape("demo-2", 2, "", /*answered=*/false)});
  EXPECT_EQ(f.malformed_lines, 0u);  // a known answer, not a malformed one
  for (const char* pod : {"demo-1", "demo-2"}) {
    EXPECT_EQ(Gauge(f, "zkop_member_up", pod), 0);
    for (const char* role : {"leader", "follower", "observer", "standalone"})
      EXPECT_EQ(Gauge(f, "zkop_member_role", pod, {"role", role}), 0);
  }
  EXPECT_EQ(f.families.size(), 2u);  // zkop_member_role, zkop_member_up
}

TEST(MntrMetricsTest, OversizedAnswersAndMalformedLinesAreSkippedAndCounted) {
  std::string huge = "zk_server_state\tleader\n";
  while (huge.size() <= kMaxMntrBytes) huge += "zk_znode_count\t5\n";
  const std::string odd =
      "zk_server_state\tfollower\n"
      "zk_znode_count\t12\n"
      "garbage without a tab\n"
      "zk_watch_count\tmany\n"
      "zk_bad-name\t1\n"
      "not_zk\t3\n"
      "zk_uptime\tnan\n"
      "zk_quorum_size\t3\r\n";
  const auto f = MntrToFamilies({Scrape("demo-1", 1, huge), Scrape("demo-2", 2, odd)});
  EXPECT_EQ(f.oversized_answers, 1u);
  EXPECT_EQ(f.malformed_lines, 5u);
  EXPECT_EQ(Gauge(f, "zkop_member_up", "demo-1"), 0);
  EXPECT_EQ(Gauge(f, "zkop_member_up", "demo-2"), 1);
  EXPECT_EQ(Gauge(f, "znode_count", "demo-2"), 12);
  EXPECT_EQ(Gauge(f, "quorum_size", "demo-2"), 3);
  EXPECT_FALSE(Sample(f, "znode_count", "demo-1"));
  EXPECT_FALSE(FamilyOf(f, "watch_count"));
  EXPECT_FALSE(FamilyOf(f, "uptime"));
}

TEST(MntrMetricsTest, NoMembersNoFamilies) { EXPECT_TRUE(MntrToFamilies({}).families.empty()); }

// promtool's lint accepts the text except for ZooKeeper's own naming (gauges named *_count,
// *_ms units), which the provider's names carry and dashboards expect; zkop's names are clean.
TEST(MntrMetricsTest, PromtoolParsesTheExposition) {
  const auto f = MntrToFamilies({Scrape("demo-1", 1, ReadTestdata("mntr-3.8.0-follower.txt")),
                                 Scrape("demo-3", 3, ReadTestdata("mntr-3.8.0-leader.txt")),
                                 Scrape("demo-2", 2, "", false)});
  const std::string text = prometheus::TextSerializer().Serialize(f.families);
  const std::string path = ::testing::TempDir() + "/mntr_metrics.prom";
  std::ofstream(path) << text;
  FILE* p = popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  std::remove(path.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  // 0: clean; 3: lint findings only; anything else (1: unparsable) fails.
  ASSERT_TRUE(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3) << out;
  std::istringstream lines(out);
  std::string line;
  int findings = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ++findings;
    EXPECT_NE(line.rfind("zkop_", 0), 0u) << line;
    const bool provider_naming =
        line.find("non-histogram and non-summary metrics should not have \"_count\" suffix") !=
            std::string::npos ||
        line.find("metric names should not contain abbreviated units") != std::string::npos;
    EXPECT_TRUE(provider_naming) << line;
  }
  EXPECT_GT(findings, 0);  // znode_count is one: the check did run
}

}  // namespace
}  // namespace zkop::op::cluster
