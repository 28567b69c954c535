#include "zkop/operator/controller/manager.h"

#include <unistd.h>

#include <random>
#include <thread>

#include "zkop/version.h"

namespace zkop::op {

std::string DefaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "zkop-operator");
  }
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(rd()));
  return std::string(host) + "_" + suffix;
}

Manager::Manager(ManagerOptions options, std::shared_ptr<kube::Transport> transport,
                 ReconcilerFactory factory)
    : options_(std::move(options)) {
  identity_ = options_.leader_election.identity.empty() ? DefaultIdentity()
                                                        : options_.leader_election.identity;
  metrics_ = std::make_unique<OperatorMetrics>(options_.version.empty() ? std::string(kVersion)
                                                                        : options_.version);
  client_ = std::make_shared<kube::Client>(MeteredTransport(std::move(transport), metrics_.get()),
                                           options_.default_namespace, options_.client);
  controller_ =
      std::make_unique<controller::Controller>(client_, options_.controller, metrics_.get());
  if (options_.leader_election.enabled) {
    const LeaderElectionOptions& le = options_.leader_election;
    kube::LeaderElectionConfig cfg;
    cfg.lease_namespace = le.lease_namespace;
    cfg.lease_name = le.lease_name;
    cfg.identity = identity_;
    cfg.lease_duration = le.lease_duration;
    cfg.renew_deadline = le.renew_deadline;
    cfg.retry_period = le.retry_period;
    cfg.release_on_cancel = true;
    cfg.on_started_leading = [this](std::stop_token stop) {
      led_ = true;
      log_.Info("leading", {{"identity", identity_}});
      Lead(stop);
    };
    cfg.on_stopped_leading = [this] { log_.Info("stopped leading", {{"identity", identity_}}); };
    cfg.on_new_leader = [this](const std::string& holder) {
      log_.Info("leader observed", {{"leader", holder.empty() ? "(none)" : holder},
                                    {"lease", options_.leader_election.lease_namespace + "/" +
                                                  options_.leader_election.lease_name}});
    };
    elector_ = std::make_unique<kube::LeaderElector>(client_, std::move(cfg));  // validates
  }
  if (!options_.metrics_address.empty()) {
    health_ = std::make_unique<http::HealthServer>(options_.metrics_address, metrics_->registry());
    health_->SetLive(true);
    health_->SetReady(false, "informers not synced");
  }
  std::string host = identity_.substr(0, identity_.rfind('_'));
  deps_.client = client_;
  deps_.cache = controller_.get();
  deps_.recorder = std::make_shared<kube::EventRecorder>(client_, "zkop-operator", host);
  deps_.metrics = metrics_.get();
  deps_.cluster_domain = options_.cluster_domain;
  deps_.step_delay = options_.step_delay;
  deps_.leading = [this] { return leading_.load(); };
  deps_.add_collectable = [this](std::shared_ptr<prometheus::Collectable> collectable) {
    if (health_) health_->AddCollectable(std::move(collectable));
  };
  reconciler_ = factory(deps_);
  if (!reconciler_) throw std::invalid_argument("the reconciler factory returned null");
}

Manager::~Manager() {
  controller_->StopInformers();
  health_.reset();
}

uint16_t Manager::metrics_port() const { return health_ ? health_->port() : 0; }

void Manager::Lead(std::stop_token stop) {
  leading_ = true;
  metrics_->SetLeader(true);
  if (controller_->WaitForSync(stop)) controller_->RunWorkers(*reconciler_, stop);
  metrics_->SetLeader(false);
  leading_ = false;
}

int Manager::Run(std::stop_token stop) {
  log_.Info("starting", {{"version", kVersion},
                         {"identity", identity_},
                         {"leader_election", options_.leader_election.enabled},
                         {"metrics", options_.metrics_address}});
  controller_->StartInformers();
  std::jthread sync_watch([this](std::stop_token t) {
    if (!controller_->WaitForSync(t)) return;
    ready_ = true;
    if (health_) health_->SetReady(true);
    log_.Info("caches synced");
  });
  int code = 0;
  if (!elector_) {
    Lead(stop);
  } else {
    elector_->Run(stop);
    if (led_ && !stop.stop_requested()) {
      log_.Error("leadership lost; exiting so a fresh process campaigns again",
                 {{"identity", identity_}});
      code = 1;
    }
  }
  if (health_) health_->SetReady(false, "shutting down");
  ready_ = false;
  sync_watch.request_stop();
  sync_watch.join();
  controller_->StopInformers();
  log_.Info("stopped", {{"identity", identity_}});
  return code;
}

}  // namespace zkop::op
