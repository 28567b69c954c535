// Conformance over HTTP for what real clients send beyond JSON, each citing the Kubernetes
// behaviour it follows:
//  - protobuf create/update/delete bodies (api-concepts "Protobuf encoding"; client-go's typed
//    clients, Helm's release storage, `kubectl create <kind>`), and 415 for what is not decoded;
//  - content negotiation: `Accept: application/vnd.kubernetes.protobuf, application/json` is
//    answered with JSON, protobuf alone with 406;
//  - boolean query parameters as apimachinery converts them (Convert_Slice_string_To_bool);
//  - /version/, events.k8s.io/v1 Events, Lease MicroTime.
#include "devkube_test_env.h"
#include "k8s/coordination_v1.pb.h"
#include "k8s/core_v1.pb.h"
#include "k8s/meta_v1.pb.h"
#include "k8s/runtime.pb.h"

namespace zkop::devkube::testing {
namespace {

namespace core = ::k8s::io::api::core::v1;
const char* kProtobuf = "application/vnd.kubernetes.protobuf";
const char* kSecrets = "/api/v1/namespaces/default/secrets";

std::string Envelope(const std::string& api_version, const std::string& kind,
                     const google::protobuf::Message& m) {
  ::k8s::io::apimachinery::pkg::runtime::Unknown u;
  u.mutable_typemeta()->set_apiversion(api_version);
  u.mutable_typemeta()->set_kind(kind);
  u.set_raw(m.SerializeAsString());
  return std::string("k8s\0", 4) + u.SerializeAsString();
}

core::Secret ReleaseSecret(const std::string& name, const std::string& payload) {
  core::Secret s;
  s.mutable_metadata()->set_name(name);
  (*s.mutable_metadata()->mutable_labels())["owner"] = "helm";
  s.set_type("helm.sh/release.v1");
  (*s.mutable_data())["release"] = payload;
  return s;
}

using ProtobufConformance = DevkubeTest;

// Create and update with protobuf bodies, as Helm's Secrets driver does; the stored object is
// the one the JSON API would hold, and optimistic concurrency still applies.
TEST_F(ProtobufConformance, CreateAndUpdateSecret) {
  Reply c = client().Do("POST", kSecrets, Envelope("v1", "Secret", ReleaseSecret("rel.v1", "one")),
                        kProtobuf, "application/vnd.kubernetes.protobuf, application/json");
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.content_type, "application/json");  // responses stay JSON
  EXPECT_EQ(GetString(c.json, {"data", "release"}), "b25l");
  EXPECT_EQ(GetString(c.json, {"type"}), "helm.sh/release.v1");
  EXPECT_EQ(GetString(c.json, {"metadata", "labels", "owner"}), "helm");
  Result<Json> stored = server_->store().Get({"", "v1", "secrets", "default", "rel.v1", ""});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored.value.serialize(), c.json.serialize());

  core::Secret next = ReleaseSecret("rel.v1", "two");
  next.mutable_metadata()->set_resourceversion(GetString(c.json, {"metadata", "resourceVersion"}));
  Reply u = client().Do("PUT", std::string(kSecrets) + "/rel.v1", Envelope("v1", "Secret", next),
                        kProtobuf);
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(GetString(u.json, {"data", "release"}), "dHdv");
  // The same stale resourceVersion again: 409 Conflict (api-concepts "Resource versions").
  Reply stale = client().Do("PUT", std::string(kSecrets) + "/rel.v1",
                            Envelope("v1", "Secret", next), kProtobuf);
  EXPECT_EQ(stale.status, 409) << stale.body;
}

// A kind the server cannot decode from protobuf gets 415 with a Status, never a 400 from a
// JSON parser (what a JSON-only server answers).
TEST_F(ProtobufConformance, UndecodableKindIs415) {
  core::Secret s = ReleaseSecret("x", "y");
  Reply r = client().Do("POST", kSecrets, Envelope("batch/v1", "Job", s), kProtobuf);
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(GetString(r.json, {"kind"}), "Status");
  EXPECT_EQ(GetString(r.json, {"reason"}), "UnsupportedMediaType");
  EXPECT_EQ(r.json["code"].as_integer(), 415);
  r = client().Do("POST", kSecrets, "not protobuf", kProtobuf);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(GetString(r.json, {"reason"}), "BadRequest");
}

// DELETE with a protobuf DeleteOptions body (Helm's uninstall): preconditions are honoured
// (api-concepts "Deletion": a uid precondition that does not match is 409).
TEST_F(ProtobufConformance, DeleteWithProtobufOptions) {
  Reply c = client().Do("POST", kSecrets, Envelope("v1", "Secret", ReleaseSecret("gone", "x")),
                        kProtobuf);
  ASSERT_EQ(c.status, 201) << c.body;
  ::k8s::io::apimachinery::pkg::apis::meta::v1::DeleteOptions o;
  o.mutable_preconditions()->set_uid("not-the-uid");
  Reply wrong = client().Do("DELETE", std::string(kSecrets) + "/gone",
                            Envelope("v1", "DeleteOptions", o), kProtobuf);
  EXPECT_EQ(wrong.status, 409) << wrong.body;
  EXPECT_NE(wrong.body.find("Precondition failed: UID in precondition: not-the-uid"),
            std::string::npos)
      << wrong.body;
  o.mutable_preconditions()->set_uid(GetString(c.json, {"metadata", "uid"}));
  o.set_propagationpolicy("Background");
  Reply ok = client().Do("DELETE", std::string(kSecrets) + "/gone",
                         Envelope("v1", "DeleteOptions", o), kProtobuf);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(server_->store().Get({"", "v1", "secrets", "default", "gone", ""}).ok());
  o.set_propagationpolicy("Sideways");
  Reply bad = client().Do("DELETE", std::string(kSecrets) + "/gone",
                          Envelope("v1", "DeleteOptions", o), kProtobuf);
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// api-concepts "Alternate representations": the server answers the first media type it can
// produce; with none it can, 406 NotAcceptable.
TEST_F(ProtobufConformance, AcceptNegotiation) {
  Reply both = client().Get(kSecrets, "application/vnd.kubernetes.protobuf, application/json");
  EXPECT_EQ(both.status, 200);
  EXPECT_EQ(both.content_type, "application/json");
  EXPECT_EQ(GetString(both.json, {"kind"}), "SecretList");
  Reply only = client().Get(kSecrets, "application/vnd.kubernetes.protobuf");
  EXPECT_EQ(only.status, 406) << only.body;
  EXPECT_EQ(GetString(only.json, {"reason"}), "NotAcceptable");
  EXPECT_EQ(client().Get(kSecrets, "*/*").status, 200);
}

// apimachinery's Convert_Slice_string_To_bool: a present parameter is true unless it is "0"
// or "false" in any case; Python's client sends watch=True.
TEST_F(ProtobufConformance, GoBooleanQueryParameters) {
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  for (const char* yes : {"True", "true", "TRUE", "t", "T", "1", ""}) {
    auto w = Watch(cms + "?watch=" + yes);
    EXPECT_EQ(w->status(), 200) << yes;
    // A list would be complete at once; a watch stays open.
    EXPECT_FALSE(w->Ended(std::chrono::milliseconds(200))) << yes;
  }
  for (const char* no : {"false", "False", "FALSE", "0"}) {
    Reply list = client().Get(cms + "?watch=" + no);
    EXPECT_EQ(GetString(list.json, {"kind"}), "ConfigMapList") << no;
  }
  ApiServerOptions fast;
  fast.bookmark_interval = std::chrono::milliseconds(100);
  Start(fast);
  auto w = Watch(cms + "?watch=True&allowWatchBookmarks=True");
  std::optional<Json> ev = w->Next(std::chrono::seconds(5));
  ASSERT_TRUE(ev);
  EXPECT_EQ(GetString(*ev, {"type"}), "BOOKMARK");
}

TEST_F(ProtobufConformance, VersionWithTrailingSlash) {
  Reply r = client().Get("/version/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(GetString(r.json, {"major"}), "1");
}

// events.k8s.io/v1 is discovered and serves CRUD (field names of that version: regarding,
// note, reportingController).
TEST_F(ProtobufConformance, EventsK8sIoV1) {
  Reply disc = client().Get("/apis/events.k8s.io/v1");
  ASSERT_EQ(disc.status, 200);
  EXPECT_NE(disc.body.find("\"name\":\"events\""), std::string::npos);
  EXPECT_NE(client().Get("/apis").body.find("events.k8s.io"), std::string::npos);
  const std::string evs = "/apis/events.k8s.io/v1/namespaces/default/events";
  Reply c = client().Post(evs, Yaml(R"(
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: demo.1}
eventTime: "2024-05-01T12:00:00.500000+02:00"
reportingController: zkop.io/operator
reportingInstance: zkop-operator-0
action: Scale
reason: ScaledUp
regarding: {kind: ZookeeperCluster, name: demo, namespace: default}
note: member 4 joined
type: Normal
)"));
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(GetString(c.json, {"eventTime"}), "2024-05-01T10:00:00.500000Z");
  Reply list = client().Get(evs + "?fieldSelector=reason%3DScaledUp");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.json["items"].size(), 1u);
  EXPECT_EQ(client().Delete(evs + "/demo.1").status, 200);
  // Like the real server, an events.k8s.io Event needs a MicroTime of exactly 6 digits.
  Reply bad = client().Post(evs, Yaml("metadata: {name: e2}\neventTime: '2024-05-01T10:00:00Z'"));
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// metav1.MicroTime: Lease renewTime/acquireTime are read as RFC3339Micro and stored in UTC,
// from JSON and from protobuf; other precisions are rejected like the real server does.
TEST_F(ProtobufConformance, LeaseMicroTime) {
  const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
  Reply c = client().Post(leases, Yaml(R"(
metadata: {name: zkop}
spec: {holderIdentity: a, acquireTime: "2024-05-01T12:00:00.000001+02:00",
       renewTime: "2024-05-01T10:00:01.250000Z"}
)"));
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(GetString(c.json, {"spec", "acquireTime"}), "2024-05-01T10:00:00.000001Z");
  EXPECT_EQ(GetString(c.json, {"spec", "renewTime"}), "2024-05-01T10:00:01.250000Z");
  Reply p = client().Patch(leases + "/zkop", "application/merge-patch+json",
                           R"({"spec":{"renewTime":"2024-05-01T10:00:02.5Z"}})");
  EXPECT_EQ(p.status, 400) << p.body;
  EXPECT_NE(p.body.find("Lease in version \\\"v1\\\" cannot be handled as a Lease: parsing time"),
            std::string::npos)
      << p.body;
  ::k8s::io::api::coordination::v1::Lease lease;
  lease.mutable_metadata()->set_name("from-proto");
  lease.mutable_spec()->mutable_renewtime()->set_seconds(1714557600);
  lease.mutable_spec()->mutable_renewtime()->set_nanos(42000);
  Reply pc =
      client().Do("POST", leases, Envelope("coordination.k8s.io/v1", "Lease", lease), kProtobuf);
  ASSERT_EQ(pc.status, 201) << pc.body;
  EXPECT_EQ(GetString(pc.json, {"spec", "renewTime"}), "2024-05-01T10:00:00.000042Z");
}

}  // namespace
}  // namespace zkop::devkube::testing
