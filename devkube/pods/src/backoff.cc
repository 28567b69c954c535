#include "zkop/devkube/pods/backoff.h"

#include <algorithm>

namespace zkop::devkube::pods {

CrashBackoff::Duration CrashBackoff::RecordExit(Duration ran) {
  if (current_ == Duration{0} || ran >= reset_after_) {
    current_ = base_;
  } else {
    current_ = std::min(current_ * 2, max_);
  }
  return current_;
}

}  // namespace zkop::devkube::pods
