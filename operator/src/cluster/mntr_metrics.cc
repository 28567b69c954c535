#include "zkop/operator/cluster/mntr_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace zkop::op::cluster {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<std::string_view, 4> kRoles = {"leader", "follower", "observer", "standalone"};
constexpr std::array<std::string_view, 3> kTextKeys = {"version", "server_state", "peer_state"};
// mntr's percentile keys (AvgMinMaxPercentileCounter) and the quantiles they are.
constexpr std::array<std::pair<std::string_view, double>, 4> kPercentiles = {
    {{"p50_", 0.5}, {"p95_", 0.95}, {"p99_", 0.99}, {"p999_", 0.999}}};

// ServerMetrics' summary and counter sets: mntr writes zk_avg_<key>_<set> (<key>_<set> for
// counters); the provider exports <set>{key="<key>"}. Sets keyed by server id need a number.
struct SetName {
  std::string_view name;
  bool numeric_key;
};
constexpr std::array<SetName, 5> kSummarySets = {{{"learner_handler_qp_size", true},
                                                  {"learner_handler_qp_time_ms", true},
                                                  {"ack_latency", true},
                                                  {"read_per_namespace", false},
                                                  {"write_per_namespace", false}}};
constexpr SetName kCounterSet = {"quota_exceeded_error_per_namespace", false};

bool IsMetricName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsNumber(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<double> ParseValue(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// `name` = "<key>_<set>" of one of `sets`: the set's name and the key.
template <size_t N>
std::optional<std::pair<std::string, std::string>> SplitSet(const std::string& name,
                                                            const std::array<SetName, N>& sets) {
  for (const SetName& set : sets) {
    const std::string suffix = "_" + std::string(set.name);
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    std::string key = name.substr(0, name.size() - suffix.size());
    if (set.numeric_key && !IsNumber(key)) continue;
    return std::make_pair(std::string(set.name), key);
  }
  return std::nullopt;
}

class FamilyBuilder {
 public:
  // The family `name`; nullptr when the name is taken by a family of another type.
  MetricFamily* Family(const std::string& name, MetricType type, const std::string& help) {
    auto [it, added] = families_.try_emplace(name);
    if (added) {
      it->second.name = name;
      it->second.help = help;
      it->second.type = type;
    }
    return it->second.type == type ? &it->second : nullptr;
  }

  std::vector<MetricFamily> Take() {
    std::vector<MetricFamily> out;
    for (auto& [name, family] : families_) out.push_back(std::move(family));
    return out;
  }

 private:
  std::map<std::string, MetricFamily> families_;
};

// The member's labels, with room for `more` (sized exactly: a scrape holds a few per member,
// thousands in all).
std::vector<ClientMetric::Label> Labels(const MemberRef& m, size_t more = 0) {
  std::vector<ClientMetric::Label> labels;
  labels.reserve(4 + more);
  labels.push_back({"namespace", m.ns});
  labels.push_back({"cluster", m.cluster});
  labels.push_back({"member", m.pod});
  labels.push_back({"server_id", std::to_string(m.server_id)});
  return labels;
}

// zkop_member_role: kRoles.size() series for every member, whether it answers or not.
MetricFamily* RoleFamily(FamilyBuilder& out) {
  return out.Family(
      "zkop_member_role", MetricType::Gauge,
      "The member's role as it reports it (1 for the role it has, 0 for the others); all 0 "
      "when it does not answer");
}

std::string Help(std::string_view what) {
  return "ZooKeeper's " + std::string(what) +
         " per member, from mntr at scrape time (zkop-operator)";
}

class MemberMapper {
 public:
  MemberMapper(const MemberRef& member, FamilyBuilder* out, size_t* malformed)
      : member_(member), out_(out), malformed_(malformed) {}

  // Exports the member's figures; false when the answer holds none (not serving).
  bool Map(std::string_view text) {
    std::map<std::string, double> values;
    std::string state;
    size_t bad = 0;
    while (!text.empty()) {
      const size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      const size_t tab = line.find('\t');
      if (tab == std::string_view::npos || !line.starts_with("zk_")) {
        ++bad;
        continue;
      }
      const std::string key(line.substr(3, tab - 3));
      const std::string_view value = line.substr(tab + 1);
      if (key == "server_state") state = std::string(value);
      if (std::find(kTextKeys.begin(), kTextKeys.end(), key) != kTextKeys.end()) continue;
      const auto number = ParseValue(value);
      if (!IsMetricName(key) || !number) {
        ++bad;
        continue;
      }
      values[key] = *number;
    }
    if (state.empty()) return false;  // "This ZooKeeper instance is not currently serving ..."
    *malformed_ += bad;
    ExportRole(state);
    std::set<std::string> consumed;
    for (const auto& [key, value] : values) {
      if (!key.starts_with("cnt_")) continue;
      const std::string x = key.substr(4);
      auto sum = values.find("sum_" + x);
      if (sum == values.end()) continue;
      ExportSummary(x, value, sum->second, values);
      for (std::string_view p : {"avg_", "min_", "max_", "cnt_", "sum_"})
        consumed.insert(std::string(p) + x);
      for (const auto& [p, q] : kPercentiles) consumed.insert(std::string(p) + x);
    }
    for (const auto& [key, value] : values) {
      if (consumed.count(key)) continue;
      ExportSingle(key, value);
    }
    return true;
  }

  void ExportRole(std::string_view state) {
    MetricFamily* f = RoleFamily(*out_);
    for (std::string_view role : kRoles) {
      ClientMetric m;
      m.label = Labels(member_, 1);
      m.label.push_back({"role", std::string(role)});
      m.gauge.value = role == state ? 1 : 0;
      f->metric.push_back(std::move(m));
    }
  }

 private:
  void ExportSummary(const std::string& x, double count, double sum,
                     const std::map<std::string, double>& values) {
    std::string name = x;
    std::vector<ClientMetric::Label> labels = Labels(member_, 1);
    if (auto set = SplitSet(x, kSummarySets)) {
      name = set->first;
      labels.push_back({"key", set->second});
    }
    if (!IsMetricName(name) || count < 0) return Malformed();
    MetricFamily* f = out_->Family(name, MetricType::Summary, Help(name));
    if (!f) return Malformed();
    ClientMetric m;
    m.label = std::move(labels);
    m.summary.sample_count = static_cast<uint64_t>(count);
    m.summary.sample_sum = sum;
    for (const auto& [prefix, quantile] : kPercentiles) {
      auto it = values.find(std::string(prefix) + x);
      if (it != values.end()) m.summary.quantile.push_back({quantile, it->second});
    }
    f->metric.push_back(std::move(m));
  }

  void ExportSingle(const std::string& key, double value) {
    std::vector<ClientMetric::Label> labels = Labels(member_, 1);
    std::string name = key;
    bool counter =
        std::find(kMntrCounters.begin(), kMntrCounters.end(), key) != kMntrCounters.end();
    if (auto set = SplitSet(key, std::array<SetName, 1>{kCounterSet})) {
      name = set->first;
      labels.push_back({"key", set->second});
      counter = true;
    }
    ClientMetric m;
    m.label = std::move(labels);
    MetricFamily* f = nullptr;
    if (counter) {
      f = out_->Family(name + "_total", MetricType::Counter, Help(name));
      m.counter.value = value;
    } else {
      f = out_->Family(name, MetricType::Gauge, Help(name));
      m.gauge.value = value;
    }
    if (!f) return Malformed();
    f->metric.push_back(std::move(m));
  }

  void Malformed() { ++*malformed_; }

  const MemberRef& member_;
  FamilyBuilder* out_;
  size_t* malformed_;
};

}  // namespace

MntrFamilies MntrToFamilies(const std::vector<MntrScrape>& scrapes) {
  MntrFamilies result;
  if (scrapes.empty()) return result;
  FamilyBuilder out;
  MetricFamily* up =
      out.Family("zkop_member_up", MetricType::Gauge,
                 "1 when the member answered mntr with its figures at this scrape, 0 otherwise");
  up->metric.reserve(scrapes.size());
  RoleFamily(out)->metric.reserve(kRoles.size() * scrapes.size());
  for (const MntrScrape& scrape : scrapes) {
    MemberMapper mapper(scrape.member, &out, &result.malformed_lines);
    bool ok = false;
    if (scrape.oversized || (scrape.answered && scrape.text.size() > kMaxMntrBytes)) {
      ++result.oversized_answers;
    } else if (scrape.answered) {
      ok = mapper.Map(scrape.text);
    }
    if (!ok) mapper.ExportRole("");
    ClientMetric m;
    m.label = Labels(scrape.member);
    m.gauge.value = ok ? 1 : 0;
    up->metric.push_back(std::move(m));
  }
  result.families = out.Take();
  return result;
}

}  // namespace zkop::op::cluster
