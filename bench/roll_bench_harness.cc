#include "roll_bench_harness.h"

#include "zkop/operator/cluster/observe.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace rollbench {

using namespace std::chrono_literals;
namespace zk = zkop::zk;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

// --- MemberAddresses ----------------------------------------------------------------------

void MemberAddresses::Set(int id, std::string address) {
  std::lock_guard<std::mutex> lock(mu_);
  addresses_[id] = std::move(address);
}

void MemberAddresses::Erase(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  addresses_.erase(id);
}

std::map<int, std::string> MemberAddresses::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return addresses_;
}

// --- srvr ---------------------------------------------------------------------------------

ServerState QueryMember(const std::string& address) {
  ServerState s;
  zk::ServerInfo info;
  if (!zk::QueryServer(address, 500ms, &info).ok()) return s;
  s.mode = info.mode;
  s.zxid = info.zxid;
  s.serving = info.mode == zk::ServerMode::kLeader || info.mode == zk::ServerMode::kFollower ||
              info.mode == zk::ServerMode::kObserver;
  return s;
}

bool WaitMemberServes(const std::string& address, std::chrono::milliseconds timeout) {
  return Eventually([&] { return QueryMember(address).serving; }, timeout);
}

// --- Writer -------------------------------------------------------------------------------

Writer::Writer(std::string connect, std::string root)
    : connect_(std::move(connect)), root_(std::move(root)) {}

Writer::~Writer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool Writer::Start() {
  zk::ClientOptions o;
  o.connect = connect_;
  o.session_timeout = 10s;   // the most a 500 ms tick allows
  o.operation_timeout = 4s;  // a sync call gives up (outcome unknown) after this
  o.name = "writer";
  client_ = std::make_unique<zk::Client>(o);
  if (!client_->Connect(30s).ok()) return false;
  zk::CreateOptions parents;
  parents.make_parents = true;
  zk::CreateResult r = client_->Create(root_, "", parents);
  if (!r.status.ok() && r.status.code() != zk::Error::kNodeExists) return false;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void Writer::Run() {
  char name[32];
  int64_t seq = 0;
  Clock::time_point last_ack = Clock::now();
  while (!stop_) {
    const Clock::time_point attempt = Clock::now();
    std::snprintf(name, sizeof name, "/w%010lld", static_cast<long long>(seq));
    zk::CreateResult r = client_->Create(root_ + name, "v");
    const zk::Error e = r.status.code();
    // kNodeExists: an earlier attempt whose outcome was unknown was applied (only this
    // writer creates these nodes).
    if (e == zk::Error::kOk || e == zk::Error::kNodeExists) {
      const Clock::time_point now = Clock::now();
      longest_gap_ms_ = std::max(longest_gap_ms_, Ms(now - last_ack));
      last_ack = now;
      acked_seqs_.push_back(seq);
      ack_times_.push_back(now);
      acked_.fetch_add(1);
      ++seq;
    } else {
      ++failed_;
    }
    std::this_thread::sleep_until(attempt + 10ms);
  }
}

WriterResult Writer::StopAndVerify() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  WriterResult out;
  out.acknowledged = static_cast<int64_t>(acked_seqs_.size());
  out.failed_attempts = failed_;
  out.longest_gap_ms = longest_gap_ms_;
  out.ack_times = ack_times_;
  if (!client_) return out;
  zk::ChildrenResult children;
  const bool read = Eventually(
      [&] {
        if (!client_->Sync(root_).ok()) return false;
        children = client_->GetChildren(root_);
        return children.status.ok();
      },
      60s, 200ms);
  if (!read) return out;
  std::set<std::string> present(children.children.begin(), children.children.end());
  char name[32];
  for (int64_t seq : acked_seqs_) {
    std::snprintf(name, sizeof name, "w%010lld", static_cast<long long>(seq));
    if (!present.count(name)) ++out.lost;
  }
  out.verified = true;
  client_->Close();
  return out;
}

double GapsLongerThan(const std::vector<Clock::time_point>& ack_times,
                      std::chrono::milliseconds min_gap, int* count) {
  double total = 0;
  *count = 0;
  for (size_t i = 1; i < ack_times.size(); ++i) {
    if (ack_times[i] - ack_times[i - 1] <= min_gap) continue;
    total += Ms(ack_times[i] - ack_times[i - 1]);
    ++*count;
  }
  return total;
}

double LongestGapWithin(const std::vector<Clock::time_point>& ack_times, Clock::time_point from,
                        Clock::time_point to) {
  auto it = std::upper_bound(ack_times.begin(), ack_times.end(), from);
  if (it == ack_times.end() || it == ack_times.begin()) return -1;
  double longest = -1;
  for (; it != ack_times.end() && *(it - 1) < to; ++it)
    longest = std::max(longest, Ms(*it - *(it - 1)));
  return longest;
}

// --- ElectionCounter ----------------------------------------------------------------------

ElectionCounter::ElectionCounter(const MemberAddresses& members) : members_(members) {}

ElectionCounter::~ElectionCounter() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool ElectionCounter::Start() {
  thread_ = std::thread([this] { Run(); });
  return Eventually(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return !leaders_.empty();
      },
      10s, 20ms);
}

namespace {
// A leader whose own configuration makes it an observer (or leaves it out) has handed off:
// ZooKeeper no longer lets it commit, and it says "leader" only until its next tick.
bool HandedOff(int id, const std::string& address) {
  const auto conf = zk::FourLetterWord(address, "conf", 1s);
  if (!conf.status.ok()) return false;
  const auto membership = zkop::op::cluster::MembershipFromConf(conf.text);
  if (!membership) return false;
  const zk::Member* self = membership->Find(id);
  return !self || self->role == "observer";
}
}  // namespace

void ElectionCounter::Run() {
  while (!stop_) {
    const Clock::time_point start = Clock::now();
    int leaders = 0;
    for (const auto& [id, address] : members_.Snapshot()) {
      ServerState s = QueryMember(address);
      if (s.mode != zk::ServerMode::kLeader || s.zxid < 0) continue;
      if (HandedOff(id, address)) continue;
      ++leaders;
      std::lock_guard<std::mutex> lock(mu_);
      if (leaders_.insert({id, s.zxid >> 32}).second && !leaders_.empty())
        std::cerr << "[roll_bench] leader " << id << ", epoch " << (s.zxid >> 32) << "\n";
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      most_leaders_ = std::max(most_leaders_, leaders);
    }
    std::this_thread::sleep_until(start + 50ms);
  }
}

int ElectionCounter::most_leaders() const {
  std::lock_guard<std::mutex> lock(mu_);
  return most_leaders_;
}

int ElectionCounter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return leaders_.empty() ? 0 : static_cast<int>(leaders_.size()) - 1;
}

// --- admin / reconfig ---------------------------------------------------------------------

std::unique_ptr<zk::Client> ConnectAdmin(const ZkEnsemble& ensemble, const std::string& connect) {
  zk::ClientOptions o;
  o.connect = connect;
  o.session_timeout = 10s;
  o.operation_timeout = 5s;
  o.digest_auth = {{ensemble.super_user(), ensemble.super_password()}};
  o.name = "admin";
  auto c = std::make_unique<zk::Client>(o);
  if (!c->Connect(30s).ok()) throw std::runtime_error("admin client: no session via " + connect);
  return c;
}

bool ReadMembership(zk::Client& admin, zk::EnsembleConfig* out) {
  return Eventually(
      [&] {
        if (!admin.Sync("/").ok()) return false;
        zk::DataResult r = admin.GetConfig();
        return r.status.ok() && zk::ParseEnsembleConfig(r.data, out).ok() && !out->members.empty();
      },
      30s, 100ms);
}

namespace {
std::set<int> Ids(const zk::EnsembleConfig& c) {
  std::set<int> ids;
  for (const auto& m : c.members) ids.insert(m.id);
  return ids;
}
}  // namespace

namespace {
// One incremental reconfig, conditional on the version read just before, repeated until the
// config read back satisfies `reached`: NEWCONFIGNOQUORUM, RECONFIGINPROGRESS, BADVERSION or a
// lost connection are resolved by reading again. Throws naming `what` after 60 s.
void ReconfigureUntil(zk::Client& admin, const std::vector<std::string>& joining,
                      const std::vector<int>& leaving,
                      const std::function<bool(const zk::EnsembleConfig&)>& reached,
                      const std::string& what) {
  std::string last;
  const bool done = Eventually(
      [&] {
        zk::EnsembleConfig cfg;
        if (!ReadMembership(admin, &cfg)) return false;
        if (reached(cfg)) return true;  // applied (by an earlier attempt)
        zk::DataResult r = admin.Reconfig(joining, leaving, {}, cfg.version);
        last = r.status.ToString();
        zk::EnsembleConfig after;
        return r.status.ok() && zk::ParseEnsembleConfig(r.data, &after).ok() && reached(after);
      },
      60s, 100ms);
  if (!done) throw std::runtime_error("reconfig never " + what + ": " + last);
  zk::EnsembleConfig confirmed;
  if (!ReadMembership(admin, &confirmed) || !reached(confirmed))
    throw std::runtime_error("reconfig: the config read back has not " + what);
}
}  // namespace

void Reconfigure(zk::Client& admin, const std::vector<std::string>& joining,
                 const std::vector<int>& leaving, const std::set<int>& want) {
  ReconfigureUntil(
      admin, joining, leaving, [&](const zk::EnsembleConfig& c) { return Ids(c) == want; },
      "reached the wanted membership");
}

void SetRole(zk::Client& admin, zk::Member member, const std::string& role) {
  member.role = role;
  ReconfigureUntil(
      admin, {member.ServerLine()}, {},
      [&](const zk::EnsembleConfig& c) {
        const zk::Member* m = c.Find(member.id);
        return m && m->role == role;
      },
      "made member " + std::to_string(member.id) + " " + role);
}

// --- static membership --------------------------------------------------------------------

void WriteStaticConfig(const ZkEnsemble& ensemble, int id, const std::vector<zk::Member>& members) {
  const std::string conf_dir = ensemble.dir() + "/server-" + std::to_string(id) + "/conf";
  const std::string path = conf_dir + "/zoo.cfg";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("server.", 0) == 0 || line.rfind("dynamicConfigFile", 0) == 0 ||
        line.rfind("reconfigEnabled", 0) == 0 || line.rfind("version=", 0) == 0)
      continue;
    out << line << "\n";
  }
  in.close();
  out << "reconfigEnabled=false\n";
  for (const zk::Member& m : members) out << m.ServerLine() << "\n";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(conf_dir, ec)) {
    if (entry.path().filename().string().rfind("zoo.cfg.dynamic", 0) == 0)
      std::filesystem::remove(entry.path(), ec);
  }
  std::ofstream o(path, std::ios::trunc);
  o << out.str();
  if (!o) throw std::runtime_error("cannot write " + path);
}

void WipeData(const ZkEnsemble& ensemble, int id) {
  std::error_code ec;
  std::filesystem::remove_all(ensemble.dir() + "/server-" + std::to_string(id) + "/data/version-2",
                              ec);
}

}  // namespace rollbench
