// ZooKeeper four-letter words ("ruok", "srvr", "mntr", "conf", "stat", ...) over a plain
// TCP socket, and parsers for their answers.
//
// Contract:
//  - FourLetterWord connects to `host:port` (an IPv4/IPv6 literal or a resolvable name),
//    sends the word, reads until the server closes, and returns within `timeout` in every
//    case (connect, write and read share the deadline). Errors name the address: kIoError
//    ("127.0.0.5:2181: connection refused"), kOperationTimeout. Thread-safe; blocking.
//  - The server must whitelist the word (4lw.commands.whitelist); a refused word comes back
//    as kNoAuth with the server's text ("... is not executed because it is not in the
//    whitelist.").
//  - Parsers are pure and never throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "zkop/zk/status.h"

namespace zkop::zk {

struct FourLetterResult {
  Status status;
  std::string text;  // the raw answer when status.ok()
};
FourLetterResult FourLetterWord(std::string_view host_port, std::string_view word,
                                std::chrono::milliseconds timeout);

// True when `host_port` answers "ruok" with "imok" within `timeout`.
bool IsServing(std::string_view host_port, std::chrono::milliseconds timeout);

enum class ServerMode { kUnknown, kLeader, kFollower, kObserver, kStandalone, kReadOnly };
std::string_view ServerModeName(ServerMode m);
ServerMode ParseServerMode(std::string_view s);  // "leader", "follower", ...

// The parts of "srvr" (and "stat") that zkop uses.
struct ServerInfo {
  ServerMode mode = ServerMode::kUnknown;
  std::string version;  // "3.8.0-..., built on ..."
  int64_t zxid = -1;    // last zxid; -1 when absent
  int64_t connections = -1;
  int64_t outstanding = -1;
  int64_t node_count = -1;
};
// Fails with kParseError when the answer has no "Mode:" line (for example "This ZooKeeper
// instance is not currently serving requests").
Status ParseSrvr(std::string_view text, ServerInfo* out);

// "mntr": tab-separated key/value lines ("zk_server_state\tleader"). Lines without a tab
// are skipped.
std::map<std::string, std::string> ParseMntr(std::string_view text);

// srvr + parse in one call.
Status QueryServer(std::string_view host_port, std::chrono::milliseconds timeout, ServerInfo* out);

}  // namespace zkop::zk
