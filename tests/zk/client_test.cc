// zkop::zk::Client against one shared 3-server ensemble: operations, watches, ACLs,
// pipelining, session expiry and connect timeouts. Tests here leave the ensemble intact.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>

#include "expire_session.h"
#include "listener_log.h"
#include "wait.h"
#include "zkop/testing/loopback.h"
#include "zkop/testing/zk_ensemble_env.h"
#include "zkop/zk/acl.h"
#include "zkop/zk/client.h"

namespace zkop::zk {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Eventually;
using testing::ExpireSession;
using zkop::testing::ZkEnsembleEnvironment;

auto* const kEnv = ZkEnsembleEnvironment::Register();

ClientOptions Options(std::string name = "test") {
  ClientOptions o;
  o.connect = ZkEnsembleEnvironment::Ensemble().ConnectString();
  o.session_timeout = seconds(6);
  o.name = std::move(name);
  return o;
}

std::unique_ptr<Client> Connected(ClientOptions o) {
  auto c = std::make_unique<Client>(std::move(o));
  Status s = c->Connect(seconds(20));
  EXPECT_TRUE(s.ok()) << s.ToString();
  return c;
}
std::unique_ptr<Client> Connected() { return Connected(Options()); }

// A fresh root per call: "/t-<test name>-<pid>-<n>" (--gtest_repeat runs a test again in
// the same process, after a failed run may have left its root behind).
std::string Root() {
  static std::atomic<int> calls{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string("/t-") + info->name() + "-" + std::to_string(getpid()) + "-" +
         std::to_string(++calls);
}

// Removes a test's tree at its end. An attempt whose answers were lost is repeated; kNoNode
// then means the lost attempt removed it. (ZooKeeper 3.8.0's ZOOKEEPER-4537 can leave a
// server with one active client silent until that client's receive deadline, 2/3 of the
// session timeout, passes: the C client then drops the connection, and the requests in
// flight end with an unknown outcome although the ensemble applied them.)
void RemoveTree(Client& c, const std::string& root) {
  Status last;
  EXPECT_TRUE(Eventually([&] {
    last = c.DeleteTree(root);
    return last.ok() || last.code() == Error::kNoNode;
  })) << last.ToString();
}

TEST(ClientTest, CrudRoundTrip) {
  auto c = Connected();
  const std::string root = Root();
  ASSERT_TRUE(c->Create(root, "").status.ok());

  CreateResult created = c->Create(root + "/a", "one");
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  EXPECT_EQ(created.path, root + "/a");
  EXPECT_EQ(created.stat.version, 0);
  EXPECT_EQ(c->Create(root + "/a", "again").status.code(), Error::kNodeExists);

  DataResult got = c->Get(root + "/a");
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.data, "one");

  StatResult set = c->Set(root + "/a", "two", got.stat.version);
  ASSERT_TRUE(set.status.ok()) << set.status.ToString();
  EXPECT_EQ(set.stat.version, 1);
  StatResult stale = c->Set(root + "/a", "three", 0);
  EXPECT_EQ(stale.status.code(), Error::kBadVersion);
  EXPECT_NE(stale.status.ToString().find(root + "/a"), std::string::npos);
  EXPECT_EQ(c->Get(root + "/a").data, "two");

  CreateOptions seq;
  seq.mode = CreateMode::kPersistentSequential;
  CreateResult s1 = c->Create(root + "/seq-", "", seq);
  CreateResult s2 = c->Create(root + "/seq-", "", seq);
  ASSERT_TRUE(s1.status.ok() && s2.status.ok());
  EXPECT_EQ(s1.path.size(), (root + "/seq-").size() + 10);
  EXPECT_LT(s1.path, s2.path);

  CreateOptions parents;
  parents.make_parents = true;
  ASSERT_TRUE(c->Create(root + "/x/y/z", "deep", parents).status.ok());
  EXPECT_EQ(c->Create(root + "/p/q", "", {}).status.code(), Error::kNoNode);

  ChildrenResult children = c->GetChildren(root);
  ASSERT_TRUE(children.status.ok());
  std::set<std::string> names(children.children.begin(), children.children.end());
  EXPECT_EQ(names.size(), 4u);
  EXPECT_TRUE(names.count("a") && names.count("x"));

  EXPECT_EQ(c->Delete(root + "/a", 0).code(), Error::kBadVersion);
  EXPECT_TRUE(c->Delete(root + "/a", 1).ok());
  EXPECT_EQ(c->Get(root + "/a").status.code(), Error::kNoNode);
  EXPECT_EQ(c->Exists(root + "/a").status.code(), Error::kNoNode);
  EXPECT_EQ(c->Delete(root).code(), Error::kNotEmpty);
  EXPECT_TRUE(c->DeleteTree(root).ok());
  EXPECT_EQ(c->Exists(root).status.code(), Error::kNoNode);
}

TEST(ClientTest, EphemeralNodeLivesExactlyAsLongAsItsSession) {
  auto owner = Connected();
  auto observer = Connected();
  const std::string root = Root();
  ASSERT_TRUE(owner->Create(root, "").status.ok());
  CreateOptions eph;
  eph.mode = CreateMode::kEphemeral;
  ASSERT_TRUE(owner->Create(root + "/e", "x", eph).status.ok());
  // Each session reads from its own server: sync to see another session's write at once.
  ASSERT_TRUE(observer->Sync(root + "/e").ok());
  StatResult seen = observer->Exists(root + "/e");
  ASSERT_TRUE(seen.status.ok());
  EXPECT_EQ(seen.stat.ephemeral_owner, owner->session_id());
  EXPECT_NE(owner->session_id(), 0);
  EXPECT_EQ(owner->Create(root + "/e/child", "").status.code(), Error::kNoChildrenForEphemerals);

  owner->Close();
  EXPECT_EQ(owner->state(), State::kClosed);
  EXPECT_EQ(owner->Get(root + "/e").status.code(), Error::kClosed);
  EXPECT_TRUE(
      Eventually([&] { return observer->Exists(root + "/e").status.code() == Error::kNoNode; }));
  RemoveTree(*observer, root);
}

TEST(ClientTest, OneShotWatchesFire) {
  auto c = Connected();
  auto other = Connected();
  const std::string root = Root();
  ASSERT_TRUE(c->Create(root, "").status.ok());

  std::promise<WatchEvent> created, changed, child, deleted;
  // exists on an absent node arms a creation watch
  EXPECT_EQ(
      c->Exists(root + "/n", [&](const WatchEvent& e) { created.set_value(e); }).status.code(),
      Error::kNoNode);
  ASSERT_TRUE(other->Create(root + "/n", "1").status.ok());
  auto f = created.get_future();
  ASSERT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
  WatchEvent e = f.get();
  EXPECT_EQ(e.type, EventType::kCreated);
  EXPECT_EQ(e.path, root + "/n");

  ASSERT_TRUE(
      c->Get(root + "/n", [&](const WatchEvent& ev) { changed.set_value(ev); }).status.ok());
  ASSERT_TRUE(c->GetChildren(root, [&](const WatchEvent& ev) { child.set_value(ev); }).status.ok());
  ASSERT_TRUE(other->Set(root + "/n", "2").status.ok());
  ASSERT_TRUE(other->Create(root + "/m", "").status.ok());
  auto fc = changed.get_future();
  auto fch = child.get_future();
  ASSERT_EQ(fc.wait_for(seconds(10)), std::future_status::ready);
  ASSERT_EQ(fch.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(fc.get().type, EventType::kDataChanged);
  EXPECT_EQ(fch.get().type, EventType::kChildrenChanged);

  ASSERT_TRUE(
      c->Exists(root + "/n", [&](const WatchEvent& ev) { deleted.set_value(ev); }).status.ok());
  ASSERT_TRUE(other->Delete(root + "/n").ok());
  auto fd = deleted.get_future();
  ASSERT_EQ(fd.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(fd.get().type, EventType::kDeleted);
  RemoveTree(*c, root);
}

TEST(ClientTest, KeptWatchesFollowEveryChange) {
  auto c = Connected();
  auto writer = Connected();
  const std::string root = Root();
  ASSERT_TRUE(c->Create(root, "").status.ok());

  std::mutex mu;
  std::vector<std::string> values;  // data seen ("<absent>" for kNoNode)
  std::vector<size_t> child_counts;
  auto data_watch = c->KeepWatchingData(root + "/cfg", [&](const DataResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    values.push_back(r.status.ok() ? r.data : "<" + std::string(ErrorName(r.status.code())) + ">");
  });
  auto children_watch = c->KeepWatchingChildren(root, [&](const ChildrenResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.status.ok()) child_counts.push_back(r.children.size());
  });
  auto last_value = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return values.empty() ? std::string() : values.back();
  };
  ASSERT_TRUE(Eventually([&] { return last_value() == "<NONODE>"; })) << last_value();
  ASSERT_TRUE(writer->Create(root + "/cfg", "v1").status.ok());
  ASSERT_TRUE(Eventually([&] { return last_value() == "v1"; })) << last_value();
  for (int i = 2; i <= 5; ++i) {
    std::string v = "v" + std::to_string(i);
    ASSERT_TRUE(writer->Set(root + "/cfg", v).status.ok());
    ASSERT_TRUE(Eventually([&] { return last_value() == v; })) << last_value();
  }
  ASSERT_TRUE(writer->Delete(root + "/cfg").ok());
  ASSERT_TRUE(Eventually([&] { return last_value() == "<NONODE>"; })) << last_value();
  ASSERT_TRUE(writer->Create(root + "/cfg", "back").status.ok());
  ASSERT_TRUE(Eventually([&] { return last_value() == "back"; })) << last_value();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !child_counts.empty() && child_counts.back() == 1;
  }));

  data_watch.reset();  // no callback after this returns
  size_t seen;
  {
    std::lock_guard<std::mutex> lock(mu);
    seen = values.size();
  }
  ASSERT_TRUE(writer->Set(root + "/cfg", "after-stop").status.ok());
  std::this_thread::sleep_for(milliseconds(300));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(values.size(), seen);
  }
  children_watch.reset();
  RemoveTree(*c, root);
}

TEST(ClientTest, MultiIsAtomic) {
  auto c = Connected();
  const std::string root = Root();
  ASSERT_TRUE(c->Create(root, "").status.ok());
  ASSERT_TRUE(c->Create(root + "/existing", "v0").status.ok());

  MultiResult bad = c->Multi({Op::Create(root + "/a", "a"), Op::SetData(root + "/existing", "v1"),
                              Op::SetData(root + "/missing", "x")});
  EXPECT_EQ(bad.status.code(), Error::kNoNode) << bad.status.ToString();
  EXPECT_NE(bad.status.detail().find("op 2"), std::string::npos) << bad.status.detail();
  ASSERT_EQ(bad.results.size(), 3u);
  EXPECT_EQ(bad.results[2].error, Error::kNoNode);
  // Nothing was applied.
  EXPECT_EQ(c->Exists(root + "/a").status.code(), Error::kNoNode);
  EXPECT_EQ(c->Get(root + "/existing").data, "v0");

  MultiResult good = c->Multi({Op::Create(root + "/a", "a"), Op::Check(root + "/existing", 0),
                               Op::SetData(root + "/existing", "v1", 0),
                               Op::Create(root + "/s-", "", CreateMode::kPersistentSequential)});
  ASSERT_TRUE(good.status.ok()) << good.status.ToString();
  EXPECT_EQ(good.results[0].path, root + "/a");
  EXPECT_EQ(good.results[2].stat.version, 1);
  EXPECT_EQ(good.results[3].path.rfind(root + "/s-", 0), 0u);
  EXPECT_EQ(c->Get(root + "/existing").data, "v1");
  RemoveTree(*c, root);
}

TEST(ClientTest, DigestAuthAndAcls) {
  ClientOptions o = Options("owner");
  o.digest_auth = {{"app", "app-secret"}};
  auto owner = Connected(o);
  auto anonymous = Connected();
  auto intruder = Connected();
  ASSERT_TRUE(intruder->AddDigestAuth({"app", "wrong-password"}).ok());
  const std::string root = Root();
  ASSERT_TRUE(owner->Create(root, "").status.ok());

  CreateOptions guarded;
  guarded.acl = CreatorAllWorldReadAcl();
  ASSERT_TRUE(owner->Create(root + "/reg", "data", guarded).status.ok());
  ASSERT_TRUE(anonymous->Sync(root).ok());  // see the owner's writes (another server's session)
  EXPECT_EQ(anonymous->Get(root + "/reg").data, "data");  // world-readable
  EXPECT_EQ(anonymous->Set(root + "/reg", "x").status.code(), Error::kNoAuth);
  EXPECT_EQ(intruder->Set(root + "/reg", "x").status.code(), Error::kNoAuth);
  EXPECT_EQ(anonymous->Delete(root + "/reg").code(), Error::kOk);  // delete needs the parent's ACL
  ASSERT_TRUE(owner->Create(root + "/reg", "data", guarded).status.ok());
  EXPECT_TRUE(owner->Set(root + "/reg", "mine").status.ok());

  // An explicit digest entry: another session with the same credential may write.
  CreateOptions digest_only;
  digest_only.acl = {DigestAclEntry("app", "app-secret", perm::kAll)};
  ASSERT_TRUE(owner->Create(root + "/private", "p", digest_only).status.ok());
  ASSERT_TRUE(anonymous->Sync(root).ok());
  EXPECT_EQ(anonymous->Get(root + "/private").status.code(), Error::kNoAuth);
  ASSERT_TRUE(anonymous->AddDigestAuth({"app", "app-secret"}).ok());
  EXPECT_EQ(anonymous->Get(root + "/private").data, "p");

  // Creator ACLs need an authenticated identity.
  auto plain = Connected();
  EXPECT_EQ(plain->Create(root + "/nope", "", guarded).status.code(), Error::kInvalidAcl);
  RemoveTree(*owner, root);
}

TEST(ClientTest, OwnedEphemeralResolvesExistingNodes) {
  auto a = Connected();
  auto b = Connected();
  const std::string root = Root();
  CreateOptions eph;
  eph.mode = CreateMode::kEphemeral;
  eph.make_parents = true;
  CreateResult first = a->CreateOwnedEphemeral(root + "/svc/member", "a", eph);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(first.stat.ephemeral_owner, a->session_id());
  // Again on the same session (as after a lost connection): already ours, so success.
  CreateResult again = a->CreateOwnedEphemeral(root + "/svc/member", "a", eph);
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_EQ(again.stat.czxid, first.stat.czxid);
  // Another session: a conflict naming the owner.
  CreateResult other = b->CreateOwnedEphemeral(root + "/svc/member", "b", eph);
  EXPECT_EQ(other.status.code(), Error::kNodeExists);
  char owner_hex[32];
  std::snprintf(owner_hex, sizeof owner_hex, "0x%llx",
                static_cast<unsigned long long>(a->session_id()));
  EXPECT_NE(other.status.detail().find(owner_hex), std::string::npos) << other.status.detail();
  CreateOptions persistent;
  EXPECT_EQ(a->CreateOwnedEphemeral(root + "/svc/x", "", persistent).status.code(),
            Error::kBadArguments);
  a->Close();
  EXPECT_TRUE(Eventually(
      [&] { return b->CreateOwnedEphemeral(root + "/svc/member", "b", eph).status.ok(); }));
  RemoveTree(*b, root);
}

TEST(ClientTest, PipelinedAsyncCreatesAllComplete) {
  constexpr int kCount = 5000;
  auto c = Connected();
  const std::string root = Root();
  ASSERT_TRUE(c->Create(root, "").status.ok());
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  Status first_error;
  auto on_done = [&](Status st) {
    std::lock_guard<std::mutex> lock(mu);
    ++done;
    if (!st.ok() && failed++ == 0) first_error = st;
    cv.notify_all();
  };
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCount; ++i) {
    Status st = c->CreateAsync(root + "/n" + std::to_string(i), "payload", {},
                               [&](const CreateResult& r) { on_done(r.status); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(120), [&] { return done == kCount; }))
        << done << " of " << kCount << " completed";
  }
  auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(failed, 0) << first_error.ToString();
  ChildrenResult children = c->GetChildren(root);
  ASSERT_TRUE(children.status.ok());
  EXPECT_EQ(children.children.size(), static_cast<size_t>(kCount));
  std::cout << "[ metric   ] " << kCount << " pipelined creates in " << took.count() << " ms\n";

  // Pipelined deletes clean up.
  done = 0;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(c->DeleteAsync(root + "/n" + std::to_string(i), -1, [&](const StatResult& r) {
                   on_done(r.status);
                 }).ok());
  }
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, seconds(120), [&] { return done == kCount; }));
  lock.unlock();
  EXPECT_TRUE(c->Delete(root).ok());
}

TEST(ClientTest, SyncCallFromACallbackIsRefusedNotDeadlocked) {
  auto c = Connected();
  std::promise<Status> inner;
  ASSERT_TRUE(c->ExistsAsync("/", [&](const StatResult&) {
                 inner.set_value(c->Get("/").status);  // would wait on its own thread
               }).ok());
  auto f = inner.get_future();
  ASSERT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Error::kWouldDeadlock);
}

TEST(ClientTest, SessionExpiryCreatesANewSessionAndTellsTheOwner) {
  // Everything the callbacks touch outlives the Client: Close() still ends the one-shot
  // watch (kClosed) when the test stops early.
  std::mutex mu;
  std::vector<int64_t> sessions;
  std::vector<State> states;
  std::promise<WatchEvent> watch;
  std::string kept_value;
  const std::string root = Root();
  ClientOptions o = Options("expiring");
  o.session_timeout = seconds(2);
  Client c(o);
  c.AddSessionListener([&](int64_t id) {
    // Owners re-create their ephemerals here (sync calls are allowed on this thread).
    CreateOptions eph;
    eph.mode = CreateMode::kEphemeral;
    eph.make_parents = true;
    CreateResult r = c.CreateOwnedEphemeral(root + "/me", "alive", eph);
    std::lock_guard<std::mutex> lock(mu);
    if (r.status.ok()) sessions.push_back(id);
  });
  c.AddStateListener([&](State s) {
    std::lock_guard<std::mutex> lock(mu);
    states.push_back(s);
  });
  ASSERT_TRUE(c.Connect(seconds(20)).ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return sessions.size() == 1;
  }));
  const int64_t first = c.session_id();
  ASSERT_TRUE(c.Get(root + "/me", [&](const WatchEvent& e) { watch.set_value(e); }).status.ok());
  auto kept = c.KeepWatchingData(root + "/cfg", [&](const DataResult& r) {
    std::lock_guard<std::mutex> lock(mu);
    kept_value = r.status.ok() ? r.data : "<absent>";
  });

  ASSERT_TRUE(ExpireSession(c, o.connect, seconds(60)))
      << "the session was not taken away; state " << StateName(c.state());
  ASSERT_TRUE(Eventually(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return sessions.size() == 2;
      },
      seconds(30)))
      << "the session listener did not re-create the node on the new session; state "
      << StateName(c.state());
  EXPECT_NE(c.session_id(), first);
  EXPECT_EQ(c.state(), State::kConnected);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(sessions[1], c.session_id());
    EXPECT_NE(std::find(states.begin(), states.end(), State::kExpired), states.end());
  }
  auto fw = watch.get_future();
  ASSERT_EQ(fw.wait_for(seconds(10)), std::future_status::ready);
  WatchEvent ev = fw.get();
  // The old session's watch ends: either the node went away with the old session, or the
  // watch is reported gone with the session.
  EXPECT_TRUE(ev.type == EventType::kSessionExpired || ev.type == EventType::kDeleted)
      << EventTypeName(ev.type);
  // The ephemeral node is back, owned by the new session.
  StatResult st = c.Exists(root + "/me");
  ASSERT_TRUE(st.status.ok()) << st.status.ToString();
  EXPECT_EQ(st.stat.ephemeral_owner, c.session_id());
  // The kept watch was re-armed on the new session.
  auto writer = Connected();
  // A write whose answer is lost (see RemoveTree) is submitted again; NODEEXISTS then
  // means the first attempt landed.
  Status cfg;
  ASSERT_TRUE(Eventually([&] {
    cfg = writer->Create(root + "/cfg", "after-expiry").status;
    return !IsOutcomeUnknown(cfg.code());
  }));
  ASSERT_TRUE(cfg.ok() || cfg.code() == Error::kNodeExists) << cfg.ToString();
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return kept_value == "after-expiry";
  }));
  kept.reset();
  c.Close();
  auto cleanup = Connected();
  RemoveTree(*cleanup, root);
}

TEST(ClientTest, ConnectionDroppedByTheServerKeepsTheSession) {
  // Another handle resuming this session on this client's own server makes that server drop
  // the client's connection (the C client logs errno 112, "Host is down"). The client
  // reconnects with the same session: no new session, the ephemeral node stays.
  ListenerLog log;
  Client c(Options("owner"));
  log.Attach(c);
  ASSERT_TRUE(c.Connect(seconds(20)).ok());
  const int64_t session = c.session_id();
  const std::string root = Root();
  CreateOptions eph;
  eph.mode = CreateMode::kEphemeral;
  eph.make_parents = true;
  CreateResult created = c.CreateOwnedEphemeral(root + "/e", "x", eph);
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  std::string server;
  ASSERT_TRUE(Eventually([&] { return !(server = c.connected_server()).empty(); }));
  log.ClearStates();  // from here on, a kConnecting is the drop below

  ClientOptions t = Options("thief");
  t.connect = server;
  t.resume = c.session();
  auto thief = std::make_unique<Client>(t);
  ASSERT_TRUE(thief->Connect(seconds(10)).ok());
  EXPECT_EQ(thief->session_id(), session);
  ASSERT_TRUE(Eventually([&] { return log.Saw(State::kConnecting); }))
      << "the server did not drop the first connection of the session";
  // The thief may knock it off again (each connect with the session drops the other
  // handle there): what counts is that it gets back, with the same session.
  StatResult e;
  ASSERT_TRUE(Eventually(
      [&] {
        e = c.Exists(root + "/e");
        return e.status.ok();
      },
      seconds(30)))
      << "no connection after the drop; state " << StateName(c.state());
  EXPECT_EQ(e.stat.ephemeral_owner, session);
  EXPECT_EQ(c.session_id(), session);
  EXPECT_EQ(log.Sessions(), 1);
  EXPECT_FALSE(log.Saw(State::kExpired));
  thief.reset();
  c.Close();
  auto cleanup = Connected();
  RemoveTree(*cleanup, root);
}

TEST(ClientTest, UnreachableEnsembleFailsWithinTheDeadline) {
  // Two loopback addresses where nothing listens.
  std::string a = zkop::testing::PickLoopbackAddress({2181});
  std::string b = zkop::testing::PickLoopbackAddress({2181});
  ClientOptions o;
  o.connect = a + ":2181," + b + ":2181";
  o.session_timeout = seconds(4);
  Client c(o);
  auto start = std::chrono::steady_clock::now();
  Status s = c.Connect(milliseconds(1500));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), Error::kConnectTimeout);
  EXPECT_NE(s.ToString().find(o.connect), std::string::npos) << s.ToString();
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_GE(took, milliseconds(1400));
  // Requests fail instead of hanging.
  auto get_start = std::chrono::steady_clock::now();
  DataResult r = c.Get("/");
  EXPECT_FALSE(r.status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - get_start, seconds(10));
  auto close_start = std::chrono::steady_clock::now();
  c.Close();
  EXPECT_LT(std::chrono::steady_clock::now() - close_start, seconds(5));
}

TEST(ClientTest, ConfigAndServerIdentity) {
  auto& ensemble = ZkEnsembleEnvironment::Ensemble();
  auto c = Connected();
  EnsembleConfig cfg;
  Status s = c->GetEnsembleConfig(&cfg);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(cfg.members.size(), 3u);
  for (int id : ensemble.Ids()) {
    ASSERT_NE(cfg.Find(id), nullptr);
    EXPECT_EQ(cfg.Find(id)->ClientAddress(), ensemble.ClientAddress(id));
  }
  const std::string server = c->connected_server();
  EXPECT_NE(ensemble.ConnectString().find(server), std::string::npos) << server;
  EXPECT_GT(c->negotiated_session_timeout().count(), 0);
  int leader = ensemble.Leader();
  EXPECT_GE(leader, 1);
  EXPECT_EQ(ensemble.Mode(leader), ServerMode::kLeader);
  std::map<std::string, std::string> mntr =
      ParseMntr(FourLetterWord(ensemble.ClientAddress(leader), "mntr", seconds(2)).text);
  EXPECT_EQ(mntr["zk_server_state"], "leader");
  EXPECT_EQ(mntr["zk_synced_followers"], "2");
}

}  // namespace
}  // namespace zkop::zk
