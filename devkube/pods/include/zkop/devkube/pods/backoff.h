// Crash-loop back-off for container restarts, as the kubelet does it: the delay before a
// restart starts at `base` and doubles after every crash up to `max`; a container that ran
// for at least `reset_after` before it exited starts again from `base`.
//
// Contract: a plain value, not thread-safe; never throws.
#pragma once

#include <chrono>

namespace zkop::devkube::pods {

class CrashBackoff {
 public:
  using Duration = std::chrono::milliseconds;
  CrashBackoff(Duration base, Duration max, Duration reset_after)
      : base_(base), max_(max), reset_after_(reset_after) {}

  // Records an exit after a run of `ran` and answers how long to wait before the restart.
  Duration RecordExit(Duration ran);
  // The delay the last RecordExit answered (0 before any exit).
  Duration current() const { return current_; }

 private:
  Duration base_;
  Duration max_;
  Duration reset_after_;
  Duration current_{0};
};

}  // namespace zkop::devkube::pods
