// ZkEnsemble: real Apache ZooKeeper 3.8 servers (Debian's `zookeeper` package) as plain
// JVM processes on loopback, for integration tests, the demo and local development.
//
//   zkop::testing::ZkEnsemble ensemble;              // 3 servers, waits for quorum
//   zkop::zk::Client client({.connect = ensemble.ConnectString()});
//   int leader = ensemble.Leader();
//   ensemble.Kill(leader);                           // SIGKILL; ensemble.Start(leader) later
//   ensemble.Pause(2); ensemble.Resume(2);           // SIGSTOP / SIGCONT
//   int id = ensemble.AddMember();                   // a server not yet in the config; then
//   client.AddMembers({ensemble.MemberConfig(id)}); // reconfig it in as the super user
//
// Each member k gets:
//  - its own random loopback address 127.a.b.c with the standard ports (client 2181,
//    quorum 2888, election 3888), bind-checked (see loopback.h);
//  - its own writable conf dir (ZooKeeper rewrites zoo.cfg and the dynamic config on
//    reconfig) and data dir with `myid`, under dir()/server-<k>/;
//  - reconfigEnabled=true, standaloneEnabled=false, a dynamicConfigFile, the admin server
//    disabled, 4lw.commands.whitelist=*, tickTime 500 ms by default (sessions from 1 s to
//    10 s), a 256 MB heap;
//  - a super user: -Dzookeeper.DigestAuthenticationProvider.superDigest=super:<digest of
//    super_password>; ACLs are always enforced (never skipACL);
//  - its log (stdout+stderr of the JVM) in dir()/server-<k>/server.log.
//
// Process hygiene: every server is a Subprocess (own process group, killed and reaped in
// the destructor, PDEATHSIG, last-resort cleanup at exit and on fatal signals). The
// destructor prints each server's log tail to stderr when the current gtest test (or the
// whole test program) has failed, and then keeps dir() for post-mortem.
//
// Errors: the constructor, Start(), Restart() and AddMember() throw std::runtime_error
// when a server cannot be started or the ensemble does not reach quorum in time; the
// message names the member, its address and the tail of its log. Other methods do not
// throw. Not thread-safe: use from the test's main thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"
#include "zkop/zk/ensemble_config.h"
#include "zkop/zk/four_letter.h"

namespace zkop::testing {

struct ZkEnsembleOptions {
  int size = 3;    // members in the initial configuration (ids 1..size)
  int start = -1;  // how many of them to start now (-1: all); the rest via Start(id)
  int tick_ms = 500;
  std::string super_password = "zkop-test-super";  // user "super"
  std::string heap = "256m";
  // Where to put the servers' dirs; empty: a fresh TempDir ("zk-ensemble").
  std::string work_dir;
  // How long construction waits for quorum (slow shared CI machines need slack).
  std::chrono::milliseconds quorum_timeout{60000};
  // Java log level of the servers ("INFO", "WARN", ...).
  std::string log_level = "INFO";
  // JVM flags: false = tuned for a fast start (C1 only, serial GC, small initial heap: tests);
  // true = as a production server runs (full JIT, default GC, heap committed up front: the
  // benchmarks, which also warm the servers up before measuring).
  bool production_jvm = false;
};

class ZkEnsemble {
 public:
  explicit ZkEnsemble(ZkEnsembleOptions options = {});
  ~ZkEnsemble();
  ZkEnsemble(const ZkEnsemble&) = delete;
  ZkEnsemble& operator=(const ZkEnsemble&) = delete;

  // --- addresses --------------------------------------------------------------------------
  // Client addresses of the initial members and of added ones, whether running or not.
  std::string ConnectString() const;
  std::string ClientAddress(int id) const;  // "127.a.b.c:2181"
  std::vector<int> Ids() const;
  // The member's line for reconfig / dynamic config (server.<id>=...:participant;...).
  zk::Member MemberConfig(int id) const;
  const std::string& super_user() const { return super_user_; }
  const std::string& super_password() const { return options_.super_password; }
  const std::string& dir() const { return dir_; }

  // --- roles ------------------------------------------------------------------------------
  // The id of the member that answers "srvr" with Mode: leader, or 0.
  int Leader() const;
  // The member's mode via "srvr" (kUnknown when not running or not serving).
  zk::ServerMode Mode(int id) const;
  // True once every running member answers ruok and exactly one of them leads while the
  // others follow (or observe). Polls every 100 ms.
  bool WaitForQuorum(std::chrono::milliseconds timeout) const;
  // True once `id` answers "ruok" with "imok".
  bool WaitServing(int id, std::chrono::milliseconds timeout) const;

  // --- lifecycle --------------------------------------------------------------------------
  void Start(int id);    // starts a stopped member with its existing data (no wait)
  void Stop(int id);     // SIGTERM, SIGKILL after 10 s, reaped
  void Kill(int id);     // SIGKILL, reaped
  void Restart(int id);  // Stop + Start
  void Pause(int id);    // SIGSTOP the member's process group
  void Resume(int id);   // SIGCONT
  bool Running(int id);
  // Starts a new member (next id) whose dynamic config is the ensemble's current
  // membership (read with "conf" from a serving member) plus itself. It is not part of the
  // configuration until a reconfig adds it. Waits until it answers ruok; returns its id.
  int AddMember();
  // Stops every member (SIGTERM, then SIGKILL) and reaps them.
  void StopAll();

  // --- logs -------------------------------------------------------------------------------
  std::string LogPath(int id) const;
  std::string LogTail(int id, int lines = 30) const;
  void PrintLogTails(std::ostream& out, int lines = 30) const;

 private:
  struct Server {
    zk::Member member;
    std::string conf_dir;
    std::string data_dir;
    std::string log_path;
    std::unique_ptr<Subprocess> process;
  };
  Server& Get(int id);
  const Server& Get(int id) const;
  Server MakeServer(int id);
  void WriteConfig(const Server& s, const std::vector<zk::Member>& membership) const;
  void Launch(Server& s);
  std::string Describe(int id) const;  // "server 2 (127.a.b.c:2181)"

  ZkEnsembleOptions options_;
  std::unique_ptr<TempDir> temp_;
  std::string dir_;
  std::string super_user_ = "super";
  std::string super_digest_id_;
  std::map<int, Server> servers_;
};

}  // namespace zkop::testing
