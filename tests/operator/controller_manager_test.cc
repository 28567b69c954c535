// The controller machinery against the devkube emulator with a fake Reconciler: which events
// reconcile which key, per-key serialization, retries with backoff, requeue delays.
#include <prometheus/text_serializer.h>

#include <map>

#include "controller_test_env.h"

namespace zkop::op::testing {
namespace {

std::string Scrape(Manager& m) {
  return prometheus::TextSerializer().Serialize(m.metrics().registry()->Collect());
}

class ControllerManagerTest : public OperatorEnv {};

TEST_F(ControllerManagerTest, ClusterEventsAndOwnedChangesReconcileTheClusterKey) {
  auto run = Start(Options());
  ASSERT_TRUE(WaitUntil([&] { return run->manager->Ready(); }, 20s));
  FakeReconciler& fake = *run->reconciler;
  const std::string key = "default/demo";

  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return fake.Count(key) >= 1; }, 10s)) << "create";
  ObjectCache& cache = *run->manager->deps().cache;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return cache.Get(kube::resources::ZookeeperClusters(), "default", "demo").has_value();
      },
      5s));

  // Status-only writes (what the reconciler itself does) must not come back as work.
  int before = fake.Count(key);
  Patch(kube::resources::ZookeeperClusters(), "demo", R"({"status":{"readyReplicas":1}})", true);
  Patch(kube::resources::ZookeeperClusters(), "demo", R"({"status":{"readyReplicas":2}})", true);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto cr = cache.Get(kube::resources::ZookeeperClusters(), "default", "demo");
        // The cache may still hold the object from before the first status write.
        return cr && cr->has_field("status") && cr->at("status").has_field("readyReplicas") &&
               cr->at("status").at("readyReplicas").as_integer() == 2;
      },
      5s))
      << "the informer saw the status writes";
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(fake.Count(key), before) << "a status-only change was reconciled";

  Patch(kube::resources::ZookeeperClusters(), "demo", R"({"spec":{"replicas":5}})");
  ASSERT_TRUE(WaitUntil([&] { return fake.Count(key) > before; }, 10s)) << "spec update";

  // An owned ConfigMap: created, then changed.
  before = fake.Count(key);
  Json cm = ConfigMap("demo-config", {{"app.kubernetes.io/managed-by", "zkop"},
                                      {"app.kubernetes.io/instance", "demo"}});
  ASSERT_TRUE(client_->Create(kube::resources::ConfigMaps(), "default", cm).ok());
  ASSERT_TRUE(WaitUntil([&] { return fake.Count(key) > before; }, 10s)) << "owned create";
  before = fake.Count(key);
  Patch(kube::resources::ConfigMaps(), "demo-config", R"({"data":{"zoo.cfg":"tickTime=2000"}})");
  ASSERT_TRUE(WaitUntil([&] { return fake.Count(key) > before; }, 10s)) << "owned change";
  auto selector = kube::LabelSelector::Parse("app.kubernetes.io/instance=demo");
  ASSERT_TRUE(selector);
  EXPECT_EQ(cache.List(kube::resources::ConfigMaps(), "default", *selector).size(), 1u);
  EXPECT_EQ(cache.List(kube::resources::ConfigMaps(), "", *selector).size(), 1u);

  // A ConfigMap without the managed-by label is not watched at all.
  before = fake.Count(key);
  ASSERT_TRUE(client_
                  ->Create(kube::resources::ConfigMaps(), "default",
                           ConfigMap("stray", {{"app.kubernetes.io/instance", "demo"}}))
                  .ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(fake.Count(key), before);
  EXPECT_FALSE(cache.Get(kube::resources::ConfigMaps(), "default", "stray").has_value());

  before = fake.Count(key);
  ASSERT_TRUE(client_->Delete(kube::resources::ZookeeperClusters(), "default", "demo").ok());
  ASSERT_TRUE(WaitUntil([&] { return fake.Count(key) > before; }, 10s)) << "delete";
  EXPECT_FALSE(cache.Get(kube::resources::ZookeeperClusters(), "default", "demo").has_value());

  run->Stop();
  EXPECT_EQ(run->exit_code, 0);
  std::string text = Scrape(*run->manager);
  EXPECT_NE(text.find("zkop_operator_api_requests_total{code=\"200\",verb=\"list\"}"),
            std::string::npos)
      << "the informers' requests are counted\n"
      << text;
  EXPECT_NE(text.find("zkop_operator_api_requests_total{code=\"200\",verb=\"watch\"}"),
            std::string::npos);
}

TEST_F(ControllerManagerTest, AKeyIsNeverReconciledTwiceAtOnceUnderConcurrency4) {
  std::mutex mu;
  std::map<std::string, int> in_flight;
  int total = 0, max_total = 0;
  std::atomic<bool> overlap{false};
  ManagerOptions options = Options();
  options.controller.concurrency = 4;
  auto run = Start(options, [&](const ReconcileRequest& r, std::stop_token) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (++in_flight[r.Key()] > 1) overlap = true;
      max_total = std::max(max_total, ++total);
    }
    // Give other keys the chance to run beside this one (proof that keys run in parallel).
    WaitUntil(
        [&] {
          std::lock_guard<std::mutex> lock(mu);
          return max_total >= 2;
        },
        2s);
    std::this_thread::sleep_for(20ms);
    std::lock_guard<std::mutex> lock(mu);
    --in_flight[r.Key()];
    --total;
    return ReconcileOutcome::Done();
  });
  ASSERT_TRUE(WaitUntil([&] { return run->manager->Ready(); }, 20s));
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  for (const auto& n : names) CreateCluster(n);
  for (int round = 0; round < 5; ++round) {
    for (const auto& n : names) {
      Patch(kube::resources::ZookeeperClusters(), n,
            R"({"metadata":{"annotations":{"round":")" + std::to_string(round) + R"("}}})");
    }
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const auto& n : names) {
          if (run->reconciler->Count("default/" + n) < 2) return false;
        }
        return true;
      },
      30s));
  run->Stop();
  EXPECT_FALSE(overlap) << "one key was reconciled by two workers at once";
  EXPECT_GE(max_total, 2) << "different keys did not run in parallel";
}

TEST_F(ControllerManagerTest, AnErrorIsRetriedWithExponentialBackoff) {
  std::atomic<int> attempts{0};
  auto run = Start(Options(), [&](const ReconcileRequest&, std::stop_token) {
    return ++attempts <= 4 ? ReconcileOutcome::Failed("injected failure")
                           : ReconcileOutcome::Done();
  });
  ASSERT_TRUE(WaitUntil([&] { return run->manager->Ready(); }, 20s));
  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return run->reconciler->Count("default/demo") >= 5; }, 20s));
  std::this_thread::sleep_for(300ms);  // a success is not retried
  std::vector<FakeReconciler::Call> calls = run->reconciler->Calls();
  ASSERT_EQ(calls.size(), 5u);
  // 5 ms doubling: each retry waits at least its delay after the failure (lower bounds only).
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(calls[i + 1].start - calls[i].end, std::chrono::milliseconds(5 << i))
        << "retry " << i;
  }
  std::string text = Scrape(*run->manager);
  EXPECT_NE(text.find("zkop_operator_workqueue_retries_total 4"), std::string::npos) << text;
  EXPECT_NE(text.find("zkop_operator_reconcile_total{result=\"error\"} 4"), std::string::npos);
  EXPECT_NE(text.find("zkop_operator_reconcile_total{result=\"success\"} 1"), std::string::npos);
  run->Stop();
}

TEST_F(ControllerManagerTest, RequeueAfterIsHonouredAndCapped) {
  std::atomic<int> attempts{0};
  ManagerOptions options = Options();
  options.controller.requeue_cap = 300ms;
  auto run = Start(options, [&](const ReconcileRequest&, std::stop_token) {
    int n = ++attempts;
    if (n == 1) return ReconcileOutcome::RequeueAfter(150ms);
    if (n == 2) return ReconcileOutcome::RequeueAfter(std::chrono::hours(1));  // capped
    return ReconcileOutcome::Done();
  });
  ASSERT_TRUE(WaitUntil([&] { return run->manager->Ready(); }, 20s));
  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return run->reconciler->Count("default/demo") >= 3; }, 20s));
  std::vector<FakeReconciler::Call> calls = run->reconciler->Calls();
  EXPECT_GE(calls[1].start - calls[0].end, 150ms);
  EXPECT_GE(calls[2].start - calls[1].end, 300ms);
  EXPECT_NE(Scrape(*run->manager).find("zkop_operator_reconcile_total{result=\"requeue\"} 2"),
            std::string::npos);
  run->Stop();
}

TEST_F(ControllerManagerTest, StopLetsTheInFlightReconcileFinish) {
  std::atomic<bool> entered{false}, saw_stop{false}, finished{false};
  auto run = Start(Options(), [&](const ReconcileRequest&, std::stop_token stop) {
    entered = true;
    while (!stop.stop_requested()) std::this_thread::sleep_for(5ms);
    saw_stop = true;
    std::this_thread::sleep_for(100ms);  // "finishing the current step"
    finished = true;
    return ReconcileOutcome::Done();
  });
  CreateCluster("demo");
  ASSERT_TRUE(WaitUntil([&] { return entered.load(); }, 20s));
  run->Stop();
  EXPECT_TRUE(saw_stop);
  EXPECT_TRUE(finished) << "Run returned before the in-flight reconcile did";
  EXPECT_EQ(run->exit_code, 0);
}

}  // namespace
}  // namespace zkop::op::testing
