#include "zkop/operator/cluster/ensemble_metrics.h"

#include <algorithm>
#include <mutex>
#include <thread>
#include <tuple>

#include "zkop/kube/resource.h"
#include "zkop/log/log.h"
#include "zkop/operator/cluster/render.h"
#include "zkop/operator/cluster/spec.h"

namespace zkop::op::cluster {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const Json* Field(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = &obj;
  for (const char* key : path) {
    if (!v->is_object() || !v->has_field(key)) return nullptr;
    v = &v->at(key);
  }
  return v;
}

std::string StringField(const Json& obj, std::initializer_list<const char*> path) {
  const Json* v = Field(obj, path);
  return v && v->is_string() ? v->as_string() : "";
}

bool HasOwnMetricsProvider(const Json& cr) {
  const Json* config = Field(cr, {"spec", "config"});
  if (!config || !config->is_object() || !config->has_field(kMetricsProviderKey)) return false;
  const Json& value = config->at(kMetricsProviderKey);
  return value.is_string() && !value.as_string().empty();
}

std::string ClientAddress(const std::string& ip) {
  if (ip.empty()) return "";
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(kClientPort);
}

MetricFamily RejectedFamily(uint64_t oversized, uint64_t malformed) {
  MetricFamily f;
  f.name = "zkop_operator_mntr_rejected_total";
  f.help =
      "mntr answers over the size cap (oversized) and lines not understood (malformed), "
      "skipped by the ensemble metrics";
  f.type = MetricType::Counter;
  for (const auto& [reason, n] : {std::pair{"oversized", oversized}, {"malformed", malformed}}) {
    ClientMetric m;
    m.label = {{"reason", reason}};
    m.counter.value = static_cast<double>(n);
    f.metric.push_back(std::move(m));
  }
  return f;
}

MetricFamily DurationFamily(double seconds) {
  MetricFamily f;
  f.name = "zkop_operator_ensemble_scrape_duration_seconds";
  f.help = "Time the last scrape took to ask every member mntr";
  f.type = MetricType::Gauge;
  ClientMetric m;
  m.gauge.value = seconds;
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

std::vector<MemberTarget> ScrapeTargets(const ObjectCache& cache) {
  const auto everything = kube::LabelSelector::Parse("");
  std::vector<std::pair<std::string, std::string>> clusters;  // namespace, name
  cache.ForEach(kube::resources::ZookeeperClusters(), "", *everything, [&](const Json& cr) {
    if (!HasOwnMetricsProvider(cr)) clusters.emplace_back(kube::NamespaceOf(cr), kube::NameOf(cr));
  });
  std::vector<MemberTarget> out;
  for (const auto& [ns, name] : clusters) {
    const auto selector = kube::LabelSelector::Parse(SelectorString(name));
    if (!selector) continue;
    for (const Json& pod : cache.List(kube::resources::Pods(), ns, *selector)) {
      const std::string pod_name = kube::NameOf(pod);
      const int id = MemberIdOfPod(name, pod_name);
      if (id == 0 || Field(pod, {"metadata", "deletionTimestamp"})) continue;
      out.push_back(
          {{ns, name, pod_name, id}, ClientAddress(StringField(pod, {"status", "podIP"}))});
    }
  }
  std::sort(out.begin(), out.end(), [](const MemberTarget& a, const MemberTarget& b) {
    return std::tie(a.member.ns, a.member.cluster, a.member.server_id) <
           std::tie(b.member.ns, b.member.cluster, b.member.server_id);
  });
  return out;
}

EnsembleCollector::EnsembleCollector(const ObjectCache* cache, std::function<bool()> leading,
                                     EnsembleMetricsOptions options, FourLetterAsker ask)
    : cache_(cache),
      leading_(std::move(leading)),
      options_(options),
      ask_(ask ? std::move(ask)
               : FourLetterAsker([](const std::string& address, std::string_view word,
                                    std::chrono::milliseconds timeout) {
                   return zk::FourLetterWord(address, word, timeout);
                 })) {
  options_.concurrency = std::max<size_t>(1, options_.concurrency);
}

std::vector<MntrScrape> EnsembleCollector::AskAll(const std::vector<MemberTarget>& targets) const {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options_.scrape_budget;
  std::vector<MntrScrape> scrapes(targets.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < targets.size(); i = next++) {
      scrapes[i].member = targets[i].member;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (targets[i].address.empty() || left.count() <= 0) continue;
      auto answer = ask_(targets[i].address, "mntr", std::min(options_.member_timeout, left));
      scrapes[i].answered = answer.status.ok();
      // zk::FourLetterWord's only parse error: the answer outgrew its 1 MiB read cap.
      scrapes[i].oversized = answer.status.code() == zk::Error::kParseError;
      if (scrapes[i].answered) scrapes[i].text = std::move(answer.text);
    }
  };
  {
    // Threads only for members there is something to ask (a Pod without an IP is not asked).
    const size_t askable = static_cast<size_t>(std::count_if(
        targets.begin(), targets.end(), [](const MemberTarget& t) { return !t.address.empty(); }));
    std::vector<std::jthread> workers;
    const size_t n = std::min(options_.concurrency, askable);
    for (size_t w = 1; w < n; ++w) workers.emplace_back(work);
    work();
  }  // joined
  return scrapes;
}

std::vector<prometheus::MetricFamily> EnsembleCollector::Collect() const {
  std::vector<MetricFamily> families;
  if (leading_ && leading_()) {
    const auto start = std::chrono::steady_clock::now();
    MntrFamilies mapped = MntrToFamilies(AskAll(ScrapeTargets(*cache_)));
    oversized_ += mapped.oversized_answers;
    malformed_ += mapped.malformed_lines;
    if (mapped.oversized_answers > 0) {
      static const log::Logger log("ensemble-metrics");
      log.Warn("mntr answers over the size cap were skipped",
               {{"answers", static_cast<int64_t>(mapped.oversized_answers)},
                {"cap_bytes", static_cast<int64_t>(kMaxMntrBytes)}});
    }
    families = std::move(mapped.families);
    families.push_back(DurationFamily(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  }
  families.push_back(RejectedFamily(oversized_.load(), malformed_.load()));
  return families;
}

}  // namespace zkop::op::cluster
