#include "zkop/operator/controller/controller.h"

#include <exception>
#include <optional>
#include <thread>

namespace zkop::op::controller {

namespace {

WorkQueueOptions WithHooks(WorkQueueOptions q, OperatorMetrics* metrics,
                           const std::atomic<HeapTrimmer*>* trimmer) {
  if (metrics) {
    q.on_add = [metrics] { metrics->IncQueueAdds(); };
    q.on_retry = [metrics] { metrics->IncQueueRetries(); };
    q.on_depth = [metrics](size_t depth) { metrics->SetQueueDepth(depth); };
  }
  q.on_idle = [trimmer] {
    if (HeapTrimmer* t = trimmer->load()) t->Settled();
  };
  return q;
}

const char* ResultName(ReconcileOutcome::Result r) {
  switch (r) {
    case ReconcileOutcome::Result::kSuccess:
      return "success";
    case ReconcileOutcome::Result::kRequeue:
      return "requeue";
    case ReconcileOutcome::Result::kError:
      return "error";
  }
  return "?";
}

// What the caches keep of each object (see ObjectCache): everything but metadata.managedFields
// (often the largest part of what a real API server sends) and a Pod's spec.
void DropUnreadFields(kube::Json& obj) {
  if (!obj.has_object_field("metadata")) return;
  kube::Json& metadata = obj.at("metadata");
  if (metadata.has_field("managedFields")) metadata.erase("managedFields");
}

void DropUnreadPodFields(kube::Json& obj) {
  DropUnreadFields(obj);
  if (obj.has_field("spec")) obj.erase("spec");
}

}  // namespace

std::vector<kube::ResourceRef> Controller::OwnedKinds() {
  namespace r = kube::resources;
  return {r::Pods(),     r::PersistentVolumeClaims(), r::ConfigMaps(), r::Secrets(),
          r::Services(), r::PodDisruptionBudgets()};
}

Controller::Controller(std::shared_ptr<kube::Client> client, ControllerOptions options,
                       OperatorMetrics* metrics)
    : client_(std::move(client)),
      options_(std::move(options)),
      metrics_(metrics),
      queue_(WithHooks(options_.queue, metrics, &trimmer_)) {
  if (options_.concurrency < 1) options_.concurrency = 1;
  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty()) namespaces.push_back("");
  for (const std::string& ns : namespaces) {
    kube::InformerOptions io = options_.informer;
    io.ns = ns;
    io.label_selector.clear();
    io.transform = DropUnreadFields;
    Watched cr{kube::resources::ZookeeperClusters(), ns, nullptr};
    cr.informer = std::make_unique<kube::Informer>(client_, cr.ref, io);
    cr.informer->AddHandlers(
        {.on_add =
             [this](const kube::Json& o) {
               Enqueue(KeysForClusterEvent(EventKind::kAdd, kube::Json::null(), o));
             },
         .on_update =
             [this](const kube::Json& o, const kube::Json& n) {
               Enqueue(KeysForClusterEvent(EventKind::kUpdate, o, n));
             },
         .on_delete =
             [this](const kube::Json& o) {
               Enqueue(KeysForClusterEvent(EventKind::kDelete, kube::Json::null(), o));
             }});
    watched_.push_back(std::move(cr));
    io.label_selector = options_.owned_selector;
    for (const kube::ResourceRef& ref : OwnedKinds()) {
      io.transform = ref.resource == "pods" ? DropUnreadPodFields : DropUnreadFields;
      Watched w{ref, ns, std::make_unique<kube::Informer>(client_, ref, io)};
      w.informer->AddHandlers(
          {.on_add =
               [this](const kube::Json& o) {
                 Enqueue(KeysForOwnedEvent(EventKind::kAdd, kube::Json::null(), o));
               },
           .on_update =
               [this](const kube::Json& o, const kube::Json& n) {
                 Enqueue(KeysForOwnedEvent(EventKind::kUpdate, o, n));
               },
           .on_delete =
               [this](const kube::Json& o) {
                 Enqueue(KeysForOwnedEvent(EventKind::kDelete, kube::Json::null(), o));
               }});
      watched_.push_back(std::move(w));
    }
  }
}

Controller::~Controller() { StopInformers(); }

void Controller::StartInformers() {
  if (started_.exchange(true)) return;
  for (Watched& w : watched_) w.informer->Start();
  log_.Info("informers started", {{"namespaces", options_.namespaces.empty()
                                                     ? std::string("(all)")
                                                     : std::to_string(options_.namespaces.size())},
                                  {"informers", static_cast<unsigned long>(watched_.size())}});
}

void Controller::StopInformers() {
  for (Watched& w : watched_) w.informer->Stop();
}

bool Controller::HasSynced() const {
  for (const Watched& w : watched_) {
    if (!w.informer->HasSynced()) return false;
  }
  return true;
}

bool Controller::WaitForSync(std::stop_token stop) const {
  for (const Watched& w : watched_) {
    while (!w.informer->WaitForSync(std::chrono::milliseconds(100))) {
      if (stop.stop_requested()) return false;
    }
  }
  return !stop.stop_requested();
}

void Controller::Enqueue(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) queue_.Add(key);
}

void Controller::RunWorkers(Reconciler& reconciler, std::stop_token stop) {
  std::stop_callback shut(stop, [this] { queue_.ShutDown(); });
  std::optional<HeapTrimmer> trimmer;
  if (options_.heap_trim_interval.count() > 0) {
    trimmer.emplace(options_.heap_trim_interval);
    trimmer_ = &*trimmer;
  }
  log_.Info("workers starting", {{"concurrency", options_.concurrency}});
  std::vector<std::thread> workers;
  for (int i = 0; i < options_.concurrency; ++i) {
    workers.emplace_back([this, &reconciler, stop] { Worker(reconciler, stop); });
  }
  for (std::thread& t : workers) t.join();
  trimmer_ = nullptr;  // no worker calls the idle hook any more
  log_.Info("workers stopped");
}

void Controller::Worker(Reconciler& reconciler, std::stop_token stop) {
  while (std::optional<std::string> key = queue_.Get()) {
    ProcessOne(reconciler, *key, stop);
    queue_.Done(*key);
  }
}

void Controller::ProcessOne(Reconciler& reconciler, const std::string& key,
                            const std::stop_token& stop) {
  size_t slash = key.find('/');
  ReconcileRequest request{key.substr(0, slash),
                           slash == std::string::npos ? std::string() : key.substr(slash + 1)};
  auto start = std::chrono::steady_clock::now();
  ReconcileOutcome outcome;
  try {
    outcome = reconciler.Reconcile(request, stop);
  } catch (const std::exception& e) {
    outcome = ReconcileOutcome::Failed(std::string("reconcile threw: ") + e.what());
  } catch (...) {
    outcome = ReconcileOutcome::Failed("reconcile threw a non-exception");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (metrics_) metrics_->ObserveReconcile(outcome.result, seconds);
  log_.Debug("reconciled",
             {{"cluster", key}, {"result", ResultName(outcome.result)}, {"seconds", seconds}});
  switch (outcome.result) {
    case ReconcileOutcome::Result::kSuccess:
      queue_.Forget(key);
      break;
    case ReconcileOutcome::Result::kRequeue:
      queue_.Forget(key);
      queue_.AddAfter(key, std::min(outcome.requeue_after, options_.requeue_cap));
      break;
    case ReconcileOutcome::Result::kError:
      log_.Warn("reconcile failed; retrying with backoff",
                {{"cluster", key}, {"error", outcome.error}, {"retries", queue_.NumRequeues(key)}});
      queue_.AddRateLimited(key);
      break;
  }
}

std::vector<const kube::Informer*> Controller::InformersFor(const kube::ResourceRef& ref,
                                                            const std::string& ns) const {
  std::vector<const kube::Informer*> out;
  for (const Watched& w : watched_) {
    if (w.ref.group != ref.group || w.ref.resource != ref.resource) continue;
    if (w.ns.empty() || ns.empty() || w.ns == ns) out.push_back(w.informer.get());
  }
  return out;
}

std::optional<kube::Json> Controller::Get(const kube::ResourceRef& ref, const std::string& ns,
                                          const std::string& name) const {
  for (const kube::Informer* informer : InformersFor(ref, ns)) {
    if (std::optional<kube::Json> obj = informer->Get(ns, name)) return obj;
  }
  return std::nullopt;
}

std::vector<kube::Json> Controller::List(const kube::ResourceRef& ref, const std::string& ns,
                                         const kube::LabelSelector& selector) const {
  std::vector<kube::Json> out;
  for (const kube::Informer* informer : InformersFor(ref, ns)) {
    for (kube::Json& obj : informer->ListByLabels(selector, ns)) out.push_back(std::move(obj));
  }
  return out;
}

void Controller::ForEach(const kube::ResourceRef& ref, const std::string& ns,
                         const kube::LabelSelector& selector,
                         const std::function<void(const kube::Json&)>& fn) const {
  for (const kube::Informer* informer : InformersFor(ref, ns)) {
    informer->ForEachByLabels(selector, ns, fn);
  }
}

}  // namespace zkop::op::controller
