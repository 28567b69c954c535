// The client against the devkube emulator: CRUD, conflicts, error kinds,
// selectors, pagination, patches, subresources, watch (resume, bookmarks,
// 410), retries through injected faults, timeouts, rate limiting.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <set>

#include "kube_test_env.h"

namespace zkop::kube {
namespace {

using testing::InjectedFault;
using testing::KubeEnv;
const ResourceRef kCm = resources::ConfigMaps();

std::string DataK(const Json& cm) { return cm.at("data").at("k").as_string(); }

std::set<std::string> Names(const Json& list) {
  std::set<std::string> out;
  for (const Json& item : list.at("items").as_array()) out.insert(NameOf(item));
  return out;
}

class ClientTest : public KubeEnv {};

TEST_F(ClientTest, CreateGetUpdateDelete) {
  Result<Json> created = client_->Create(kCm, "", ConfigMap("a"));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created.value().at("kind").as_string(), "ConfigMap");
  EXPECT_EQ(NamespaceOf(created.value()), "default");
  EXPECT_FALSE(UidOf(created.value()).empty());

  Result<Json> got = client_->Get(kCm, "default", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(ResourceVersionOf(got.value()), ResourceVersionOf(created.value()));

  Json changed = got.value();
  changed["data"]["k"] = Json::string("v2");
  Result<Json> updated = client_->Update(kCm, "", changed);
  ASSERT_TRUE(updated.ok()) << updated.error().ToString();
  EXPECT_EQ(DataK(updated.value()), "v2");
  EXPECT_NE(ResourceVersionOf(updated.value()), ResourceVersionOf(got.value()));

  // The stale copy loses: optimistic concurrency.
  changed["data"]["k"] = Json::string("v3");
  Result<Json> stale = client_->Update(kCm, "", changed);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind(), ErrorKind::kConflict) << stale.error().ToString();
  EXPECT_EQ(stale.error().http_status(), 409);

  Result<Json> again = client_->Create(kCm, "", ConfigMap("a"));
  EXPECT_TRUE(again.Is(ErrorKind::kAlreadyExists)) << again.error().ToString();

  Result<Json> deleted = client_->Delete(kCm, "", "a");
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  Result<Json> gone = client_->Get(kCm, "", "a");
  EXPECT_TRUE(gone.Is(ErrorKind::kNotFound));
  EXPECT_EQ(gone.error().message(), "configmaps \"a\" not found");
  EXPECT_TRUE(client_->Delete(kCm, "", "a").Is(ErrorKind::kNotFound));
}

TEST_F(ClientTest, ErrorKindsFromTheServer) {
  Result<Json> invalid = client_->Create(kCm, "", ConfigMap("Bad_Name"));
  ASSERT_TRUE(invalid.Is(ErrorKind::kInvalid)) << invalid.error().ToString();
  ASSERT_FALSE(invalid.error().causes().empty());
  EXPECT_EQ(invalid.error().causes()[0].field, "metadata.name");

  Result<Json> no_ns = client_->Create(kCm, "nowhere", ConfigMap("a"));
  EXPECT_TRUE(no_ns.Is(ErrorKind::kNotFound)) << no_ns.error().ToString();

  Result<Json> mismatch = client_->Create(kCm, "other", [] {
    Json cm = ConfigMap("a");
    cm["metadata"]["namespace"] = Json::string("default");
    return cm;
  }());
  EXPECT_TRUE(mismatch.Is(ErrorKind::kBadRequest));
  EXPECT_EQ(mismatch.error().http_status(), 0);  // caught before sending

  Result<Json> bad_patch = client_->Patch(kCm, "", "missing", Json::object());
  EXPECT_TRUE(bad_patch.Is(ErrorKind::kNotFound));
}

TEST_F(ClientTest, PatchesAndDeletePreconditions) {
  ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("p", {{"a", "1"}})).ok());
  Json merge = Json::parse(R"({"metadata":{"labels":{"b":"2"}},"data":{"k":"merged"}})");
  Result<Json> m = client_->Patch(kCm, "", "p", merge, PatchType::kMerge);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(DataK(m.value()), "merged");
  EXPECT_EQ(LabelsOf(m.value()), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));

  Json jp = Json::parse(R"([{"op":"test","path":"/data/k","value":"merged"},)"
                        R"({"op":"replace","path":"/data/k","value":"json"}])");
  Result<Json> j = client_->Patch(kCm, "", "p", jp, PatchType::kJson);
  ASSERT_TRUE(j.ok()) << j.error().ToString();
  EXPECT_EQ(DataK(j.value()), "json");
  Json failing = Json::parse(R"([{"op":"test","path":"/data/k","value":"nope"}])");
  EXPECT_FALSE(client_->Patch(kCm, "", "p", failing, PatchType::kJson).ok());

  Result<Json> s = client_->Patch(kCm, "", "p", Json::parse(R"({"data":{"k":"smp"}})"),
                                  PatchType::kStrategicMerge);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(DataK(s.value()), "smp");

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "not-the-uid";
  EXPECT_TRUE(client_->Delete(kCm, "", "p", wrong_uid).Is(ErrorKind::kConflict));
  DeleteOptions stale_rv;
  stale_rv.precondition_resource_version = ResourceVersionOf(m.value());
  EXPECT_TRUE(client_->Delete(kCm, "", "p", stale_rv).Is(ErrorKind::kConflict));
  DeleteOptions right;
  right.precondition_uid = UidOf(s.value());
  right.propagation = Propagation::kBackground;
  EXPECT_TRUE(client_->Delete(kCm, "", "p", right).ok());
}

TEST_F(ClientTest, SelectorsAndPagination) {
  for (int i = 0; i < 7; ++i) {
    std::map<std::string, std::string> labels{{"app", i % 2 ? "zk" : "web"},
                                              {"idx", std::to_string(i)}};
    ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("cm-" + std::to_string(i), labels)).ok());
  }
  ListOptions zk;
  zk.label_selector = "app=zk";
  EXPECT_EQ(Names(client_->List(kCm, "", zk).value()),
            (std::set<std::string>{"cm-1", "cm-3", "cm-5"}));
  ListOptions set_based;
  set_based.label_selector = "app=web,idx notin (0,2)";
  EXPECT_EQ(Names(client_->List(kCm, "", set_based).value()),
            (std::set<std::string>{"cm-4", "cm-6"}));
  ListOptions by_name;
  by_name.field_selector = "metadata.name=cm-3";
  EXPECT_EQ(Names(client_->List(kCm, "", by_name).value()), (std::set<std::string>{"cm-3"}));

  ListOptions page;
  page.limit = 3;
  Result<Json> first = client_->List(kCm, "", page);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value().at("items").size(), 3u);
  std::string token = first.value().at("metadata").at("continue").as_string();
  ASSERT_FALSE(token.empty());
  page.continue_token = token;
  Result<Json> second = client_->List(kCm, "", page);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value().at("items").size(), 3u);

  ListOptions small;
  small.limit = 2;
  Result<Json> all = client_->ListAll(kCm, "", small);
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  EXPECT_EQ(Names(all.value()).size(), 7u);
  EXPECT_FALSE(ResourceVersionOf(all.value()).empty());
  int pages = 0;
  for (const std::string& line : faults_->Log()) {
    if (line.find("limit=2") != std::string::npos) ++pages;
  }
  EXPECT_EQ(pages, 4);  // 2+2+2+1

  ASSERT_TRUE(client_
                  ->Create(resources::Namespaces(), "",
                           [] {
                             Json ns = Json::object();
                             ns["metadata"]["name"] = Json::string("other");
                             return ns;
                           }())
                  .ok());
  ASSERT_TRUE(client_->Create(kCm, "other", ConfigMap("elsewhere")).ok());
  Result<Json> everywhere = client_->ListAllNamespaces(kCm, small);
  ASSERT_TRUE(everywhere.ok());
  EXPECT_TRUE(Names(everywhere.value()).count("elsewhere"));
  EXPECT_GE(Names(everywhere.value()).size(), 8u);
}

// A tiny CRD with status and scale subresources.
Json WidgetCrd() {
  return Json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.zkop.io"},
    "spec": {"group": "test.zkop.io", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                         "statusReplicasPath": ".status.replicas"}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 0}}},
          "status": {"type": "object", "properties": {"replicas": {"type": "integer"},
                                                      "phase": {"type": "string"}}}}}}}]}})");
}

TEST_F(ClientTest, StatusAndScaleSubresources) {
  ASSERT_TRUE(client_->Create(resources::CustomResourceDefinitions(), "", WidgetCrd()).ok());
  ResourceRef widgets{"test.zkop.io", "v1", "widgets", true, "Widget"};
  Json w = Json::parse(R"({"metadata":{"name":"w"},"spec":{"replicas":1}})");
  Result<Json> created = client_->Create(widgets, "", w);
  ASSERT_TRUE(created.ok()) << created.error().ToString();

  // The main resource ignores status; the subresource writes only status.
  Json with_status = created.value();
  with_status["status"] = Json::parse(R"({"replicas":1,"phase":"Running"})");
  Result<Json> st = client_->UpdateStatus(widgets, "", with_status);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(st.value().at("status").at("phase").as_string(), "Running");
  Result<Json> ps =
      client_->PatchStatus(widgets, "", "w", Json::parse(R"({"status":{"phase":"Degraded"}})"));
  ASSERT_TRUE(ps.ok()) << ps.error().ToString();
  EXPECT_EQ(client_->GetStatus(widgets, "", "w").value().at("status").at("phase").as_string(),
            "Degraded");

  Result<Json> scale = client_->GetScale(widgets, "", "w");
  ASSERT_TRUE(scale.ok()) << scale.error().ToString();
  EXPECT_EQ(scale.value().at("kind").as_string(), "Scale");
  EXPECT_EQ(scale.value().at("spec").at("replicas").as_integer(), 1);
  Json s = scale.value();
  s["spec"]["replicas"] = Json::number(3);
  Result<Json> scaled = client_->UpdateScale(widgets, "", s);
  ASSERT_TRUE(scaled.ok()) << scaled.error().ToString();
  EXPECT_EQ(client_->Get(widgets, "", "w").value().at("spec").at("replicas").as_integer(), 3);

  // Schema validation errors come back as Invalid with the field.
  Json bad = Json::parse(R"({"metadata":{"name":"bad"},"spec":{"replicas":-1}})");
  Result<Json> invalid = client_->Create(widgets, "", bad);
  ASSERT_TRUE(invalid.Is(ErrorKind::kInvalid)) << invalid.error().ToString();
  EXPECT_EQ(invalid.error().causes().at(0).field, "spec.replicas");
}

// Reads events until `n` arrived or the stream ends.
std::vector<WatchEvent> ReadEvents(WatchStream& w, size_t n, bool skip_bookmarks = true) {
  std::vector<WatchEvent> out;
  while (out.size() < n) {
    auto ev = w.Next();
    if (!ev.ok() || !ev.value()) break;
    if (skip_bookmarks && ev.value()->type == WatchEvent::Type::kBookmark) continue;
    out.push_back(*ev.value());
  }
  return out;
}

TEST_F(ClientTest, WatchDeliversChangesInOrderAndResumes) {
  std::string rv = ResourceVersionOf(client_->List(kCm, "").value());
  ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("w1")).ok());
  ASSERT_TRUE(client_->Patch(kCm, "", "w1", Json::parse(R"({"data":{"k":"x"}})")).ok());
  ASSERT_TRUE(client_->Delete(kCm, "", "w1").ok());

  ListOptions o;
  o.resource_version = rv;
  o.timeout_seconds = 1;
  auto watch = client_->Watch(kCm, "", o);
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  std::vector<WatchEvent> events = ReadEvents(*watch.value(), 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(DataK(events[1].object), "x");
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDeleted);
  // The server's timeoutSeconds ends the stream cleanly.
  auto end = watch.value()->Next();
  while (end.ok() && end.value() && end.value()->type == WatchEvent::Type::kBookmark) {
    end = watch.value()->Next();
  }
  ASSERT_TRUE(end.ok()) << end.error().ToString();
  EXPECT_FALSE(end.value().has_value());

  // Resume from the last seen resourceVersion: only what happened since.
  ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("w2")).ok());
  o.resource_version = events.back().ResourceVersion();
  auto resumed = client_->Watch(kCm, "", o);
  ASSERT_TRUE(resumed.ok());
  std::vector<WatchEvent> more = ReadEvents(*resumed.value(), 1);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(NameOf(more[0].object), "w2");
}

TEST_F(ClientTest, WatchBookmarksCarryResourceVersion) {
  ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("b")).ok());
  std::string rv = ResourceVersionOf(client_->List(kCm, "").value());
  ListOptions o;
  o.resource_version = rv;
  o.allow_bookmarks = true;
  o.timeout_seconds = 5;
  auto watch = client_->Watch(kCm, "", o);
  ASSERT_TRUE(watch.ok());
  auto ev = watch.value()->Next();
  ASSERT_TRUE(ev.ok() && ev.value()) << (ev.ok() ? "end of stream" : ev.error().ToString());
  EXPECT_EQ(ev.value()->type, WatchEvent::Type::kBookmark);
  EXPECT_GE(std::stoll(ev.value()->ResourceVersion()), std::stoll(rv));
}

TEST_F(ClientTest, WatchFromCompactedVersionIsGone) {
  std::string rv = ResourceVersionOf(client_->List(kCm, "").value());
  for (int i = 0; i < 60; ++i) {  // more than the emulator's 50-event history
    ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("g" + std::to_string(i))).ok());
  }
  ListOptions o;
  o.resource_version = rv;
  auto watch = client_->Watch(kCm, "", o);
  if (watch.ok()) {
    auto ev = watch.value()->Next();  // the ERROR event carrying 410
    ASSERT_FALSE(ev.ok());
    EXPECT_EQ(ev.error().kind(), ErrorKind::kGone) << ev.error().ToString();
  } else {
    EXPECT_EQ(watch.error().kind(), ErrorKind::kGone) << watch.error().ToString();
  }
}

TEST_F(ClientTest, WatchStopsWhenCancelled) {
  std::stop_source stop;
  ListOptions o;
  o.resource_version = ResourceVersionOf(client_->List(kCm, "").value());
  auto watch = client_->Watch(kCm, "", o, stop.get_token());
  ASSERT_TRUE(watch.ok());
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto ev = watch.value()->Next();
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_FALSE(ev.ok());
  EXPECT_EQ(ev.error().kind(), ErrorKind::kCancelled);
}

TEST_F(ClientTest, ReadsRetry429HonouringRetryAfter) {
  ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("r")).ok());
  faults_->Inject({"GET", 429, "1", R"({"kind":"Status","reason":"TooManyRequests","code":429})"});
  auto start = std::chrono::steady_clock::now();
  Result<Json> r = client_->Get(kCm, "", "r");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(990));
  auto times = faults_->Times();
  ASSERT_GE(times.size(), 3u);
  EXPECT_GE(times[times.size() - 1] - times[times.size() - 2], std::chrono::milliseconds(990));
}

TEST_F(ClientTest, ReadsRetryServerAndConnectionErrors) {
  ASSERT_TRUE(client_->Create(kCm, "", ConfigMap("r")).ok());
  size_t before = faults_->Log().size();
  faults_->Inject({"GET", 503, "", ""});
  faults_->Inject({"GET", 0, "", ""});
  faults_->Inject({"GET", 500, "", ""});
  Result<Json> r = client_->Get(kCm, "", "r");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(faults_->Log().size() - before, 4u);

  // Give up after max_attempts with the last error.
  for (int i = 0; i < 5; ++i) faults_->Inject({"GET", 503, "", ""});
  Result<Json> exhausted = client_->Get(kCm, "", "r");
  EXPECT_TRUE(exhausted.Is(ErrorKind::kServerError));
  EXPECT_EQ(exhausted.error().http_status(), 503);
}

TEST_F(ClientTest, CreateIsNeverRetriedBlindly) {
  size_t before = faults_->Log().size();
  faults_->Inject({"POST", 503, "", ""});
  EXPECT_TRUE(client_->Create(kCm, "", ConfigMap("c")).Is(ErrorKind::kServerError));
  faults_->Inject({"POST", 0, "", ""});
  EXPECT_TRUE(client_->Create(kCm, "", ConfigMap("c")).Is(ErrorKind::kConnection));
  EXPECT_EQ(faults_->Log().size() - before, 2u);
  EXPECT_TRUE(client_->Get(kCm, "", "c").Is(ErrorKind::kNotFound));
  // 429 means "not processed": safe to retry even for a create.
  faults_->Inject({"POST", 429, "", ""});
  EXPECT_TRUE(client_->Create(kCm, "", ConfigMap("c")).ok());
  EXPECT_EQ(faults_->Log().size() - before, 5u);
}

TEST_F(ClientTest, WatchEstablishmentIsRetried) {
  faults_->Inject({"GET", 503, "", ""});
  faults_->Inject({"GET", 0, "", ""});
  ListOptions o;
  o.timeout_seconds = 1;
  auto watch = client_->Watch(kCm, "", o);
  ASSERT_TRUE(watch.ok()) << watch.error().ToString();
  EXPECT_EQ(faults_->Log().size(), 3u);
}

TEST_F(ClientTest, RateLimitPacesRequests) {
  ClientOptions o = testing::FastOptions();
  o.qps = 20;
  o.burst = 2;
  auto [t, limited] = NewClient(o);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) (void)limited->Get(kCm, "", "none");
  // 2 free, then 6 at 20/s.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(280));
}

TEST(ClientTransportTest, TimeoutAndConnectionRefused) {
  namespace asio = boost::asio;
  asio::io_context io;
  // A listener that never answers: the kernel completes the TCP handshake.
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  ClientConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  ClientOptions o;
  o.request_timeout = std::chrono::milliseconds(300);
  o.max_attempts = 1;
  Client slow(NewHttpTransport(c), "default", o);
  Result<Json> r = slow.Get(kCm, "", "x");
  EXPECT_TRUE(r.Is(ErrorKind::kTimeout)) << r.error().ToString();

  uint16_t port;
  {
    asio::ip::tcp::acceptor closed(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  c.server = "http://127.0.0.1:" + std::to_string(port);
  Client refused(NewHttpTransport(c), "default", o);
  Result<Json> rr = refused.Get(kCm, "", "x");
  EXPECT_TRUE(rr.Is(ErrorKind::kConnection)) << rr.error().ToString();
  EXPECT_EQ(rr.error().http_status(), 0);
}

}  // namespace
}  // namespace zkop::kube
