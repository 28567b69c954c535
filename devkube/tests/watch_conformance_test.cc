// Emulator conformance: watch (api-concepts "Efficient detection of changes", "Watch
// bookmarks", "410 Gone responses").
#include "devkube_test_env.h"

namespace zkop::devkube::testing {
namespace {

const std::string kCm = "/api/v1/namespaces/default/configmaps";

Json ConfigMap(const std::string& name, const std::string& app = "zk") {
  return DevkubeTest::Yaml("metadata: {name: " + name + ", labels: {app: " + app +
                           "}}\ndata: {k: v}");
}

std::string Type(const std::optional<Json>& ev) { return ev ? GetString(*ev, {"type"}) : "<none>"; }
std::string Name(const std::optional<Json>& ev) {
  return ev ? GetString((*ev).at("object"), {"metadata", "name"}) : "<none>";
}

using WatchConformance = DevkubeTest;

// "Efficient detection of changes": a watch from a list's resourceVersion delivers every later
// change exactly once, in order: ADDED, MODIFIED, DELETED.
TEST_F(WatchConformance, ResumesFromResourceVersionInOrder) {
  client().Post(kCm, ConfigMap("before"));
  Reply list = client().Get(kCm);
  std::string rv = GetString(list.json, {"metadata", "resourceVersion"});
  Reply a = client().Post(kCm, ConfigMap("a"));
  client().Patch(kCm + "/a", "application/merge-patch+json", R"({"data":{"k":"w"}})");
  client().Delete(kCm + "/a");
  auto w = Watch(kCm + "?watch=true&resourceVersion=" + rv);
  ASSERT_EQ(w->status(), 200);
  auto e1 = w->Next(), e2 = w->Next(), e3 = w->Next();
  EXPECT_EQ(Type(e1) + Name(e1), "ADDEDa");
  EXPECT_EQ(Type(e2) + Name(e2), "MODIFIEDa");
  EXPECT_EQ(Type(e3) + Name(e3), "DELETEDa");
  EXPECT_LT(Rv(e1->at("object")), Rv(e2->at("object")));
  EXPECT_LT(Rv(e2->at("object")), Rv(e3->at("object")));
  // Live events follow the replayed ones.
  client().Post(kCm, ConfigMap("b"));
  auto e4 = w->Next();
  EXPECT_EQ(Type(e4) + Name(e4), "ADDEDb");
  EXPECT_FALSE(w->Next(std::chrono::milliseconds(300)));
}

// "Semantics for watch": without a resourceVersion the current state arrives as ADDED
// events first.
TEST_F(WatchConformance, WithoutResourceVersionStartsWithCurrentState) {
  client().Post(kCm, ConfigMap("x"));
  auto w = Watch(kCm + "?watch=1");
  auto e = w->Next();
  EXPECT_EQ(Type(e) + Name(e), "ADDEDx");
}

// "Watch bookmarks": with allowWatchBookmarks=true an idle watch receives BOOKMARK events
// carrying only a resourceVersion that a new watch can resume from.
TEST_F(WatchConformance, Bookmarks) {
  ApiServerOptions o;
  o.bookmark_interval = std::chrono::milliseconds(100);
  Start(o);
  Reply a = client().Post(kCm, ConfigMap("a"));
  auto w = Watch(
      kCm + "?watch=true&allowWatchBookmarks=true&resourceVersion=" + std::to_string(Rv(a.json)));
  auto e = w->Next();
  ASSERT_EQ(Type(e), "BOOKMARK");
  EXPECT_EQ(GetString(e->at("object"), {"kind"}), "ConfigMap");
  EXPECT_EQ(Rv(e->at("object")), Rv(a.json));
  EXPECT_FALSE(HasKey(e->at("object")["metadata"], "name"));
  client().Post(kCm, ConfigMap("b"));
  std::optional<Json> next;
  do next = w->Next();
  while (next && Type(next) == "BOOKMARK");
  EXPECT_EQ(Type(next) + Name(next), "ADDEDb");
}

// "410 Gone responses": a resourceVersion older than the kept history answers with an ERROR
// event whose Status has code 410, reason Expired.
TEST_F(WatchConformance, TooOldResourceVersionIsGone) {
  ApiServerOptions o;
  o.watch_history = 5;
  Start(o);
  Reply first = client().Post(kCm, ConfigMap("first"));
  for (int i = 0; i < 10; ++i) client().Post(kCm, ConfigMap("n" + std::to_string(i)));
  auto w = Watch(kCm + "?watch=true&resourceVersion=" + std::to_string(Rv(first.json)));
  EXPECT_EQ(w->status(), 200);
  auto e = w->Next();
  ASSERT_EQ(Type(e), "ERROR");
  const Json& s = e->at("object");
  EXPECT_EQ(GetString(s, {"kind"}), "Status");
  EXPECT_EQ(s.at("code").as_integer(), 410);
  EXPECT_EQ(GetString(s, {"reason"}), "Expired");
  EXPECT_EQ(GetString(s, {"message"}).rfind("too old resource version: ", 0), 0u);
  EXPECT_TRUE(w->Ended(std::chrono::seconds(2)));
  // A fresh list gives a resourceVersion to resume from.
  Reply list = client().Get(kCm);
  auto again = Watch(
      kCm + "?watch=true&resourceVersion=" + GetString(list.json, {"metadata", "resourceVersion"}));
  client().Post(kCm, ConfigMap("later"));
  auto e2 = again->Next();
  EXPECT_EQ(Type(e2) + Name(e2), "ADDEDlater");
}

// "Watch" timeoutSeconds: the server ends the stream when it elapses.
TEST_F(WatchConformance, TimeoutSecondsEndsTheStream) {
  auto start = std::chrono::steady_clock::now();
  auto w = Watch(kCm + "?watch=true&timeoutSeconds=1&resourceVersion=1");
  EXPECT_TRUE(w->Ended(std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

// Label selectors on watch: an object entering the selection is ADDED, one leaving it is
// DELETED (as the watch cache reports transitions), others are not sent.
TEST_F(WatchConformance, SelectorTransitions) {
  Reply list = client().Get(kCm);
  auto w = Watch(kCm + "?watch=true&labelSelector=app%3Dzk&resourceVersion=" +
                 GetString(list.json, {"metadata", "resourceVersion"}));
  client().Post(kCm, ConfigMap("other", "web"));
  client().Post(kCm, ConfigMap("a", "zk"));
  client().Patch(kCm + "/a", "application/merge-patch+json",
                 R"({"metadata":{"labels":{"app":"web"}}})");
  client().Patch(kCm + "/other", "application/merge-patch+json",
                 R"({"metadata":{"labels":{"app":"zk"}}})");
  auto e1 = w->Next(), e2 = w->Next(), e3 = w->Next();
  EXPECT_EQ(Type(e1) + Name(e1), "ADDEDa");
  EXPECT_EQ(Type(e2) + Name(e2), "DELETEDa");
  EXPECT_EQ(Type(e3) + Name(e3), "ADDEDother");
}

// Namespaced watch sees only its namespace; a cluster-wide watch sees all.
TEST_F(WatchConformance, NamespaceScope) {
  client().Post("/api/v1/namespaces", Yaml("metadata: {name: other}"));
  auto scoped = Watch(kCm + "?watch=true&resourceVersion=1");
  auto all = Watch("/api/v1/configmaps?watch=true&resourceVersion=1");
  client().Post("/api/v1/namespaces/other/configmaps", ConfigMap("o"));
  client().Post(kCm, ConfigMap("d"));
  auto s = scoped->Next();
  EXPECT_EQ(Name(s), "d");
  auto a1 = all->Next(), a2 = all->Next();
  EXPECT_EQ(Name(a1) + Name(a2), "od");
}

}  // namespace
}  // namespace zkop::devkube::testing
