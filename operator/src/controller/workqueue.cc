#include "zkop/operator/controller/workqueue.h"

#include <algorithm>
#include <cmath>

namespace zkop::op::controller {

std::chrono::milliseconds ExponentialFailureRateLimiter::When(const std::string& key) {
  int exp = failures_[key]++;
  // base * 2^exp, computed in double so a long failure streak cannot overflow.
  double ms = static_cast<double>(base_.count()) * std::pow(2.0, std::min(exp, 62));
  if (ms >= static_cast<double>(max_.count())) return max_;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

int ExponentialFailureRateLimiter::NumRequeues(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue(WorkQueueOptions options)
    : options_(std::move(options)),
      failures_(options_.backoff_base, options_.backoff_max),
      bucket_(options_.qps, options_.burst) {
  if (!options_.now) options_.now = [] { return Clock::now(); };
}

void WorkQueue::Report(std::optional<size_t> depth, int added) {
  for (int i = 0; i < added; ++i) {
    if (options_.on_add) options_.on_add();
  }
  if (depth && options_.on_depth) options_.on_depth(*depth);
}

std::optional<size_t> WorkQueue::AddLocked(const std::string& key, bool* added) {
  *added = false;
  if (shutting_down_ || dirty_.count(key)) return std::nullopt;
  dirty_.insert(key);
  *added = true;
  if (processing_.count(key)) return std::nullopt;  // Done queues it again
  queue_.push_back(key);
  cv_.notify_one();
  return queue_.size();
}

void WorkQueue::Add(const std::string& key) {
  std::optional<size_t> depth;
  bool added = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    depth = AddLocked(key, &added);
  }
  Report(depth, added ? 1 : 0);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay <= std::chrono::milliseconds::zero()) {
    Add(key);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  Clock::time_point at = options_.now() + delay;
  auto it = waiting_at_.find(key);
  if (it != waiting_at_.end()) {
    if (it->second <= at) return;  // an earlier AddAfter wins
    waiting_.erase({it->second, key});
    it->second = at;
  } else {
    waiting_at_.emplace(key, at);
  }
  waiting_.insert({at, key});
  cv_.notify_all();  // a blocked Get may have to wake earlier now
}

void WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    std::chrono::milliseconds item = failures_.When(key);
    auto overall = std::chrono::ceil<std::chrono::milliseconds>(bucket_.Reserve(options_.now()));
    delay = std::max(item, overall);
  }
  if (options_.on_retry) options_.on_retry();
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.Forget(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_.NumRequeues(key);
}

std::optional<size_t> WorkQueue::PromoteDueLocked(Clock::time_point now, int* added) {
  std::optional<size_t> depth;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waiting_at_.erase(key);
    bool one = false;
    std::optional<size_t> d = AddLocked(key, &one);
    if (one) ++*added;
    if (d) depth = d;
  }
  return depth;
}

std::optional<std::string> WorkQueue::PopLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    int added = 0;
    std::optional<size_t> depth = PromoteDueLocked(options_.now(), &added);
    std::optional<std::string> key = PopLocked();
    if (key || added) {
      size_t now_depth = queue_.size();
      lock.unlock();
      Report(key ? std::optional<size_t>(now_depth) : depth, added);
      if (key) return key;
      lock.lock();
      continue;
    }
    if (waiting_.empty()) {
      cv_.wait(lock);
    } else {
      auto wait = waiting_.begin()->first - options_.now();
      wait =
          std::clamp<Clock::duration>(wait, std::chrono::milliseconds(1), std::chrono::seconds(1));
      cv_.wait_for(lock, wait);
    }
  }
}

std::optional<std::string> WorkQueue::TryGet() {
  std::optional<std::string> key;
  int added = 0;
  size_t depth;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked(options_.now(), &added);
    key = PopLocked();
    depth = queue_.size();
  }
  Report(depth, added);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::optional<size_t> depth;
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    processing_.erase(key);
    if (dirty_.count(key) && !shutting_down_) {
      queue_.push_back(key);
      cv_.notify_one();
      depth = queue_.size();
    }
    idle = !shutting_down_ && queue_.empty() && processing_.empty();
  }
  Report(depth, 0);
  if (idle && options_.on_idle) options_.on_idle();
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    queue_.clear();
    dirty_.clear();
    waiting_.clear();
    waiting_at_.clear();
  }
  cv_.notify_all();
  Report(size_t{0}, 0);
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t WorkQueue::WaitingLen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

}  // namespace zkop::op::controller
