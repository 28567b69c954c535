// UniqueFd: owns a file descriptor and closes it on every path (-1 owns nothing).
// Not copyable; used where zkop reads from outside through raw descriptors (bounded file
// reads, four-letter-word sockets).
#pragma once

#include <unistd.h>

namespace zkop::config {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace zkop::config
