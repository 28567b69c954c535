// Emulator conformance: deletion — finalizers, DeleteOptions preconditions, ownerReference
// garbage collection, graceful deletion of bound pods, namespace termination
// (kubernetes.io docs "Finalizers", "Garbage Collection", "Owners and Dependents",
// "Pod Lifecycle: Termination of Pods", "Namespaces").
#include "devkube_test_env.h"

namespace zkop::devkube::testing {
namespace {

const std::string kCm = "/api/v1/namespaces/default/configmaps";
const std::string kPods = "/api/v1/namespaces/default/pods";

using DeleteConformance = DevkubeTest;

Json Owned(const std::string& name, Json owner) {
  Json obj = DevkubeTest::Yaml("metadata: {name: " + name + "}");
  Json ref = Json::object();
  ref["apiVersion"] = Json::string("v1");
  ref["kind"] = Json::string("ConfigMap");
  ref["name"] = owner["metadata"]["name"];
  ref["uid"] = owner["metadata"]["uid"];
  obj["metadata"]["ownerReferences"] = Json::array({ref});
  return obj;
}

// "Finalizers": a delete marks the object (deletionTimestamp, 202) while finalizers remain;
// removing the last finalizer removes it (DELETED).
TEST_F(DeleteConformance, FinalizersHoldDeletion) {
  Reply c = client().Post(kCm, Yaml("metadata: {name: f, finalizers: [zkop.io/cleanup]}"));
  ASSERT_EQ(c.status, 201);
  auto w = Watch(kCm + "?watch=true&resourceVersion=" + std::to_string(Rv(c.json)));
  Reply d = client().Delete(kCm + "/f");
  EXPECT_EQ(d.status, 202);
  EXPECT_FALSE(GetString(d.json, {"metadata", "deletionTimestamp"}).empty());
  EXPECT_EQ(client().Get(kCm + "/f").status, 200);
  // No new finalizers while deleting.
  Reply add = client().Patch(kCm + "/f", "application/merge-patch+json",
                             R"({"metadata":{"finalizers":["zkop.io/cleanup","other"]}})");
  EXPECT_EQ(add.status, 422);
  Reply rm = client().Patch(kCm + "/f", "application/json-patch+json",
                            R"([{"op":"remove","path":"/metadata/finalizers"}])");
  EXPECT_EQ(rm.status, 200) << rm.body;
  EXPECT_EQ(client().Get(kCm + "/f").status, 404);
  std::string types;
  for (int i = 0; i < 3; ++i)
    if (auto e = w->Next()) types += GetString(*e, {"type"}) + " ";
  EXPECT_EQ(types, "MODIFIED MODIFIED DELETED ");
}

// api-conventions "Concurrency Control": DeleteOptions.preconditions uid / resourceVersion.
TEST_F(DeleteConformance, Preconditions) {
  Reply c = client().Post(kCm, Yaml("metadata: {name: p}"));
  Reply bad = client().Delete(kCm + "/p", R"({"preconditions":{"uid":"nope"}})");
  EXPECT_EQ(bad.status, 409);
  EXPECT_EQ(GetString(bad.json, {"message"}),
            "Operation cannot be fulfilled on configmaps \"p\": Precondition failed: UID in "
            "precondition: nope, UID in object meta: " +
                GetString(c.json, {"metadata", "uid"}));
  Reply stale = client().Delete(kCm + "/p", R"({"preconditions":{"resourceVersion":"1"}})");
  EXPECT_EQ(stale.status, 409);
  Reply ok = client().Delete(
      kCm + "/p", R"({"preconditions":{"uid":")" + GetString(c.json, {"metadata", "uid"}) + "\"}}");
  EXPECT_EQ(ok.status, 200);
}

// "Garbage Collection" background cascade: dependents of a deleted owner are deleted; a
// dependent with another live owner only loses the dangling reference.
TEST_F(DeleteConformance, BackgroundCascade) {
  Reply owner = client().Post(kCm, Yaml("metadata: {name: owner}"));
  Reply other = client().Post(kCm, Yaml("metadata: {name: other}"));
  ASSERT_EQ(client().Post(kCm, Owned("child", owner.json)).status, 201);
  ASSERT_EQ(client().Post(kCm, Owned("grandchild", client().Get(kCm + "/child").json)).status, 201);
  Json shared = Owned("shared", owner.json);
  Json ref2 = Owned("x", other.json)["metadata"]["ownerReferences"][0];
  shared["metadata"]["ownerReferences"][1] = ref2;
  ASSERT_EQ(client().Post(kCm, shared).status, 201);
  EXPECT_EQ(client().Delete(kCm + "/owner", R"({"propagationPolicy":"Background"})").status, 200);
  EXPECT_EQ(client().Get(kCm + "/child").status, 404);
  EXPECT_EQ(client().Get(kCm + "/grandchild").status, 404);
  Reply s = client().Get(kCm + "/shared");
  ASSERT_EQ(s.status, 200);
  EXPECT_EQ(s.json["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(GetString(s.json["metadata"]["ownerReferences"][0], {"name"}), "other");
}

// "Garbage Collection" Orphan: dependents stay and lose the owner reference. Foreground: the
// owner waits (foregroundDeletion finalizer) until dependents are gone.
TEST_F(DeleteConformance, OrphanAndForeground) {
  Reply owner = client().Post(kCm, Yaml("metadata: {name: owner}"));
  client().Post(kCm, Owned("kept", owner.json));
  EXPECT_EQ(client().Delete(kCm + "/owner?propagationPolicy=Orphan").status, 200);
  Reply kept = client().Get(kCm + "/kept");
  ASSERT_EQ(kept.status, 200);
  EXPECT_FALSE(HasKey(kept.json["metadata"], "ownerReferences"));

  Reply o2 = client().Post(kCm, Yaml("metadata: {name: o2}"));
  Json blocked = Owned("blocked", o2.json);
  blocked["metadata"]["finalizers"] = Json::array({Json::string("hold")});
  client().Post(kCm, blocked);
  Reply d = client().Delete(kCm + "/o2", R"({"propagationPolicy":"Foreground"})");
  EXPECT_EQ(d.status, 202);
  Reply waiting = client().Get(kCm + "/o2");
  ASSERT_EQ(waiting.status, 200);
  EXPECT_EQ(waiting.json["metadata"]["finalizers"].serialize(), R"(["foregroundDeletion"])");
  client().Patch(kCm + "/blocked", "application/merge-patch+json",
                 R"({"metadata":{"finalizers":null}})");
  EXPECT_EQ(client().Get(kCm + "/blocked").status, 404);
  EXPECT_EQ(client().Get(kCm + "/o2").status, 404);
}

// "Termination of Pods": a pod bound to a node is deleted gracefully (deletionTimestamp +
// grace) until its kubelet confirms with gracePeriodSeconds=0; an unbound pod goes at once.
// The pods status subresource changes only status.
TEST_F(DeleteConformance, PodsGracefulDeletionAndStatus) {
  Reply p =
      client().Post(kPods, Yaml("metadata: {name: p}\nspec: {containers: [{name: c, image: i}]}"));
  ASSERT_EQ(p.status, 201) << p.body;
  EXPECT_EQ(GetString(p.json, {"status", "phase"}), "Pending");
  Reply bound = client().Patch(kPods + "/p", "application/merge-patch+json",
                               R"({"spec":{"nodeName":"devkube"}})");
  ASSERT_EQ(bound.status, 200);
  Reply st = client().Patch(
      kPods + "/p/status", "application/merge-patch+json",
      R"({"status":{"phase":"Running","podIP":"127.1.2.3"},"spec":{"nodeName":"x"}})");
  EXPECT_EQ(GetString(st.json, {"status", "phase"}), "Running");
  EXPECT_EQ(GetString(st.json, {"spec", "nodeName"}), "devkube");
  Reply d = client().Delete(kPods + "/p");
  EXPECT_EQ(d.status, 202);
  EXPECT_EQ(d.json["metadata"]["deletionGracePeriodSeconds"].as_integer(), 30);
  EXPECT_EQ(client().Get(kPods + "/p").status, 200);
  EXPECT_EQ(client().Delete(kPods + "/p", R"({"gracePeriodSeconds":0})").status, 200);
  EXPECT_EQ(client().Get(kPods + "/p").status, 404);
  client().Post(kPods, Yaml("metadata: {name: q}\nspec: {containers: [{name: c, image: i}]}"));
  EXPECT_EQ(client().Delete(kPods + "/q").status, 200);
  EXPECT_EQ(client().Get(kPods + "/q").status, 404);
}

// "Namespaces": deleting a namespace deletes its contents; it is Terminating while contents
// with finalizers remain and refuses new content.
TEST_F(DeleteConformance, NamespaceTermination) {
  client().Post("/api/v1/namespaces", Yaml("metadata: {name: gone}"));
  const std::string cm = "/api/v1/namespaces/gone/configmaps";
  client().Post(cm, Yaml("metadata: {name: a}"));
  client().Post(cm, Yaml("metadata: {name: held, finalizers: [x]}"));
  EXPECT_EQ(client().Delete("/api/v1/namespaces/gone").status, 202);
  Reply ns = client().Get("/api/v1/namespaces/gone");
  EXPECT_EQ(GetString(ns.json, {"status", "phase"}), "Terminating");
  EXPECT_EQ(client().Get(cm + "/a").status, 404);
  Reply refused = client().Post(cm, Yaml("metadata: {name: new}"));
  EXPECT_EQ(refused.status, 403);
  client().Patch(cm + "/held", "application/merge-patch+json",
                 R"({"metadata":{"finalizers":null}})");
  EXPECT_EQ(client().Get("/api/v1/namespaces/gone").status, 404);
}

}  // namespace
}  // namespace zkop::devkube::testing
