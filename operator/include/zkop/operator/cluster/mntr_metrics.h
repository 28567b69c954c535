// ZooKeeper members' `mntr` answers as Prometheus metric families, under the names
// ZooKeeper's own Prometheus provider (PrometheusMetricsProvider, ZooKeeper >= 3.6) uses, so
// dashboards and rules written for that provider work on Debian's ZooKeeper, which lacks it.
//
// Mapping of one member's `zk_<key>\t<value>` lines (every series gets the labels
// namespace, cluster, member (Pod name) and server_id (myid)):
//  - counters: the keys ServerMetrics registers as counters (kMntrCounters below, read
//    from Debian's ZooKeeper 3.8 jar) -> counter `<key>_total` (Prometheus' counter suffix);
//  - summaries: a key X with zk_cnt_X and zk_sum_X -> summary X (`X_count`, `X_sum`, and
//    `X{quantile="0.5|0.95|0.99|0.999"}` from zk_p50_X .. zk_p999_X when present);
//    zk_avg_X / zk_min_X / zk_max_X of such an X are not exported (derivable, or windowed);
//  - summary sets (per learner or per namespace: zk_avg_<k>_learner_handler_qp_size,
//    zk_avg_<k>_write_per_namespace, ...) -> the set's summary with a `key="<k>"` label, as
//    the provider labels them; the counter set quota_exceeded_error_per_namespace likewise;
//  - every other numeric key -> gauge `<key>` (quorum_size, synced_followers, avg_latency,
//    znode_count, ..., also min_/max_ gauges without a zk_cnt_ such as max_latency);
//  - zk_server_state -> zkop_member_role{role} (leader, follower, observer, standalone:
//    1 for the member's role, 0 for the others); zk_version and zk_peer_state are text and
//    not exported.
// Plus zkop_member_up: 1 when the member answered `mntr` with its figures, 0 otherwise (a
// member that is down shows as 0 rather than as missing series).
//
// Bounded and total: an answer over kMaxMntrBytes is skipped whole (`oversized`); a line
// that is not `zk_<name>\t<number>` (or a known text key) is skipped (`malformed`); neither
// stops the rest. Pure; never throws.
#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zkop::op::cluster {

// Debian's ZooKeeper 3.8 answers ~18 KiB (leader, 3 members); 256 KiB leaves room for
// many learners and namespaces while bounding what one member can make us hold.
inline constexpr size_t kMaxMntrBytes = 256 * 1024;

// The counters of ZooKeeper 3.8's ServerMetrics (every other single-valued key is a gauge).
inline constexpr std::array<std::string_view, 47> kMntrCounters = {
    "add_dead_watcher_stall_time",
    "bytes_received_count",
    "cnxn_closed_without_zk_server_running",
    "commit_count",
    "connection_drop_count",
    "connection_rejected",
    "connection_request_count",
    "connection_revalidate_count",
    "dead_watchers_cleared",
    "dead_watchers_queued",
    "diff_count",
    "digest_mismatches_count",
    "ensemble_auth_fail",
    "ensemble_auth_skip",
    "ensemble_auth_success",
    "insecure_admin_count",
    "large_requests_rejected",
    "learner_commit_received_count",
    "learner_proposal_received_count",
    "looking_count",
    "outstanding_changes_queued",
    "outstanding_changes_removed",
    "prep_processor_request_queued",
    "proposal_count",
    "quit_leading_due_to_disloyal_voter",
    "request_commit_queued",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_bytes",
    "response_packet_cache_hits",
    "response_packet_cache_misses",
    "response_packet_get_children_cache_hits",
    "response_packet_get_children_cache_misses",
    "revalidate_count",
    "sessionless_connections_expired",
    "skip_learner_request_to_next_processor_count",
    "snap_count",
    "stale_replies",
    "stale_requests",
    "stale_requests_dropped",
    "stale_sessions_expired",
    "sync_processor_request_queued",
    "throttled_ops",
    "tls_handshake_exceeded",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "watch_bytes",
};

// The member a scrape is of.
struct MemberRef {
  std::string ns;
  std::string cluster;
  std::string pod;  // "demo-2"
  int server_id = 0;
};

struct MntrScrape {
  MemberRef member;
  bool answered = false;   // the word was answered (text below); false: refused, timed out, ...
  bool oversized = false;  // not answered because the answer outgrew the reader's own cap
  std::string text;        // the raw `mntr` answer
};

struct MntrFamilies {
  std::vector<prometheus::MetricFamily> families;  // one family per name, sorted by name
  size_t oversized_answers = 0;
  size_t malformed_lines = 0;
};

// All members' figures, merged into one family per metric name.
MntrFamilies MntrToFamilies(const std::vector<MntrScrape>& scrapes);

}  // namespace zkop::op::cluster
