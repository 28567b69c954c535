// Ending a live session from outside, for session-expiry tests.
#pragma once

#include <chrono>
#include <string>

#include "wait.h"
#include "zkop/zk/client.h"

namespace zkop::zk::testing {

// Ends `victim`'s current session the way the ensemble ends an expired one, and waits until
// `victim` has a new session. Returns false when that did not happen within `timeout`.
//
// ZooKeeper has no "expire this session" request. A second handle that resumes the session
// (same id and password) and closes it ends it for every handle, but only when that handle
// is connected at the moment it closes: the C client sends closeSession only while
// connected (zookeeper_close). Two handles on one session knock each other off: when one
// connects with the session, that server drops the other's connection there (errno 112 in
// the C client's log), and the dropped handle reconnects at once, possibly to the other's
// server. A thief closed while knocked off leaves the session alive with the victim, which
// rightly keeps it (seen about once in 20 runs under load). So: take over and close, again,
// until the victim's session changes.
inline bool ExpireSession(const Client& victim, const std::string& connect,
                          std::chrono::milliseconds timeout) {
  const int64_t old_session = victim.session_id();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    SessionCredentials session = victim.session();
    if (session.id != old_session) return true;
    {
      ClientOptions o;
      o.connect = connect;
      o.session_timeout = std::chrono::seconds(6);
      o.resume = session;
      o.name = "thief";
      Client thief(o);
      // Connected with the victim's session, or, when that session is already gone, with a
      // new one of its own: closing ends either.
      (void)thief.Connect(std::chrono::seconds(10));
    }
    if (Eventually([&] { return victim.session_id() != old_session; }, std::chrono::seconds(3))) {
      return true;
    }
  }
  return victim.session_id() != old_session;
}

}  // namespace zkop::zk::testing
