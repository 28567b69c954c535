// Syncer: replacing earlier incarnations of the registrations being created (issue 11 #2:
// after a SIGKILL and an immediate restart, the old agent's nodes stay until its sessions
// expire — consumers would see every provider twice).
#include <map>
#include <set>

#include "syncer_internal.h"

namespace zkop::agent {

void Syncer::StartSweep(const std::vector<std::vector<Item>>& todo,
                        const std::vector<size_t>& usable, const Plan& plan, Pending& sweep,
                        std::vector<std::pair<size_t, std::string>>& found) {
  struct Dir {
    size_t shard = 0;
    std::vector<std::pair<NodeKey, std::string>> nodes;  // key, own node name
  };
  std::map<std::string, Dir> dirs;
  for (size_t i : usable) {
    for (const Item& item : todo[i]) {
      auto entry = entries_.find(item.key);
      if (entry == entries_.end() || entry->second.swept) continue;  // once per node
      entry->second.swept = true;
      if (!renderer_->HasIncarnations(item.key)) continue;
      std::string path = renderer_->Path(item.key);
      std::string_view dir = ParentPath(path);
      if (dir.empty() || plan.Of(dir) == Plan::State::kAbsent) continue;  // nothing under it
      Dir& d = dirs[std::string(dir)];
      d.shard = i;
      d.nodes.emplace_back(item.key, path.substr(dir.size() + 1));
    }
  }
  for (auto& [dir, d] : dirs) {
    auto post = sweep.Begin();
    auto nodes =
        std::make_shared<const std::vector<std::pair<NodeKey, std::string>>>(std::move(d.nodes));
    size_t shard = d.shard;
    // Filtered on the answering thread: only incarnations are queued, not whole listings.
    shards_[shard]->session->Children(
        dir, [post, nodes, dir, shard, &found, this](RegStatus st, std::vector<std::string> kids) {
          std::vector<std::string> matches;
          if (st.ok()) {
            for (const std::string& kid : kids) {
              for (const auto& [key, own] : *nodes) {
                if (kid != own && renderer_->IsIncarnation(key, kid)) {
                  matches.push_back(dir + "/" + kid);
                  break;
                }
              }
            }
          }
          post([shard, &found, matches = std::move(matches)] {
            for (const auto& m : matches) found.emplace_back(shard, m);
          });
        });
  }
}

void Syncer::FinishSweep(Pending& sweep, std::vector<std::pair<size_t, std::string>>& found,
                         Clock::time_point deadline) {
  if (!sweep.RunUntil(0, deadline)) return CountError("timeout");
  if (found.empty()) return;
  std::set<int64_t> ours;
  for (const auto& sh : shards_) {
    if (sh->session && sh->session_id != 0) ours.insert(sh->session_id);
  }
  // Which of them are ephemerals of another session (persistent ones, owner 0, are
  // someone's static registration and stay).
  std::map<size_t, std::vector<std::string>> stale;  // by shard
  for (auto& [shard, path] : found) {
    auto post = sweep.Begin();
    shards_[shard]->session->Owner(path,
                                   [post, shard, path, &stale, &ours](RegStatus st, int64_t owner) {
                                     post([=, &stale, &ours] {
                                       if (st.ok() && owner != 0 && !ours.count(owner))
                                         stale[shard].push_back(path);
                                     });
                                   });
  }
  if (!sweep.RunUntil(0, deadline)) return CountError("timeout");
  found.clear();
  size_t replaced = 0;
  for (auto& [shard, paths] : stale) {
    for (size_t start = 0; start < paths.size();) {
      std::vector<std::string> batch;
      size_t bytes = 0;
      for (; start < paths.size() && batch.size() < options_.batch_size; ++start) {
        if (!batch.empty() && bytes + paths[start].size() > options_.batch_bytes) break;
        bytes += paths[start].size();
        batch.push_back(paths[start]);
      }
      auto post = sweep.Begin();
      RegistrySession* session = shards_[shard]->session.get();
      size_t n = batch.size();
      session->DeleteAll(batch, [post, batch, session, n, &sweep, &replaced, this](
                                    RegStatus st, std::vector<RegError>) {
        post([=, &sweep, &replaced, this] {
          if (st.ok()) {
            replaced += n;
            return;
          }
          // One of them went meanwhile (its session expired): the others one by one.
          for (const std::string& p : batch) {
            auto post1 = sweep.Begin();
            session->DeleteAll({p}, [post1, &replaced, this](RegStatus s1, std::vector<RegError>) {
              post1([=, &replaced, this] {
                if (s1.ok()) ++replaced;
                if (!s1.ok() && s1.error != RegError::kNoNode) CountError(RegErrorName(s1.error));
              });
            });
          }
        });
      });
    }
  }
  if (!sweep.RunUntil(0, deadline)) CountError("timeout");
  std::lock_guard<std::mutex> l(stats_mu_);
  stats_.restored += replaced;
  stats_.replaced_incarnations += replaced;
}

}  // namespace zkop::agent
