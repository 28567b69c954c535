// Stopping a Pod's containers: the grace period, the kubelet's order for a deleted Pod
// (preStop hook, then SIGTERM, each container on its own; SIGKILL at the deadline), the
// runtime's own stop (SIGTERM to all, SIGKILL at its deadline), and the end of a deleted
// Pod (endpoint, volumes, the deletion confirmed to the API).
#include "pod_worker_internal.h"

#include <signal.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "zkop/devkube/pods/volumes.h"
#include "zkop/log/log.h"

namespace zkop::devkube::pods {
int64_t PodWorker::GracePeriod() const {
  std::lock_guard lock(mu_);
  return IntOr(Path(pod_, {"spec", "terminationGracePeriodSeconds"}), 30);
}

void PodWorker::KillAll(Clock::time_point deadline, bool send_term) {
  if (send_term) {
    for (Container* c : AllContainers()) {
      if (c->pid) host_.launcher().Signal(c->pid, SIGTERM);
    }
  }
  bool killed = false;
  while (true) {
    bool running = false;
    for (Container* c : AllContainers()) {
      if (!c->pid) continue;
      if (auto exit = host_.launcher().Poll(c->pid)) {
        c->state = value::object();
        c->state["terminated"] = Terminated(*c, *exit);
        c->pid = 0;
        c->ready = false;
      } else {
        running = true;
      }
    }
    if (!running) return;
    {
      // A runtime that is stopping does not wait out a long grace period.
      std::lock_guard lock(mu_);
      if (stop_) deadline = std::min(deadline, stop_deadline_);
    }
    if (!killed && Clock::now() >= deadline) {
      for (Container* c : AllContainers()) {
        if (c->pid) host_.launcher().Signal(c->pid, SIGKILL);
      }
      killed = true;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

void PodWorker::StopContainers(Clock::time_point deadline) {
  // One entry per container whose preStop hook is under way: an exec hook's process, or the
  // end of a sleep hook.
  struct Pending {
    Container* c;
    int hook_pid = 0;
    Clock::time_point sleep_until{};
  };
  std::vector<Pending> pending;
  for (Container* c : AllContainers()) {
    if (!c->pid) continue;
    Pending p{c};
    const value sleep = Path(c->spec, {"lifecycle", "preStop", "sleep", "seconds"});
    if (sleep.is_integer()) {
      p.sleep_until = std::min(deadline, Clock::now() + seconds(sleep.as_number().to_int64()));
    } else if (auto hook = HookSpec(*c, "preStop")) {
      std::string error;
      if (auto pid = host_.launcher().Start(*hook, &error)) {
        p.hook_pid = *pid;
      } else {
        kLog.Warn("preStop hook failed",
                  {{"pod", ns_ + "/" + name_}, {"container", c->name}, {"error", error}});
      }
    }
    if (p.hook_pid || p.sleep_until != Clock::time_point{}) {
      pending.push_back(p);
    } else {
      host_.launcher().Signal(c->pid, SIGTERM);
    }
  }
  while (!pending.empty()) {
    {
      std::lock_guard lock(mu_);
      if (stop_) deadline = std::min(deadline, stop_deadline_);
    }
    const bool late = Clock::now() >= deadline;
    for (auto it = pending.begin(); it != pending.end();) {
      bool done = Clock::now() >= it->sleep_until;
      if (it->hook_pid) {
        std::optional<ExitStatus> exit = host_.launcher().Poll(it->hook_pid);
        if (!exit && late) {
          host_.launcher().Signal(it->hook_pid, SIGKILL);
          while (!(exit = host_.launcher().Poll(it->hook_pid))) {
            std::this_thread::sleep_for(milliseconds(1));
          }
          kLog.Warn("preStop hook failed", {{"pod", ns_ + "/" + name_},
                                            {"container", it->c->name},
                                            {"error", "the grace period ended first"}});
        } else if (exit && exit->exit_code != 0) {
          kLog.Warn("preStop hook failed", {{"pod", ns_ + "/" + name_},
                                            {"container", it->c->name},
                                            {"error", "exit " + std::to_string(exit->exit_code)}});
        }
        done = exit.has_value();
      }
      if (done) {
        if (it->c->pid) host_.launcher().Signal(it->c->pid, SIGTERM);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (!pending.empty()) std::this_thread::sleep_for(milliseconds(10));
  }
  KillAll(deadline, /*send_term=*/false);
}

void PodWorker::Terminate(bool gone) {
  value grace_v;
  {
    std::lock_guard lock(mu_);
    grace_v = Path(pod_, {"metadata", "deletionGracePeriodSeconds"});
    if (!grace_v.is_integer()) grace_v = Path(pod_, {"spec", "terminationGracePeriodSeconds"});
  }
  StopContainers(Clock::now() + seconds(IntOr(grace_v, 30)));
  if (!gone) PublishStatus();
  host_.RemoveEndpoint(uid_);
  std::string error;
  RemoveTree(pod_dir_ + "/volumes", &error);
  if (!gone) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (host_.cluster().ConfirmPodDeletion(ns_, name_, uid_, &error)) break;
      kLog.Warn("cannot confirm pod deletion", {{"pod", ns_ + "/" + name_}, {"error", error}});
      std::this_thread::sleep_for(milliseconds(200));
    }
  }
  kLog.Info("pod terminated", {{"pod", ns_ + "/" + name_}});
}

}  // namespace zkop::devkube::pods
