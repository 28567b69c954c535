// The informer against the devkube emulator: every change exactly once and in
// order across watch restarts, a relist after 410 Gone that delivers only the
// difference, resync, the store's lookups, and its deflated texts (round trips and size).
#include "zkop/kube/informer.h"

#include <gtest/gtest.h>

#include "kube_test_env.h"
#include "zkop/kube/dictionary_deflater.h"

namespace zkop::kube {
namespace {

using testing::KubeEnv;
const ResourceRef kCm = resources::ConfigMaps();

// Records handler calls as "ADD a", "UPDATE a", "DELETE a" (and the data value).
class Recorder {
 public:
  EventHandlers Handlers() {
    return {[this](const Json& o) { Add("ADD " + Describe(o)); },
            [this](const Json& old_obj, const Json& new_obj) {
              if (ResourceVersionOf(old_obj) == ResourceVersionOf(new_obj)) {
                resyncs_++;
                return;
              }
              Add("UPDATE " + Describe(new_obj));
            },
            [this](const Json& o) { Add("DELETE " + NameOf(o)); }};
  }
  std::vector<std::string> Calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Waits until `n` calls were recorded (or 10 s passed).
  std::vector<std::string> WaitFor(size_t n) const {
    for (int i = 0; i < 1000; ++i) {
      if (Calls().size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Calls();
  }
  int resyncs() const { return resyncs_; }

 private:
  static std::string Describe(const Json& o) {
    return NameOf(o) + "=" + o.at("data").at("k").as_string();
  }
  void Add(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(std::move(s));
  }
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  std::atomic<int> resyncs_{0};
};

// Waits (up to 10 s) until `done` holds.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// The stats' text_bytes is what the cached objects serialize to.
int64_t TextBytesOf(const std::vector<Json>& objects) {
  int64_t n = 0;
  for (const Json& obj : objects) n += static_cast<int64_t>(obj.serialize().size());
  return n;
}

class InformerTest : public KubeEnv {
 protected:
  InformerOptions Options() {
    InformerOptions o;
    o.ns = "default";
    o.watch_timeout = std::chrono::seconds(1);  // restarts the watch every 1-2 s
    o.backoff = {std::chrono::milliseconds(20), std::chrono::milliseconds(200), 2.0, 0.2};
    return o;
  }
  void Put(const std::string& name, const std::string& value,
           const std::map<std::string, std::string>& labels = {}) {
    ASSERT_TRUE(client_->Create(kCm, "", ConfigMap(name, labels, value)).ok());
  }
  void Set(const std::string& name, const std::string& value) {
    Json patch = Json::object();
    patch["data"]["k"] = Json::string(value);
    ASSERT_TRUE(client_->Patch(kCm, "", name, patch).ok());
  }
  void Del(const std::string& name) { ASSERT_TRUE(client_->Delete(kCm, "", name).ok()); }
  // A ConfigMap as the operator writes one per cluster (its zoo.cfg): near-identical across
  // clusters.
  static Json ClusterConfig(const std::string& cluster) {
    Json cm = ConfigMap(cluster + "-config", {{"app.kubernetes.io/instance", cluster},
                                              {"app.kubernetes.io/managed-by", "zkop"},
                                              {"app.kubernetes.io/name", "zookeeper"}});
    const std::string cfg =
        "4lw.commands.whitelist=srvr,mntr,conf,ruok\nadmin.enableServer=false\nclientPort=2181\n"
        "dataDir=/data\ndynamicConfigFile=/data/zoo.cfg.dynamic\ninitLimit=20\n"
        "reconfigEnabled=true\nstandaloneEnabled=false\nsyncLimit=10\ntickTime=500\n";
    std::string dynamic;
    for (int id = 1; id <= 3; ++id) {
      const std::string k = std::to_string(id);
      dynamic += "server." + k + "=" + cluster + "-" + k + "." + cluster +
                 "-headless.default.svc.cluster.local:2888:3888:participant;2181\n";
    }
    cm["data"]["zoo.cfg"] = Json::string(cfg);
    cm["data"]["zoo.cfg.dynamic"] = Json::string(dynamic);
    return cm;
  }
};

TEST_F(InformerTest, EveryChangeExactlyOnceInOrderAcrossWatchRestarts) {
  Put("a", "1");
  Put("b", "1");
  Put("c", "1");
  Informer informer(client_, kCm, Options());
  Recorder rec;
  informer.AddHandlers(rec.Handlers());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(10)));
  std::vector<std::string> expected{"ADD a=1", "ADD b=1", "ADD c=1"};
  EXPECT_EQ(rec.WaitFor(3), expected);

  // Changes spread over several watch lifetimes (each 1-2 s).
  Put("x", "1");
  Set("x", "2");
  Set("a", "2");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Del("b");
  Put("y", "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Set("y", "2");
  Del("x");
  Set("a", "3");
  for (const char* s : {"ADD x=1", "UPDATE x=2", "UPDATE a=2", "DELETE b", "ADD y=1", "UPDATE y=2",
                        "DELETE x", "UPDATE a=3"}) {
    expected.push_back(s);
  }
  EXPECT_EQ(rec.WaitFor(expected.size()), expected);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nothing extra arrives
  EXPECT_EQ(rec.Calls(), expected);
  Informer::Stats stats = informer.stats();
  EXPECT_GE(stats.watches, 2);
  EXPECT_EQ(stats.lists, 1);
  EXPECT_GT(stats.bookmarks, 0);

  // The store mirrors the server.
  EXPECT_EQ(informer.List().size(), 3u);
  ASSERT_TRUE(informer.Get("default", "a"));
  EXPECT_EQ(informer.Get("default", "a")->at("data").at("k").as_string(), "3");
  EXPECT_FALSE(informer.Get("default", "b"));
  informer.Stop();
}

TEST_F(InformerTest, RelistAfterGoneDeliversOnlyTheDifference) {
  Put("keep", "1");
  Put("change", "1");
  Put("drop", "1");
  auto [informer_transport, informer_client] = NewClient();
  Informer informer(informer_client, kCm, Options());
  Recorder rec;
  informer.AddHandlers(rec.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(10)));
  ASSERT_EQ(rec.WaitFor(3).size(), 3u);

  // Cut the informer off; wait until its current watch has ended and a new one failed.
  informer_transport->SetBlocked(true);
  size_t seen = informer_transport->Log().size();
  for (int i = 0; i < 500 && informer_transport->Log().size() == seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(informer_transport->Log().size(), seen);
  // Meanwhile more happens than the emulator's watch history (50 events) keeps.
  Set("change", "2");
  Del("drop");
  for (int i = 0; i < 55; ++i) Put("n" + std::to_string(100 + i), "1");
  Del("n100");
  informer_transport->SetBlocked(false);

  std::vector<std::string> calls = rec.WaitFor(3 + 1 + 1 + 54);
  std::vector<std::string> after(calls.begin() + 3, calls.end());
  ASSERT_EQ(after.size(), 56u) << ::testing::PrintToString(after);
  EXPECT_EQ(after[0], "DELETE drop");
  EXPECT_EQ(after[1], "UPDATE change=2");
  for (int i = 0; i < 54; ++i) EXPECT_EQ(after[2 + i], "ADD n" + std::to_string(101 + i) + "=1");
  Informer::Stats stats = informer.stats();
  EXPECT_GE(stats.gone, 1);
  EXPECT_GE(stats.lists, 2);
  // The relisted store (deflated with the first list's dictionary) mirrors the server.
  const std::vector<Json> listed = informer.List();
  ASSERT_EQ(listed.size(), 56u);
  for (const Json& obj : listed) {
    Result<Json> live = client_->Get(kCm, "default", NameOf(obj));
    ASSERT_TRUE(live.ok()) << NameOf(obj);
    EXPECT_EQ(obj.serialize(), live.value().serialize());
  }
  EXPECT_EQ(informer.stats().objects, 56);
  EXPECT_EQ(informer.stats().text_bytes, TextBytesOf(listed));

  // It watches again afterwards.
  Set("keep", "2");
  EXPECT_EQ(rec.WaitFor(60).back(), "UPDATE keep=2");
}

TEST_F(InformerTest, ResyncAndLookups) {
  Put("p1", "1", {{"app", "zk"}, {"zkop.io/member-id", "1"}});
  Put("p2", "1", {{"app", "zk"}, {"zkop.io/member-id", "2"}});
  Put("other", "1", {{"app", "web"}});
  ASSERT_TRUE(client_
                  ->Create(resources::Namespaces(), "",
                           [] {
                             Json ns = Json::object();
                             ns["metadata"]["name"] = Json::string("second");
                             return ns;
                           }())
                  .ok());
  ASSERT_TRUE(client_->Create(kCm, "second", ConfigMap("p3", {{"app", "zk"}})).ok());

  InformerOptions o = Options();
  o.ns = "";  // all namespaces
  o.resync = std::chrono::milliseconds(200);
  o.label_selector = "app=zk";
  Informer informer(client_, kCm, o);
  Recorder rec;
  informer.AddHandlers(rec.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(10)));
  EXPECT_EQ(informer.List().size(), 3u);  // the selector applies server-side
  EXPECT_EQ(informer.ListNamespace("default").size(), 2u);
  EXPECT_EQ(informer.ListNamespace("second").size(), 1u);
  EXPECT_TRUE(informer.Get("second", "p3"));
  auto member2 = informer.ListByLabels(*LabelSelector::Parse("zkop.io/member-id=2"));
  ASSERT_EQ(member2.size(), 1u);
  EXPECT_EQ(NameOf(member2[0]), "p2");
  std::vector<std::string> seen;
  informer.ForEachByLabels(*LabelSelector::Parse("app=zk"), "default", [&](const Json& obj) {
    // Called without the informer's lock: a lookup from inside does not deadlock.
    EXPECT_TRUE(informer.Get("default", NameOf(obj)));
    seen.push_back(NameOf(obj));
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"p1", "p2"}));
  for (int i = 0; i < 100 && rec.resyncs() < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(rec.resyncs(), 6);        // two periods × three objects
  EXPECT_EQ(rec.Calls().size(), 3u);  // resyncs are not changes
}

TEST_F(InformerTest, TransformShapesWhatIsStoredAndHandled) {
  Put("t1", "1", {{"app", "zk"}});
  InformerOptions o = Options();
  o.transform = [](Json& obj) {
    obj.at("data")["k"] = Json::string("T" + obj.at("data").at("k").as_string());
  };
  Informer informer(client_, kCm, o);
  Recorder rec;
  informer.AddHandlers(rec.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(10)));
  Set("t1", "2");  // a watch event goes through the transform too
  EXPECT_EQ(rec.WaitFor(2), (std::vector<std::string>{"ADD t1=T1", "UPDATE t1=T2"}));
  auto stored = informer.Get("default", "t1");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->at("data").at("k").as_string(), "T2");
  // The stored copy keeps what lookups need: labels, namespace, resourceVersion.
  ASSERT_EQ(informer.ListByLabels(*LabelSelector::Parse("app=zk")).size(), 1u);
  EXPECT_FALSE(ResourceVersionOf(*stored).empty());
}

TEST_F(InformerTest, CachedObjectsRoundTripWhateverTheFirstObjectWas) {
  Informer informer(client_, kCm, Options());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(10)));  // an empty list
  // The first object (a watch event: its text becomes the dictionary) is unlike the rest:
  // longer than the 4 KiB window and noise.
  std::string noise;
  uint32_t seed = 1;
  for (int i = 0; i < 6000; ++i) {
    seed = seed * 1664525u + 1013904223u;
    noise.push_back(static_cast<char>('a' + (seed >> 24) % 26));
  }
  Put("first", noise);
  ASSERT_TRUE(Eventually([&] { return informer.stats().objects == 1; }));
  Put("no-labels", "plain");
  Put("unicode", "zoo ünïcødé ✓ 日本語 😀 \"quoted\" \\ \t", {{"app", "ü"}});
  std::string large;
  for (int i = 0; i < 400; ++i) large += "server." + std::to_string(i) + "=host:2888:3888;2181\n";
  Put("large", large, {{"app", "zk"}});
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_->Create(kCm, "", ClusterConfig("c" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(Eventually([&] { return informer.stats().objects == 24; }));

  const std::vector<Json> listed = informer.List();
  ASSERT_EQ(listed.size(), 24u);
  for (const Json& obj : listed) {
    Result<Json> live = client_->Get(kCm, "default", NameOf(obj));
    ASSERT_TRUE(live.ok()) << NameOf(obj);
    EXPECT_EQ(obj.serialize(), live.value().serialize());
    EXPECT_EQ(informer.Get("default", NameOf(obj))->serialize(), live.value().serialize());
  }
  EXPECT_EQ(informer.Get("default", "unicode")->at("data").at("k").as_string(),
            "zoo ünïcødé ✓ 日本語 😀 \"quoted\" \\ \t");
  EXPECT_EQ(informer.ListByLabels(*LabelSelector::Parse("app=zk")).size(), 1u);
  const Informer::Stats stats = informer.stats();
  EXPECT_EQ(stats.text_bytes, TextBytesOf(listed));
  EXPECT_GT(stats.stored_bytes, 0);

  // Updates and deletes keep the store and its figures right.
  Set("large", "small now");
  Del("no-labels");
  ASSERT_TRUE(Eventually([&] { return informer.stats().objects == 23; }));
  ASSERT_TRUE(Eventually([&] {
    std::optional<Json> large_now = informer.Get("default", "large");
    return large_now && large_now->at("data").at("k").as_string() == "small now";
  }));
  EXPECT_EQ(informer.stats().text_bytes, TextBytesOf(informer.List()));
}

TEST_F(InformerTest, NearIdenticalObjectsAreStoredFarBelowTheirText) {
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(client_->Create(kCm, "", ClusterConfig("c" + std::to_string(i))).ok());
  }
  Informer informer(client_, kCm, Options());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(10)));
  const std::vector<Json> listed = informer.List();
  ASSERT_EQ(listed.size(), 40u);
  const Informer::Stats stats = informer.stats();
  EXPECT_EQ(stats.objects, 40);
  EXPECT_EQ(stats.text_bytes, TextBytesOf(listed));
  // Against plain deflate of the same texts: the first object as dictionary does most of it.
  DictionaryDeflater plain("");
  int64_t plain_bytes = 0;
  for (const Json& obj : listed) plain_bytes += plain.Deflate(obj.serialize()).size();
  EXPECT_LT(plain_bytes, stats.text_bytes);
  EXPECT_LT(stats.stored_bytes * 3, plain_bytes) << stats.text_bytes << " bytes of text";
}

}  // namespace
}  // namespace zkop::kube
