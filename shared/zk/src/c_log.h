// Routing of the C client's own log lines into zkop::log (component "zk.c"), and pacing of
// its reconnect loop when every server refuses connections.
// Internal to shared/zk.
#pragma once

#include "zkop/log/log.h"

namespace zkop::zk::internal {

// Sets the C client's global level and stream once per process (idempotent, thread-safe).
void InitCLogOnce();
void SetCLogLevel(log::Level level);
// The per-handle callback for zookeeper_init2.
void CLogCallback(const char* message);

}  // namespace zkop::zk::internal
