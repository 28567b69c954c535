// Private to the pod_worker*.cc files, which together implement PodWorker (pod_worker.h): the
// Container record each of them reads and writes, and the small JSON and time helpers they
// share. Not an API; nothing else includes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "pod_worker.h"
#include "zkop/log/log.h"

namespace zkop::devkube::pods {

using web::json::value;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The runtime's logger, shared by the pod_worker*.cc files.
inline const log::Logger kLog("devkube.pods");

// The string at `key` of object `v`, or "" when absent or not a string.
inline std::string Str(const web::json::value& v, const std::string& key) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_string()) return "";
  return v.at(key).as_string();
}

// The value at `path` under `v`, or null when a step is missing.
inline web::json::value Path(const web::json::value& v, std::initializer_list<const char*> path) {
  web::json::value cur = v;
  for (const char* p : path) {
    if (!cur.is_object() || !cur.has_field(p)) return web::json::value::null();
    cur = cur.at(p);
  }
  return cur;
}

// The current UTC time in RFC 3339 (whole seconds), as the API writes it.
inline std::string Now3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// `v` as an integer, or `def` when it is not one.
inline int64_t IntOr(const web::json::value& v, int64_t def) {
  return v.is_integer() ? v.as_number().to_int64() : def;
}

// A JSON string.
inline web::json::value S(const std::string& s) { return web::json::value::string(s); }

// One container of the Pod (init or regular) and what the worker knows of its current run.
struct PodWorker::Container {
  std::string name;
  web::json::value spec;
  std::string image;
  const ImageEntry* entry = nullptr;
  int pid = 0;
  bool ever_started = false;
  bool ready = false;
  bool started = false;  // startup probe passed (or none)
  int restart_count = 0;
  std::chrono::steady_clock::time_point started_at;
  std::string started_at_wall;
  std::optional<ProbeTracker> readiness, liveness, startup;
  ProbeTarget probe_target;
  web::json::value state = web::json::value::object();       // the containerStatus "state"
  web::json::value last_state = web::json::value::object();  // "lastState"
  std::optional<int> last_exit;                              // exit code of the last run
  std::chrono::steady_clock::time_point next_start{};        // back-off: no start before this
  CrashBackoff backoff;
  bool killing = false;
  std::chrono::steady_clock::time_point kill_deadline{};
  bool completed = false;  // init containers: exited 0
  EnvList env_vars;        // the resolved env of the current run (hooks expand with it)
  std::vector<Mount> mounts;
  bool replace = false;  // the image changed: restart at once after the exit
  Container(const RuntimeOptions& o) : backoff(o.backoff_base, o.backoff_max, o.backoff_reset) {}
};

}  // namespace zkop::devkube::pods
