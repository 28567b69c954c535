// Ensemble metrics: every member's `mntr`, asked by the operator at each scrape of its own
// /metrics and exported under ZooKeeper's Prometheus provider names (mntr_metrics.h).
//
// Why the operator and not an exporter in each member Pod (docs/operator.md, "Ensemble
// metrics"): no extra container and memory in every member, no roll of every running
// ensemble to introduce it, one scrape target, the operator already knows each member's
// address, id and cluster, and a member that is down shows as zkop_member_up 0 instead of a
// target that vanished with its Pod.
//
// Contract:
//  - Collect() exports nothing but its own counters unless `leading()` is true (standby
//    replicas would duplicate every series).
//  - Members: the Pods (from the informer cache) of every ZookeeperCluster the operator
//    watches, except clusters whose spec.config sets `metricsProvider.className` (those
//    members serve ZooKeeper's own provider, scraped directly). A Pod being deleted is
//    skipped; a Pod without an address counts as not answering.
//  - Bounded: at most `concurrency` members are asked at once, each within
//    `member_timeout`, and no member is asked after `scrape_budget` has passed since the
//    scrape began (those count as not answering), so a scrape returns within about
//    scrape_budget + member_timeout whatever the members do.
//  - Oversized answers and malformed lines are skipped and counted in
//    zkop_operator_mntr_rejected_total{reason="oversized|malformed"}.
//  - Thread-safe; the HealthServer runs one Collect at a time.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "zkop/operator/cluster/mntr_metrics.h"
#include "zkop/operator/cluster/spec.h"
#include "zkop/operator/reconciler.h"
#include "zkop/zk/four_letter.h"

namespace zkop::op::cluster {

struct EnsembleMetricsOptions {
  std::chrono::milliseconds member_timeout{1000};
  std::chrono::milliseconds scrape_budget{5000};
  size_t concurrency = 16;
};

// One member to ask: its labels and "ip:2181" ("" when its Pod has no address yet).
struct MemberTarget {
  MemberRef member;
  std::string address;
};

// The members to scrape, from the cache, sorted by namespace, cluster and id.
std::vector<MemberTarget> ScrapeTargets(const ObjectCache& cache);

// Asks one member a four-letter word (zk::FourLetterWord in production).
using FourLetterAsker = std::function<zk::FourLetterResult(
    const std::string& address, std::string_view word, std::chrono::milliseconds timeout)>;

class EnsembleCollector : public prometheus::Collectable {
 public:
  EnsembleCollector(const ObjectCache* cache, std::function<bool()> leading,
                    EnsembleMetricsOptions options = {}, FourLetterAsker ask = nullptr);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<MntrScrape> AskAll(const std::vector<MemberTarget>& targets) const;

  const ObjectCache* cache_;
  std::function<bool()> leading_;
  EnsembleMetricsOptions options_;
  FourLetterAsker ask_;
  mutable std::atomic<uint64_t> oversized_{0};
  mutable std::atomic<uint64_t> malformed_{0};
};

}  // namespace zkop::op::cluster
