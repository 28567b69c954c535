// Emulator conformance: CustomResourceDefinitions — establishment, discovery, structural
// schema validation / defaulting / pruning, generation, and the status and scale subresources
// (kubernetes.io docs "Extend the Kubernetes API with CustomResourceDefinitions").
#include "devkube_test_env.h"

namespace zkop::devkube::testing {
namespace {

const std::string kZkc = "/apis/zkop.io/v1alpha1/namespaces/default/zookeeperclusters";

class CrdConformance : public DevkubeTest {
 protected:
  void SetUp() override {
    DevkubeTest::SetUp();
    InstallZkCrd();
  }
  Reply CreateZkc(const std::string& name, const std::string& spec_yaml) {
    return client().Post(kZkc, Yaml("apiVersion: zkop.io/v1alpha1\nkind: ZookeeperCluster\n"
                                    "metadata: {name: " +
                                    name + "}\nspec: " + spec_yaml));
  }
};

// CRD docs "Create a CustomResourceDefinition": the CRD gets NamesAccepted and Established
// conditions and its group-version appears in discovery.
TEST_F(CrdConformance, EstablishedAndDiscoverable) {
  Reply crd = client().Get(
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
      "zookeeperclusters.zkop.io");
  ASSERT_EQ(crd.status, 200);
  std::string conds;
  for (const Json& c : crd.json["status"]["conditions"].as_array())
    conds += GetString(c, {"type"}) + "=" + GetString(c, {"status"}) + " ";
  EXPECT_EQ(conds, "NamesAccepted=True Established=True ");
  Reply rl = client().Get("/apis/zkop.io/v1alpha1");
  ASSERT_EQ(rl.status, 200);
  std::string names;
  for (const Json& r : rl.json["resources"].as_array()) names += GetString(r, {"name"}) + " ";
  EXPECT_EQ(names, "zookeeperclusters zookeeperclusters/status zookeeperclusters/scale ");
  EXPECT_EQ(rl.json["resources"][0]["shortNames"].serialize(), R"(["zkc"])");
  Reply v3 = client().Get("/openapi/v3/apis/zkop.io/v1alpha1");
  ASSERT_EQ(v3.status, 200);
  EXPECT_TRUE(HasKey(v3.json["components"]["schemas"], "io.zkop.v1alpha1.ZookeeperCluster"));
  // A CRD whose name does not match plural.group is Invalid.
  Json bad = Yaml(ReadSourceFile("crds/zookeeperclusters.zkop.io.yaml"));
  bad["metadata"]["name"] = Json::string("wrong.zkop.io");
  Reply r = client().Post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", bad);
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(GetString(r.json, {"message"}).find("must be spec.names.plural+\".\"+spec.group"),
            std::string::npos);
}

// CRD docs "Validation": bad values are 422 Invalid with the real server's messages and field
// paths in details.causes.
TEST_F(CrdConformance, SchemaValidationMessages) {
  Reply r = CreateZkc("demo", "{replicas: 0}");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(GetString(r.json, {"message"}),
            "ZookeeperCluster.zkop.io \"demo\" is invalid: spec.replicas: Invalid value: 0: "
            "spec.replicas in body should be greater than or equal to 1");
  EXPECT_EQ(GetString(r.json, {"reason"}), "Invalid");
  EXPECT_EQ(GetString(r.json, {"details", "kind"}), "ZookeeperCluster");
  EXPECT_EQ(GetString(r.json, {"details", "group"}), "zkop.io");
  EXPECT_EQ(
      r.json["details"]["causes"].serialize(),
      R"([{"field":"spec.replicas","message":"Invalid value: 0: spec.replicas in body should be greater than or equal to 1","reason":"FieldValueInvalid"}])");

  r = CreateZkc("demo", "{replicas: \"three\", imagePullPolicy: Sometimes, storage: {size: lots}}");
  EXPECT_EQ(GetString(r.json, {"message"}),
            "ZookeeperCluster.zkop.io \"demo\" is invalid: [spec.imagePullPolicy: Unsupported "
            "value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\", "
            "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type "
            "integer: \"string\", spec.storage.size: Invalid value: \"lots\": spec.storage.size in "
            "body should match '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$']");
  r = CreateZkc("demo", "{replicas: 10, image: \"\"}");
  EXPECT_EQ(GetString(r.json, {"message"}),
            "ZookeeperCluster.zkop.io \"demo\" is invalid: [spec.image: Invalid value: \"\": "
            "spec.image in body should be at least 1 chars long, spec.replicas: Invalid value: "
            "10: spec.replicas in body should be less than or equal to 9]");
  r = client().Post(kZkc, Yaml("metadata: {name: nospec}"));
  EXPECT_EQ(GetString(r.json, {"message"}),
            "ZookeeperCluster.zkop.io \"nospec\" is invalid: spec: Required value");
  // int-or-string quantities and preserve-unknown-fields subtrees are accepted.
  r = CreateZkc("ok", R"({resources: {limits: {cpu: 1, memory: 1Gi}},
                          podTemplate: {affinity: {nodeAffinity: {anything: [1]}}}})");
  EXPECT_EQ(r.status, 201) << r.body;
}

// CRD docs "Defaulting" and "Field pruning": defaults fill absent fields (also inside
// objects that are present); unknown fields are dropped, or rejected with fieldValidation=Strict.
TEST_F(CrdConformance, DefaultsAndPruning) {
  Reply r = CreateZkc("demo", "{storage: {storageClassName: fast}, surprise: 1}");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json["spec"]["replicas"].as_integer(), 3);
  EXPECT_EQ(GetString(r.json, {"spec", "image"}), "zkop/zookeeper:3.8.0");
  EXPECT_EQ(GetString(r.json, {"spec", "storage", "size"}), "1Gi");
  EXPECT_FALSE(HasKey(r.json["spec"], "surprise"));
  EXPECT_FALSE(HasKey(r.json["spec"], "agent"));  // no default for an absent parent
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], "299 - \"unknown field \\\"spec.surprise\\\"\"");
  Reply strict = client().Post(
      kZkc + "?fieldValidation=Strict",
      Yaml("apiVersion: zkop.io/v1alpha1\nkind: ZookeeperCluster\nmetadata: {name: s}\n"
           "spec: {replicas: 3, surprise: 1}"));
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(GetString(strict.json, {"message"}),
            "ZookeeperCluster in version \"v1alpha1\" cannot be handled as a ZookeeperCluster: "
            "strict decoding error: unknown field \"spec.surprise\"");
}

// api-conventions "Spec and Status" + CRD docs "Status subresource": the main resource ignores
// status changes, /status ignores everything but status, and metadata.generation grows only
// with spec changes.
TEST_F(CrdConformance, StatusSubresourceAndGeneration) {
  Reply c = CreateZkc("demo", "{replicas: 3}");
  ASSERT_EQ(c.status, 201);
  EXPECT_EQ(c.json["metadata"]["generation"].as_integer(), 1);
  Reply s =
      client().Patch(kZkc + "/demo/status", "application/merge-patch+json",
                     R"({"spec":{"replicas":5},"status":{"readyReplicas":2,"leader":"demo-1"}})");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.json["spec"]["replicas"].as_integer(), 3);
  EXPECT_EQ(s.json["status"]["readyReplicas"].as_integer(), 2);
  EXPECT_EQ(s.json["metadata"]["generation"].as_integer(), 1);
  Reply m = client().Patch(kZkc + "/demo", "application/merge-patch+json",
                           R"({"spec":{"replicas":5},"status":{"readyReplicas":9}})");
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.json["spec"]["replicas"].as_integer(), 5);
  EXPECT_EQ(m.json["status"]["readyReplicas"].as_integer(), 2);
  EXPECT_EQ(m.json["metadata"]["generation"].as_integer(), 2);
  Reply l = client().Patch(kZkc + "/demo", "application/merge-patch+json",
                           R"({"metadata":{"labels":{"x":"y"}}})");
  EXPECT_EQ(l.json["metadata"]["generation"].as_integer(), 2);
  // A no-op write does not change the resourceVersion.
  Reply same =
      client().Patch(kZkc + "/demo", "application/merge-patch+json", R"({"spec":{"replicas":5}})");
  EXPECT_EQ(Rv(same.json), Rv(l.json));
  // Status is validated against the schema too.
  Reply bad = client().Patch(kZkc + "/demo/status", "application/merge-patch+json",
                             R"({"status":{"members":[{"id":0,"pod":"demo-0","role":"boss"}]}})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(GetString(bad.json, {"message"}).find("status.members[0].id: Invalid value: 0"),
            std::string::npos)
      << bad.body;
  // Creating with a status drops it (the status subresource owns it).
  Reply withstatus =
      client().Post(kZkc, Yaml("metadata: {name: w}\nspec: {}\nstatus: {leader: x}"));
  EXPECT_FALSE(HasKey(withstatus.json, "status"));
}

// CRD docs "Scale subresource": an autoscaling/v1 Scale built from specReplicasPath,
// statusReplicasPath and labelSelectorPath; writing it changes spec.replicas.
TEST_F(CrdConformance, ScaleSubresource) {
  ASSERT_EQ(CreateZkc("demo", "{replicas: 3}").status, 201);
  client().Patch(kZkc + "/demo/status", "application/merge-patch+json",
                 R"({"status":{"replicas":3,"selector":"app.kubernetes.io/instance=demo"}})");
  Reply g = client().Get(kZkc + "/demo/scale");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(GetString(g.json, {"kind"}), "Scale");
  EXPECT_EQ(GetString(g.json, {"apiVersion"}), "autoscaling/v1");
  EXPECT_EQ(g.json["spec"]["replicas"].as_integer(), 3);
  EXPECT_EQ(g.json["status"]["replicas"].as_integer(), 3);
  EXPECT_EQ(GetString(g.json, {"status", "selector"}), "app.kubernetes.io/instance=demo");
  Json scale = g.json;
  scale["spec"]["replicas"] = Json::number(5);
  Reply p = client().Put(kZkc + "/demo/scale", scale);
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json["spec"]["replicas"].as_integer(), 5);
  EXPECT_EQ(client().Get(kZkc + "/demo").json["spec"]["replicas"].as_integer(), 5);
  // A stale Scale conflicts; an out-of-range one is rejected by the CR's schema.
  EXPECT_EQ(client().Put(kZkc + "/demo/scale", scale).status, 409);
  Reply big = client().Patch(kZkc + "/demo/scale", "application/merge-patch+json",
                             R"({"spec":{"replicas":12}})");
  EXPECT_EQ(big.status, 422);
}

// kubectl's printer columns: the CRD's additionalPrinterColumns as a Table.
TEST_F(CrdConformance, PrinterColumnsTable) {
  ASSERT_EQ(CreateZkc("demo", "{replicas: 3}").status, 201);
  client().Patch(kZkc + "/demo/status", "application/merge-patch+json",
                 R"({"status":{"readyReplicas":2,"leader":"demo-2","version":"3.8.0"}})");
  Reply t = client().Get(kZkc, "application/json;as=Table;v=v1;g=meta.k8s.io");
  ASSERT_EQ(t.status, 200);
  std::string cols;
  for (const Json& c : t.json["columnDefinitions"].as_array()) cols += GetString(c, {"name"}) + ",";
  EXPECT_EQ(cols, "Name,Ready,Replicas,Leader,Version,Age,");
  const Json& cells = t.json["rows"][0]["cells"];
  ASSERT_EQ(cells.size(), 6u);
  EXPECT_EQ(cells.serialize().substr(0, 29), R"(["demo",2,3,"demo-2","3.8.0",)");
  EXPECT_EQ(cells.at(5).as_string().back(), 's');  // age, e.g. "0s"
}

// Deleting a CRD deletes its custom resources and removes the group from discovery.
TEST_F(CrdConformance, DeletingTheCrdRemovesItsObjects) {
  ASSERT_EQ(CreateZkc("demo", "{}").status, 201);
  auto w = Watch(kZkc + "?watch=true&resourceVersion=" +
                 GetString(client().Get(kZkc).json, {"metadata", "resourceVersion"}));
  EXPECT_EQ(client()
                .Delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                        "zookeeperclusters.zkop.io")
                .status,
            200);
  auto e = w->Next();
  ASSERT_TRUE(e);
  EXPECT_EQ(GetString(*e, {"type"}), "DELETED");
  EXPECT_EQ(client().Get("/apis/zkop.io/v1alpha1").status, 404);
  EXPECT_EQ(client().Get(kZkc).status, 404);
}

}  // namespace
}  // namespace zkop::devkube::testing
