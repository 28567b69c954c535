#include "zkop/agent/metadata_publisher.h"

#include <algorithm>

#include "pending.h"
#include "zkop/dubbo/metadata.h"

namespace zkop::agent {

namespace {

// Compare-and-set attempts per node and call (each re-reads the node first).
constexpr int kAttempts = 6;
// ZooKeeper closes the connection of a request over jute.maxbuffer (1 MiB by default),
// which would disturb every registration of the session: larger content is refused here.
constexpr size_t kMaxNodeBytes = 1000 * 1000;

// StringUtils.isBlank for the whitespace a node's data can hold.
bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

std::string ParentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

}  // namespace

struct MetadataPublisher::Write {
  enum class Outcome { kPending, kDone, kRetry, kFailed };
  bool mapping = false;  // else a metadata report
  std::string path;
  std::string app;        // mapping: the application to list
  uint32_t instance = 0;  // report: whose content
  size_t hash = 0;
  RegStatus read;
  NodeRead node;
  Outcome outcome = Outcome::kPending;
};

void MetadataPublisher::CountError(std::string_view reason) {
  ++stats_.errors[std::string(reason)];
}

bool MetadataPublisher::Published(const AppRecord& record) const {
  return reports_seen_.count(std::hash<std::string>()(record.metadata_path)) > 0;
}

bool MetadataPublisher::Publish(RegistrySession* session, const std::vector<AppRecord>& records,
                                const std::function<std::string(uint32_t)>& json, bool verify) {
  if (verify) done_.clear();
  std::vector<Write> todo;
  std::unordered_set<size_t> queued;
  auto add = [&](bool mapping, const std::string& path, const std::string& app, uint32_t instance) {
    size_t hash = std::hash<std::string>()(mapping ? path + '\n' + app : path);
    if (done_.count(hash) || !queued.insert(hash).second) return;
    Write w;
    w.mapping = mapping;
    w.path = path;
    w.app = app;
    w.instance = instance;
    w.hash = hash;
    todo.push_back(std::move(w));
  };
  for (const auto& r : records) {
    add(false, r.metadata_path, "", r.instance);
    for (const auto& m : r.mapping_paths) add(true, m, r.application, r.instance);
  }
  if (todo.empty()) return true;
  if (!session || !session->connected()) return false;
  auto deadline = Clock::now() + op_timeout_;
  bool ok = true;
  for (int attempt = 0; attempt < kAttempts && !todo.empty(); ++attempt) {
    Pending reads;
    for (auto& w : todo) {
      auto post = reads.Begin();
      session->Read(w.path, [post, &w](RegStatus st, NodeRead node) {
        post([&w, st, node = std::move(node)] {
          w.read = st;
          w.node = node;
        });
      });
    }
    if (!reads.RunUntil(0, deadline)) {
      CountError("timeout");
      return false;
    }
    // Absent nodes get their parents first (one call), then are created.
    std::vector<std::string> parents;
    for (const auto& w : todo) {
      if (w.read.error == RegError::kNoNode) parents.push_back(ParentOf(w.path));
    }
    if (!parents.empty()) {
      std::sort(parents.begin(), parents.end());
      parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
      Pending ensure;
      RegStatus made;
      auto post = ensure.Begin();
      session->EnsurePersistent(std::move(parents),
                                [post, &made](RegStatus st) { post([&made, st] { made = st; }); });
      if (!ensure.RunUntil(0, deadline)) {
        CountError("timeout");
        return false;
      }
      if (!made.ok()) {
        CountError(RegErrorName(made.error));
        return false;
      }
    }
    Pending writes;
    for (auto& w : todo) {
      auto finish = [this, &w](RegStatus st) {
        if (st.ok()) {
          w.outcome = Write::Outcome::kDone;
          ++(w.mapping ? stats_.mappings_written : stats_.reports_written);
        } else if (st.error == RegError::kBadVersion || st.error == RegError::kNodeExists ||
                   st.error == RegError::kNoNode) {
          w.outcome = Write::Outcome::kRetry;  // another writer was first: read again
          if (w.mapping) ++stats_.cas_retries;
        } else {
          w.outcome = Write::Outcome::kFailed;
          CountError(RegErrorName(st.error));
        }
      };
      if (!w.read.ok() && w.read.error != RegError::kNoNode) {
        w.outcome = Write::Outcome::kFailed;
        CountError(RegErrorName(w.read.error));
        continue;
      }
      bool exists = w.read.ok();
      if (exists && !w.mapping && !IsBlank(w.node.data)) {
        w.outcome = Write::Outcome::kDone;  // publishAppMetadata never overwrites
        continue;
      }
      std::string content;
      int32_t version = -1;
      if (w.mapping) {
        auto next = dubbo::MappingWithApplication(exists ? w.node.data : "", w.app);
        if (!next) {
          w.outcome = Write::Outcome::kDone;
          continue;
        }
        content = std::move(*next);
        version = w.node.version;
      } else {
        content = json(w.instance);
      }
      if (content.size() > kMaxNodeBytes) {
        w.outcome = Write::Outcome::kFailed;
        CountError("too_large");
        continue;
      }
      auto post = writes.Begin();
      if (exists) {
        session->Write(w.path, std::move(content), version,
                       [post, finish](RegStatus st) { post([finish, st] { finish(st); }); });
      } else {
        session->CreateAll({NodeSpec{w.path, std::move(content), /*persistent=*/true}},
                           [post, finish](RegStatus st, std::vector<RegError>) {
                             post([finish, st] { finish(st); });
                           });
      }
    }
    if (!writes.RunUntil(0, deadline)) {
      CountError("timeout");
      return false;
    }
    std::vector<Write> again;
    for (auto& w : todo) {
      if (w.outcome == Write::Outcome::kDone) {
        done_.insert(w.hash);
        if (!w.mapping) reports_seen_.insert(w.hash);
      } else if (w.outcome == Write::Outcome::kRetry) {
        w.outcome = Write::Outcome::kPending;
        again.push_back(std::move(w));
      } else {
        ok = false;
      }
    }
    todo = std::move(again);
  }
  if (!todo.empty()) {
    CountError("cas_exhausted");
    ok = false;
  }
  return ok;
}

}  // namespace zkop::agent
