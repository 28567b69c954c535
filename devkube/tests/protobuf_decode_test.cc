// Protobuf request bodies (api-concepts "Protobuf encoding": the "k8s\0" magic and a
// runtime.Unknown envelope) decoded into the JSON objects the JSON API uses.
//  - a table of bodies that kubectl v1.32 really sent (fixtures/protobuf/*.hex), each compared
//    with the JSON kubectl itself prints for the same object (`--dry-run=client -o json`,
//    zero values omitted);
//  - messages built with libprotobuf for what kubectl does not send: pointer zeros, inline
//    structs, IntOrString, Quantity, Time/MicroTime, bytes, DeleteOptions, Lease, Events;
//  - untrusted input: bad magic, truncation, huge lengths, unmodelled fields, unknown kinds,
//    content encodings, size limit, invalid UTF-8, values without a JSON form.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "k8s/apps_v1.pb.h"
#include "k8s/coordination_v1.pb.h"
#include "k8s/core_v1.pb.h"
#include "k8s/events_v1.pb.h"
#include "k8s/meta_v1.pb.h"
#include "k8s/runtime.pb.h"
#include "k8s_time.h"
#include "protobuf_body.h"
#include "protobuf_json.h"

namespace zkop::devkube {
namespace {

namespace core = ::k8s::io::api::core::v1;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;

std::string Envelope(const std::string& api_version, const std::string& kind,
                     const google::protobuf::Message& m, const std::string& encoding = "") {
  ::k8s::io::apimachinery::pkg::runtime::Unknown u;
  u.mutable_typemeta()->set_apiversion(api_version);
  u.mutable_typemeta()->set_kind(kind);
  u.set_raw(m.SerializeAsString());
  u.set_contentencoding(encoding);
  u.set_contenttype("");
  return std::string("k8s\0", 4) + u.SerializeAsString();
}

Json Parse(const std::string& text) {
  std::string error;
  auto j = ParseJson(text, &error);
  EXPECT_TRUE(j) << error << ": " << text;
  return j ? *j : Json::null();
}

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(ZKOP_SOURCE_DIR) + "/devkube/tests/fixtures/protobuf/" + name +
                   ".hex");
  std::stringstream s;
  s << in.rdbuf();
  std::string hex, bytes;
  for (char c : s.str())
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += c;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

struct KubectlCase {
  const char* fixture;
  const char* api_version;
  const char* kind;
  const char* json;  // kubectl's --dry-run=client -o json, zero values omitted
};

const KubectlCase
    kKubectlCases
        [] =
            {
                {"secret-generic", "v1", "Secret",
                 R"({"apiVersion":"v1","data":{"pass":"czNjcjN0","user":"YWRtaW4="},"kind":"Secret","metadata":{"name":"s1"}})"},
                {"secret-docker-registry", "v1", "Secret",
                 R"({"apiVersion":"v1","data":{".dockerconfigjson":"eyJhdXRocyI6eyJyLmV4YW1wbGUiOnsidXNlcm5hbWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19"},"kind":"Secret","metadata":{"name":"regcred"},"type":"kubernetes.io/dockerconfigjson"})"},
                // A map keeps its empty values ("empty": ""), unlike struct fields.
                {"configmap", "v1", "ConfigMap",
                 R"({"apiVersion":"v1","data":{"empty":"","zoo.cfg":"tickTime=2000"},"kind":"ConfigMap","metadata":{"name":"cm1"}})"},
                {"namespace", "v1", "Namespace",
                 R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}})"},
                {"serviceaccount", "v1", "ServiceAccount",
                 R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"zkop-operator"}})"},
                {"deployment", "apps/v1", "Deployment",
                 R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.27","name":"nginx","ports":[{"containerPort":8080}]}]}}}})"},
                // List items keep their empty values (apiGroups [""] is the core group).
                {"role", "rbac.authorization.k8s.io/v1", "Role",
                 R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"pod-reader"},"rules":[{"apiGroups":[""],"resourceNames":["x"],"resources":["pods","configmaps"],"verbs":["get","list","watch"]}]})"},
                {"rolebinding", "rbac.authorization.k8s.io/v1", "RoleBinding",
                 R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"read-pods"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"alice"},{"kind":"ServiceAccount","name":"zkop-operator","namespace":"default"}]})"},
                {"clusterrole", "rbac.authorization.k8s.io/v1", "ClusterRole",
                 R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"crd-reader"},"rules":[{"apiGroups":["apiextensions.k8s.io"],"resources":["customresourcedefinitions"],"verbs":["get"]},{"nonResourceURLs":["/healthz"],"verbs":["get"]}]})"},
                {"clusterrolebinding", "rbac.authorization.k8s.io/v1", "ClusterRoleBinding",
                 R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crd-read"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"crd-reader"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"devs"}]})"},
                // IntOrString: a number, then a string.
                {"pdb-max-unavailable", "policy/v1", "PodDisruptionBudget",
                 R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"demo"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":"zk"}}}})"},
                {"pdb-min-available", "policy/v1", "PodDisruptionBudget",
                 R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"demo2"},"spec":{"minAvailable":"50%","selector":{"matchLabels":{"app":"zk"}}}})"},
                {"service", "v1", "Service", R"({"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"zk"},"name":"zk"},"spec":{"ports":[{"name":"2181-2181","port":2181,"protocol":"TCP","targetPort":2181},{"name":"80-http","port":80,"protocol":"TCP","targetPort":"http"}],"selector":{"app":"zk"},"type":"ClusterIP"}})"},
};

void PrintTo(const KubectlCase& c, std::ostream* os) { *os << c.fixture; }

class KubectlBodies : public ::testing::TestWithParam<KubectlCase> {};

TEST_P(KubectlBodies, DecodeToKubectlsOwnJson) {
  const KubectlCase& c = GetParam();
  std::string body = Fixture(std::string("kubectl-create-") + c.fixture);
  ASSERT_GT(body.size(), 4u) << "missing fixture " << c.fixture;
  // The URL's kind is only a default: kubectl's envelope names the kind itself.
  Result<Json> r = DecodeProtobufBody(body, "unused/v1", "Unused");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.serialize(), Parse(c.json).serialize());
  EXPECT_EQ(GetString(r.value, {"apiVersion"}), c.api_version);
  EXPECT_EQ(GetString(r.value, {"kind"}), c.kind);
}

std::string CaseName(const ::testing::TestParamInfo<KubectlCase>& param) {
  std::string n;
  for (const char* p = param.param.fixture; *p; ++p)
    n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(ProtobufDecode, KubectlBodies, ::testing::ValuesIn(kKubectlCases),
                         CaseName);

// Go pointers keep their zero values (terminationGracePeriodSeconds: 0, automount false,
// emptyDir {}); plain fields drop them; inline structs merge into their parent
// (configMapKeyRef.name, volume sources, probe handlers).
TEST(ProtobufDecode, PodPointerZerosInlineStructsAndWrappers) {
  core::Pod pod;
  pod.mutable_metadata()->set_name("demo-1");
  pod.mutable_metadata()->set_namespace_("");
  pod.mutable_metadata()->mutable_creationtimestamp()->set_seconds(kGoZeroTimeSeconds);
  (*pod.mutable_metadata()->mutable_labels())["zkop.io/member-id"] = "1";
  core::PodSpec* spec = pod.mutable_spec();
  spec->set_terminationgraceperiodseconds(0);
  spec->set_automountserviceaccounttoken(false);
  spec->set_hostnetwork(false);
  spec->set_restartpolicy("");
  core::Volume* v = spec->add_volumes();
  v->set_name("data");
  v->mutable_volumesource()->mutable_emptydir();
  core::Container* c = spec->add_containers();
  c->set_name("zk");
  c->set_image("zookeeper:3.8");
  c->set_stdin(false);
  core::EnvVar* env = c->add_env();
  env->set_name("ZK");
  env->mutable_valuefrom()->mutable_configmapkeyref()->mutable_localobjectreference()->set_name(
      "demo-discovery");
  env->mutable_valuefrom()->mutable_configmapkeyref()->set_key("ZOOKEEPER");
  (*c->mutable_resources()->mutable_requests())["memory"].set_string("512Mi");
  core::Probe* probe = c->mutable_readinessprobe();
  probe->mutable_handler()->mutable_tcpsocket()->mutable_port()->set_type(1);
  probe->mutable_handler()->mutable_tcpsocket()->mutable_port()->set_strval("client");
  probe->set_periodseconds(5);
  c->mutable_securitycontext()->set_runasuser(0);
  Result<Json> r = DecodeProtobufBody(Envelope("v1", "Pod", pod), "v1", "Pod");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.serialize(), Parse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"labels":{"zkop.io/member-id":"1"},"name":"demo-1"},
      "spec":{"automountServiceAccountToken":false,"terminationGracePeriodSeconds":0,
        "volumes":[{"emptyDir":{},"name":"data"}],
        "containers":[{"env":[{"name":"ZK","valueFrom":{"configMapKeyRef":
            {"key":"ZOOKEEPER","name":"demo-discovery"}}}],
          "image":"zookeeper:3.8","name":"zk",
          "readinessProbe":{"periodSeconds":5,"tcpSocket":{"port":"client"}},
          "resources":{"requests":{"memory":"512Mi"}},
          "securityContext":{"runAsUser":0}}]}})")
                                     .serialize());
}

// DeleteOptions as Helm's storage driver and client-go send them (DELETE bodies).
TEST(ProtobufDecode, DeleteOptions) {
  meta::DeleteOptions o;
  o.set_graceperiodseconds(0);
  o.mutable_preconditions()->set_uid("6f1c");
  o.set_propagationpolicy("Foreground");
  o.add_dryrun("All");
  Result<Json> r = DecodeProtobufBody(Envelope("v1", "DeleteOptions", o), "v1", "DeleteOptions");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(
      r.value.serialize(),
      Parse(R"({"apiVersion":"v1","dryRun":["All"],"gracePeriodSeconds":0,"kind":"DeleteOptions",
                      "preconditions":{"uid":"6f1c"},"propagationPolicy":"Foreground"})")
          .serialize());
  // Registered in every group version, and as meta.k8s.io/v1.
  EXPECT_TRUE(DecodeProtobufBody(Envelope("meta.k8s.io/v1", "DeleteOptions", o), "v1", "X").ok());
  EXPECT_TRUE(DecodeProtobufBody(Envelope("apps/v1", "DeleteOptions", o), "v1", "X").ok());
}

// metav1.Time keeps whole seconds; MicroTime has 6 digits; the zero time is omitted.
TEST(ProtobufDecode, LeaseAndEventTimes) {
  ::k8s::io::api::coordination::v1::Lease lease;
  lease.mutable_metadata()->set_name("zkop-operator");
  lease.mutable_spec()->set_holderidentity("pod-a");
  lease.mutable_spec()->set_leasedurationseconds(15);
  lease.mutable_spec()->mutable_renewtime()->set_seconds(1714557600);  // 2024-05-01T10:00:00Z
  lease.mutable_spec()->mutable_renewtime()->set_nanos(123456789);
  lease.mutable_spec()->set_leasetransitions(0);
  Result<Json> r = DecodeProtobufBody(Envelope("coordination.k8s.io/v1", "Lease", lease), "", "");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(GetString(r.value, {"spec", "renewTime"}), "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(r.value["spec"]["leaseTransitions"].as_integer(), 0);

  ::k8s::io::api::events::v1::Event ev;
  ev.mutable_metadata()->set_name("demo.1");
  ev.mutable_eventtime()->set_seconds(1714557600);
  ev.mutable_eventtime()->set_nanos(5000);
  ev.mutable_regarding()->set_kind("ZookeeperCluster");
  ev.mutable_regarding()->set_name("demo");
  ev.set_reason("ScaledUp");
  ev.set_note("member 4 joined");
  ev.mutable_deprecatedfirsttimestamp()->set_seconds(1714557600);
  ev.mutable_deprecatedfirsttimestamp()->set_nanos(999);  // dropped, like Time's Unmarshal
  r = DecodeProtobufBody(Envelope("events.k8s.io/v1", "Event", ev), "", "");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(GetString(r.value, {"eventTime"}), "2024-05-01T10:00:00.000005Z");
  EXPECT_EQ(GetString(r.value, {"deprecatedFirstTimestamp"}), "2024-05-01T10:00:00Z");
  EXPECT_EQ(GetString(r.value, {"regarding", "name"}), "demo");
  EXPECT_FALSE(r.value.has_field("deprecatedLastTimestamp"));
}

TEST(ProtobufDecode, BytesAreBase64AndStringsAreMadeUtf8) {
  core::Secret s;
  s.mutable_metadata()->set_name("bin");
  (*s.mutable_data())["blob"] = std::string("\x00\xff\x10", 3);
  (*s.mutable_metadata()->mutable_annotations())["note"] = "caf\xc3\xa9 \xff!";
  Result<Json> r = DecodeProtobufBody(Envelope("v1", "Secret", s), "v1", "Secret");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(GetString(r.value, {"data", "blob"}), "AP8Q");
  EXPECT_EQ(GetString(r.value, {"metadata", "annotations", "note"}), "caf\xc3\xa9 \xef\xbf\xbd!");
}

// An envelope that leaves typeMeta empty takes the kind the URL implies (the real decoder's
// defaulting).
TEST(ProtobufDecode, EmptyTypeMetaUsesTheUrlsKind) {
  core::ConfigMap cm;
  cm.mutable_metadata()->set_name("c");
  ::k8s::io::apimachinery::pkg::runtime::Unknown u;
  u.set_raw(cm.SerializeAsString());
  Result<Json> r =
      DecodeProtobufBody(std::string("k8s\0", 4) + u.SerializeAsString(), "v1", "ConfigMap");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(GetString(r.value, {"kind"}), "ConfigMap");
  EXPECT_EQ(GetString(r.value, {"apiVersion"}), "v1");
}

TEST(ProtobufDecode, UntrustedInputGetsPreciseStatuses) {
  core::ConfigMap cm;
  cm.mutable_metadata()->set_name("c");
  const std::string good = Envelope("v1", "ConfigMap", cm);
  auto decode = [](const std::string& body) { return DecodeProtobufBody(body, "v1", "ConfigMap"); };
  // Not protobuf at all: 400 with the real decoder's words.
  Result<Json> r = decode("{\"kind\":\"ConfigMap\"}");
  EXPECT_EQ(r.status.code, 400);
  EXPECT_NE(r.status.message.find("expected prefix [107 56 115 0]"), std::string::npos);
  EXPECT_EQ(decode(std::string("k8s", 3)).status.code, 400);
  // Truncated anywhere: 400, never a crash.
  for (size_t n = 5; n < good.size(); ++n) {
    Result<Json> t = decode(good.substr(0, n));
    if (!t.ok()) {
      EXPECT_EQ(t.status.code, 400) << n;
    }
  }
  // A length prefix far past the end of the body.
  EXPECT_EQ(decode(std::string("k8s\0\x12\xff\xff\xff\xff\x07", 10)).status.code, 400);
  // A field zkop-devkube does not model: 415, naming it, instead of silently dropping it.
  core::ConfigMap unknown = cm;
  unknown.mutable_metadata()
      ->GetReflection()
      ->MutableUnknownFields(unknown.mutable_metadata())
      ->AddVarint(99, 1);
  r = decode(Envelope("v1", "ConfigMap", unknown));
  EXPECT_EQ(r.status.code, 415);
  EXPECT_EQ(r.status.reason, "UnsupportedMediaType");
  EXPECT_NE(r.status.message.find("metadata: field number 99 of "
                                  "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
            std::string::npos)
      << r.status.message;
  // A kind without a .proto here (batch/v1 Job): 415, listing what is decoded.
  r = DecodeProtobufBody(Envelope("batch/v1", "Job", cm), "batch/v1", "Job");
  EXPECT_EQ(r.status.code, 415);
  EXPECT_NE(r.status.message.find("no protobuf decoder for batch/v1, Kind=Job"), std::string::npos);
  EXPECT_NE(r.status.message.find("apps/v1/Deployment"), std::string::npos);
  EXPECT_EQ(decode(Envelope("v1", "ConfigMap", cm, "gzip")).status.code, 415);
  // The real server's 3 MiB request limit.
  EXPECT_EQ(decode(std::string(kMaxProtobufBody + 1, 'x')).status.code, 413);
}

TEST(ProtobufDecode, ValuesWithoutAJsonFormAreBadRequests) {
  ::k8s::io::api::apps::v1::Deployment d;
  d.mutable_metadata()->set_name("d");
  d.mutable_spec()->mutable_strategy()->mutable_rollingupdate()->mutable_maxsurge()->set_type(7);
  Result<Json> r = DecodeProtobufBody(Envelope("apps/v1", "Deployment", d), "", "");
  EXPECT_EQ(r.status.code, 400);
  EXPECT_NE(r.status.message.find("impossible IntOrString.Type 7"), std::string::npos);
  core::Event e;
  e.mutable_metadata()->set_name("e");
  e.mutable_firsttimestamp()->set_seconds(int64_t{1} << 40);  // past year 9999
  r = DecodeProtobufBody(Envelope("v1", "Event", e), "", "");
  EXPECT_EQ(r.status.code, 400);
  EXPECT_NE(r.status.message.find("firstTimestamp: time out of range"), std::string::npos)
      << r.status.message;
}

TEST(ProtobufDecode, MediaTypes) {
  EXPECT_TRUE(IsProtobufContentType("application/vnd.kubernetes.protobuf"));
  EXPECT_TRUE(IsProtobufContentType("Application/VND.kubernetes.protobuf; charset=x"));
  EXPECT_FALSE(IsProtobufContentType("application/json"));
  EXPECT_FALSE(IsProtobufContentType("application/vnd.kubernetes.protobuf+x"));
  EXPECT_TRUE(AcceptsOnlyProtobuf("application/vnd.kubernetes.protobuf"));
  EXPECT_TRUE(AcceptsOnlyProtobuf("application/vnd.kubernetes.protobuf;stream=watch"));
  EXPECT_FALSE(AcceptsOnlyProtobuf("application/vnd.kubernetes.protobuf, application/json"));
  EXPECT_FALSE(AcceptsOnlyProtobuf(""));
  EXPECT_FALSE(AcceptsOnlyProtobuf("*/*"));
}

// metav1.MicroTime in JSON: Go's time.Parse with "2006-01-02T15:04:05.000000Z07:00".
TEST(MicroTime, ParsesLikeTheRealServerAndStoresUtc) {
  std::string error;
  EXPECT_EQ(NormalizeMicroTime("2024-05-01T10:00:00.123456Z", &error),
            "2024-05-01T10:00:00.123456Z");
  EXPECT_EQ(NormalizeMicroTime("2024-05-01T12:30:00.000001+02:30", &error),
            "2024-05-01T10:00:00.000001Z");
  EXPECT_EQ(NormalizeMicroTime("2024-03-01T00:00:00.000000-01:00", &error),
            "2024-03-01T01:00:00.000000Z");
  struct Bad {
    const char* in;
    const char* error;
  } bad[] = {
      {"2024-05-01T10:00:00Z",
       R"(parsing time "2024-05-01T10:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000")"},
      {"2024-05-01T10:00:00.123Z",
       R"(parsing time "2024-05-01T10:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000")"},
      {"2024-05-01T10:00:00.123456789Z",
       R"(parsing time "2024-05-01T10:00:00.123456789Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "789Z" as "Z07:00")"},
      {"yesterday",
       R"(parsing time "yesterday" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "yesterday" as "2006")"},
      {"2023-02-29T00:00:00.000000Z",
       R"(parsing time "2023-02-29T00:00:00.000000Z": day out of range)"},
      {"2024-05-01T10:00:00.000000Zjunk",
       R"(parsing time "2024-05-01T10:00:00.000000Zjunk": extra text: "junk")"},
  };
  for (const Bad& b : bad) {
    error.clear();
    EXPECT_FALSE(NormalizeMicroTime(b.in, &error)) << b.in;
    EXPECT_EQ(error, b.error);
  }
  EXPECT_EQ(FormatUnixTime(kGoZeroTimeSeconds, 0, false), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatUnixTime(253402300799, 999999999, true), "9999-12-31T23:59:59.999999Z");
  EXPECT_FALSE(FormatUnixTime(253402300800, 0, false));
  EXPECT_FALSE(FormatUnixTime(0, -1, true));
}

}  // namespace
}  // namespace zkop::devkube
