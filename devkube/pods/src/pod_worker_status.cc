// What PodWorker publishes: the Pod's status (phase, conditions, addresses, each
// container's state as containerStatuses) patched to the API when it changes, and the Pod's
// DNS identity (endpoint) handed to the runtime.
#include "pod_worker_internal.h"

#include <string>
#include <vector>

#include "zkop/log/log.h"

namespace zkop::devkube::pods {
void PodWorker::SetWaiting(Container& c, std::string reason, std::string message) {
  value waiting = value::object();
  waiting["reason"] = S(reason);
  if (!message.empty()) waiting["message"] = S(message);
  c.state = value::object();
  c.state["waiting"] = waiting;
}

void PodWorker::PublishEndpoint() {
  PodEndpoint ep;
  ep.ns = ns_;
  ep.name = name_;
  const std::string hostname = Field({"spec", "hostname"});
  ep.hostname = hostname.empty() ? name_ : hostname;
  ep.subdomain = Field({"spec", "subdomain"});
  ep.ip = ip_;
  ep.ready = !containers_.empty();
  for (auto& c : containers_) ep.ready = ep.ready && c->ready;
  {
    std::lock_guard lock(mu_);
    const value labels = Path(pod_, {"metadata", "labels"});
    if (labels.is_object()) {
      for (const auto& [k, v] : labels.as_object()) {
        if (v.is_string()) ep.labels[k] = v.as_string();
      }
    }
  }
  if (endpoint_ && *endpoint_ == ep) return;
  endpoint_ = ep;
  host_.SetEndpoint(uid_, ep, hosts_file_);
}

value PodWorker::Terminated(const Container& c, const ExitStatus& exit) const {
  value term = value::object();
  term["exitCode"] = value::number(exit.exit_code);
  if (exit.signal) term["signal"] = value::number(exit.signal);
  term["reason"] = S(exit.exit_code == 0 ? "Completed" : "Error");
  term["startedAt"] = S(c.started_at_wall);
  term["finishedAt"] = S(Now3339());
  term["containerID"] = S("local://" + std::to_string(c.pid));
  return term;
}

value PodWorker::ContainerStatusJson(const Container& c) const {
  value cs = value::object();
  cs["name"] = S(c.name);
  cs["image"] = S(c.image);
  cs["imageID"] =
      S(c.entry ? "local://" + (c.entry->run_command ? c.image : c.entry->program) : "");
  if (c.ever_started) cs["containerID"] = S("local://" + std::to_string(c.pid));
  cs["ready"] = value::boolean(c.ready);
  cs["started"] = value::boolean(c.pid != 0 && c.started);
  cs["restartCount"] = value::number(c.restart_count);
  cs["state"] = c.state;
  cs["lastState"] = c.last_state;
  return cs;
}

value PodWorker::BuildStatus() {
  value st = value::object();
  std::vector<value> statuses, init_statuses;
  bool initialized = true;
  for (const auto& c : init_containers_) {
    init_statuses.push_back(ContainerStatusJson(*c));
    initialized = initialized && c->completed;
  }
  bool all_started = true, any_running = false, all_done = true, all_ok = true;
  bool all_ready = !containers_.empty();
  for (const auto& c : containers_) {
    statuses.push_back(ContainerStatusJson(*c));
    all_started = all_started && c->ever_started;
    any_running = any_running || c->pid != 0 || c->state.has_field("waiting");
    const bool done = c->pid == 0 && c->state.has_field("terminated");
    all_done = all_done && done;
    all_ok = all_ok && done && c->last_exit == 0;
    all_ready = all_ready && c->ready;
  }
  std::string phase = "Pending";
  if (init_failed_) {
    phase = "Failed";
  } else if (initialized && all_done && !containers_.empty()) {
    phase = all_ok ? "Succeeded" : "Failed";
  } else if (initialized && all_started && any_running) {
    phase = "Running";
  }
  st["phase"] = S(phase);
  auto condition = [&](const std::string& type, bool ok) {
    auto& [status, time] = conditions_[type];
    const std::string s = ok ? "True" : "False";
    if (status != s) {
      status = s;
      time = Now3339();
    }
    value c = value::object();
    c["type"] = S(type);
    c["status"] = S(s);
    c["lastProbeTime"] = value::null();
    c["lastTransitionTime"] = S(time);
    return c;
  };
  st["conditions"] =
      value::array({condition("PodScheduled", true), condition("Initialized", initialized),
                    condition("ContainersReady", all_ready), condition("Ready", all_ready)});
  st["hostIP"] = S(host_.options().host_ip);
  if (!ip_.empty()) {
    st["podIP"] = S(ip_);
    value ip = value::object();
    ip["ip"] = S(ip_);
    st["podIPs"] = value::array({ip});
  }
  st["startTime"] = S(start_time_);
  st["qosClass"] = S("BestEffort");
  if (!init_statuses.empty()) st["initContainerStatuses"] = value::array(init_statuses);
  st["containerStatuses"] = value::array(statuses);
  return st;
}

void PodWorker::PublishStatus() {
  const value st = BuildStatus();
  const std::string text = st.serialize();
  if (text == last_status_) return;
  std::string error;
  if (host_.cluster().PatchPodStatus(ns_, name_, st, &error)) {
    last_status_ = text;
  } else {
    kLog.Debug("cannot patch pod status", {{"pod", ns_ + "/" + name_}, {"error", error}});
  }
}

}  // namespace zkop::devkube::pods
