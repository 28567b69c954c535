#include "zkop/testing/zk_ensemble.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "zkop/testing/loopback.h"
#include "zkop/zk/acl.h"

namespace zkop::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr int kClientPort = 2181;
constexpr int kQuorumPort = 2888;
constexpr int kElectionPort = 3888;
constexpr milliseconds k4lwTimeout(1000);

// QuorumPeerMain with Debian's jars: zookeeper.jar's manifest Class-Path brings netty,
// jetty, metrics, jackson, commons-* and zookeeper-jute; these are the ones it lacks
// (servlet API for the admin server classes, the log4j binding for slf4j).
const char* const kJars[] = {
    "/usr/share/java/zookeeper.jar",     "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/servlet-api.jar",   "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar",
};

std::string ClassPath(const std::string& conf_dir) {
  std::string cp = conf_dir;
  for (const char* jar : kJars) cp += std::string(":") + jar;
  return cp;
}

bool CurrentTestFailed() {
  ::testing::UnitTest* ut = ::testing::UnitTest::GetInstance();
  return ::testing::Test::HasFailure() || (ut != nullptr && ut->Failed());
}

}  // namespace

ZkEnsemble::ZkEnsemble(ZkEnsembleOptions options) : options_(std::move(options)) {
  if (options_.size < 1) throw std::runtime_error("ZkEnsemble: size must be at least 1");
  if (options_.start < 0 || options_.start > options_.size) options_.start = options_.size;
  if (access("/usr/share/java/zookeeper.jar", R_OK) != 0) {
    throw std::runtime_error(
        "ZkEnsemble: /usr/share/java/zookeeper.jar is missing; run scripts/install-deps.sh "
        "(Debian package `zookeeper`)");
  }
  if (options_.work_dir.empty()) {
    temp_ = std::make_unique<TempDir>("zk-ensemble");
    dir_ = temp_->path();
  } else {
    dir_ = options_.work_dir;
  }
  super_digest_id_ = zk::DigestId(super_user_, options_.super_password);
  std::vector<zk::Member> membership;
  for (int id = 1; id <= options_.size; ++id) {
    servers_.emplace(id, MakeServer(id));
    membership.push_back(servers_.at(id).member);
  }
  for (auto& [id, s] : servers_) WriteConfig(s, membership);
  for (int id = 1; id <= options_.start; ++id) Launch(servers_.at(id));
  if (!WaitForQuorum(options_.quorum_timeout)) {
    std::ostringstream msg;
    msg << "ZkEnsemble: no quorum within " << options_.quorum_timeout.count() << " ms in " << dir_
        << "\n";
    PrintLogTails(msg, 20);
    StopAll();
    if (temp_) temp_->Keep();
    throw std::runtime_error(msg.str());
  }
}

ZkEnsemble::~ZkEnsemble() {
  if (CurrentTestFailed()) {
    std::cerr << "ZkEnsemble: a test failed; server logs are kept in " << dir_ << "\n";
    PrintLogTails(std::cerr, 30);
    if (temp_) temp_->Keep();
  }
  for (auto& [id, s] : servers_) {
    if (s.process) s.process->Kill();
  }
}

ZkEnsemble::Server ZkEnsemble::MakeServer(int id) {
  Server s;
  std::string ip = PickLoopbackAddress({kClientPort, kQuorumPort, kElectionPort});
  s.member.id = id;
  s.member.host = ip;
  s.member.quorum_port = kQuorumPort;
  s.member.election_port = kElectionPort;
  s.member.client_host = ip;
  s.member.client_port = kClientPort;
  std::string base = dir_ + "/server-" + std::to_string(id);
  s.conf_dir = base + "/conf";
  s.data_dir = base + "/data";
  s.log_path = base + "/server.log";
  return s;
}

void ZkEnsemble::WriteConfig(const Server& s, const std::vector<zk::Member>& membership) const {
  auto write = [](const std::string& path, const std::string& content) {
    std::string dir = path.substr(0, path.rfind('/'));
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::ofstream out(path, std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("ZkEnsemble: cannot write " + path);
  };
  std::ostringstream cfg;
  cfg << "tickTime=" << options_.tick_ms << "\n"
      << "initLimit=20\n"
      << "syncLimit=10\n"
      << "dataDir=" << s.data_dir << "\n"
      << "4lw.commands.whitelist=*\n"
      << "admin.enableServer=false\n"
      << "reconfigEnabled=true\n"
      << "standaloneEnabled=false\n"
      << "maxClientCnxns=0\n"
      << "dynamicConfigFile=" << s.conf_dir << "/zoo.cfg.dynamic\n";
  write(s.conf_dir + "/zoo.cfg", cfg.str());
  std::string dynamic;
  for (const zk::Member& m : membership) dynamic += m.ServerLine() + "\n";
  write(s.conf_dir + "/zoo.cfg.dynamic", dynamic);
  write(s.conf_dir + "/log4j.properties",
        "log4j.rootLogger=" + options_.log_level +
            ", CONSOLE\n"
            "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] "
            "%-5p [%t:%C{1}@%L] - %m%n\n");
  write(s.data_dir + "/myid", std::to_string(s.member.id) + "\n");
}

void ZkEnsemble::Launch(Server& s) {
  if (s.process && s.process->Running()) return;
  SubprocessOptions p;
  p.argv = {"java", "-Xmx" + options_.heap};
  if (options_.production_jvm) {
    p.argv.insert(p.argv.end(), {"-Xms" + options_.heap, "-XX:+AlwaysPreTouch"});
  } else {
    p.argv.insert(p.argv.end(),
                  {"-Xms32m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"});
  }
  p.argv.insert(p.argv.end(),
                {"-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true",
                 "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.jmx.log4j.disable=true",
                 "-Dzookeeper.DigestAuthenticationProvider.superDigest=" + super_digest_id_, "-cp",
                 ClassPath(s.conf_dir), "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                 s.conf_dir + "/zoo.cfg"});
  p.output_file = s.log_path;
  p.cwd = s.data_dir;
  s.process = std::make_unique<Subprocess>(std::move(p));
}

ZkEnsemble::Server& ZkEnsemble::Get(int id) {
  auto it = servers_.find(id);
  if (it == servers_.end()) throw std::out_of_range("ZkEnsemble: no member " + std::to_string(id));
  return it->second;
}

const ZkEnsemble::Server& ZkEnsemble::Get(int id) const {
  auto it = servers_.find(id);
  if (it == servers_.end()) throw std::out_of_range("ZkEnsemble: no member " + std::to_string(id));
  return it->second;
}

std::string ZkEnsemble::Describe(int id) const {
  return "server " + std::to_string(id) + " (" + ClientAddress(id) + ")";
}

std::string ZkEnsemble::ConnectString() const {
  std::string out;
  for (const auto& [id, s] : servers_) {
    if (!out.empty()) out.push_back(',');
    out += s.member.ClientAddress();
  }
  return out;
}

std::string ZkEnsemble::ClientAddress(int id) const { return Get(id).member.ClientAddress(); }

std::vector<int> ZkEnsemble::Ids() const {
  std::vector<int> ids;
  for (const auto& [id, s] : servers_) ids.push_back(id);
  return ids;
}

zk::Member ZkEnsemble::MemberConfig(int id) const { return Get(id).member; }

zk::ServerMode ZkEnsemble::Mode(int id) const {
  zk::ServerInfo info;
  if (!zk::QueryServer(ClientAddress(id), k4lwTimeout, &info).ok()) {
    return zk::ServerMode::kUnknown;
  }
  return info.mode;
}

int ZkEnsemble::Leader() const {
  for (const auto& [id, s] : servers_) {
    if (!s.process) continue;
    if (Mode(id) == zk::ServerMode::kLeader) return id;
  }
  return 0;
}

bool ZkEnsemble::WaitForQuorum(milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int leaders = 0;
    bool all_serving = true;
    for (const auto& [id, s] : servers_) {
      if (!s.process || !const_cast<Subprocess&>(*s.process).Running()) continue;
      zk::ServerMode m = Mode(id);
      if (m == zk::ServerMode::kLeader) {
        ++leaders;
      } else if (m != zk::ServerMode::kFollower && m != zk::ServerMode::kObserver) {
        all_serving = false;
      }
    }
    if (leaders == 1 && all_serving) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

bool ZkEnsemble::WaitServing(int id, milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (zk::IsServing(ClientAddress(id), k4lwTimeout)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

void ZkEnsemble::Start(int id) { Launch(Get(id)); }

void ZkEnsemble::Stop(int id) {
  Server& s = Get(id);
  if (s.process) s.process->Terminate(std::chrono::seconds(10));
}

void ZkEnsemble::Kill(int id) {
  Server& s = Get(id);
  if (s.process) s.process->Kill();
}

void ZkEnsemble::Restart(int id) {
  Stop(id);
  Start(id);
}

void ZkEnsemble::Pause(int id) {
  Server& s = Get(id);
  if (s.process) s.process->Signal(SIGSTOP);
}

void ZkEnsemble::Resume(int id) {
  Server& s = Get(id);
  if (s.process) s.process->Signal(SIGCONT);
}

bool ZkEnsemble::Running(int id) {
  Server& s = Get(id);
  return s.process && s.process->Running();
}

int ZkEnsemble::AddMember() {
  // The current membership, as a serving member knows it.
  zk::EnsembleConfig current;
  bool found = false;
  for (const auto& [id, s] : servers_) {
    if (!s.process) continue;
    zk::FourLetterResult conf = zk::FourLetterWord(ClientAddress(id), "conf", k4lwTimeout);
    if (conf.status.ok() && zk::ParseEnsembleConfig(conf.text, &current).ok() &&
        !current.members.empty()) {
      found = true;
      break;
    }
  }
  if (!found) throw std::runtime_error("ZkEnsemble::AddMember: no serving member answered conf");
  int id = servers_.rbegin()->first + 1;
  servers_.emplace(id, MakeServer(id));
  Server& s = servers_.at(id);
  std::vector<zk::Member> membership = current.members;
  membership.push_back(s.member);
  WriteConfig(s, membership);
  Launch(s);
  if (!WaitServing(id, options_.quorum_timeout)) {
    throw std::runtime_error("ZkEnsemble::AddMember: " + Describe(id) +
                             " does not serve; log tail:\n" + LogTail(id, 20));
  }
  return id;
}

void ZkEnsemble::StopAll() {
  for (auto& [id, s] : servers_) {
    if (s.process && s.process->Running()) {
      s.process->Signal(SIGCONT);
      s.process->Signal(SIGTERM);
    }
  }
  for (auto& [id, s] : servers_) {
    if (s.process) s.process->Terminate(std::chrono::seconds(10));
  }
}

std::string ZkEnsemble::LogPath(int id) const { return Get(id).log_path; }

std::string ZkEnsemble::LogTail(int id, int lines) const { return TailFile(LogPath(id), lines); }

void ZkEnsemble::PrintLogTails(std::ostream& out, int lines) const {
  for (const auto& [id, s] : servers_) {
    out << "---- " << Describe(id) << ": last " << lines << " lines of " << s.log_path << "\n"
        << LogTail(id, lines);
  }
}

}  // namespace zkop::testing
