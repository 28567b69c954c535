// ZooKeeper's dynamic membership configuration, as returned by getConfig (the data of
// /zookeeper/config), by reconfig, by the "conf" four-letter word (its "membership:" part)
// and as written in a dynamicConfigFile:
//
//   server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181
//   server.2=demo-2.demo-headless:2888:3888;2181
//   version=100000000
//
// Parsing is pure, never throws, and names the offending line on error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zkop/zk/status.h"

namespace zkop::zk {

struct Member {
  int id = 0;
  std::string host;  // quorum/election host
  int quorum_port = 0;
  int election_port = 0;
  std::string role = "participant";  // "participant" or "observer"
  std::string client_host;           // empty when the line has no client address
  int client_port = 0;               // 0 when the line has no client address

  // "server.<id>=<host>:<q>:<e>:<role>;<client_host>:<client_port>": the form reconfig's
  // joining list and dynamicConfigFile expect.
  std::string ServerLine() const;
  // "<client_host>:<client_port>" ("" without a client address).
  std::string ClientAddress() const;
  bool operator==(const Member&) const = default;
};

struct EnsembleConfig {
  std::vector<Member> members;  // sorted by id
  int64_t version = -1;         // "version=" (hex) or -1 when absent

  const Member* Find(int id) const;
  // Comma-separated client addresses of all members with one: a connect string.
  std::string ConnectString() const;
};

// Accepts the formats above; ignores blank lines and "membership:" headers; fails with
// kParseError naming line and expectation ("line 2: expected server.<id>=host:port:port...").
Status ParseEnsembleConfig(std::string_view text, EnsembleConfig* out);

}  // namespace zkop::zk
