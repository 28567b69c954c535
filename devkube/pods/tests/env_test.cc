#include "zkop/devkube/pods/env.h"

#include <gtest/gtest.h>

namespace zkop::devkube::pods {
namespace {

using web::json::value;

value Parse(const std::string& s) { return value::parse(s); }

class EnvTest : public ::testing::Test {
 protected:
  value pod_ = Parse(R"({"metadata":{"name":"demo-1","namespace":"ns1","uid":"u-1",
      "labels":{"app":"zk"},"annotations":{"a/b":"c"}},
      "spec":{"nodeName":"devkube","serviceAccountName":"sa"}})");
  value status_ = Parse(R"({"podIP":"127.42.0.7","hostIP":"127.0.0.1"})");
  std::map<std::string, value> objects_ = {
      {"configmaps/cfg", Parse(R"({"data":{"mode":"fast","level":"3"}})")},
      // "czNjcjN0" is base64 of "s3cr3t".
      {"secrets/admin", Parse(R"({"data":{"password":"czNjcjN0"}})")},
  };
  ObjectLookup lookup_ = [this](const std::string& r,
                                const std::string& n) -> std::optional<value> {
    auto it = objects_.find(r + "/" + n);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  };

  EnvResult Resolve(const std::string& container) {
    return ResolveEnv(pod_, Parse(container), status_, lookup_);
  }
  static std::map<std::string, std::string> AsMap(const EnvList& l) { return {l.begin(), l.end()}; }
};

TEST_F(EnvTest, ResolvesDownwardApiFields) {
  auto r = Resolve(R"({"env":[
    {"name":"NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
    {"name":"NS","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
    {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
    {"name":"HOST","valueFrom":{"fieldRef":{"fieldPath":"status.hostIP"}}},
    {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
    {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
    {"name":"ANN","valueFrom":{"fieldRef":{"fieldPath":"metadata.annotations['a/b']"}}}]})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(AsMap(r.vars), (std::map<std::string, std::string>{{"NAME", "demo-1"},
                                                               {"NS", "ns1"},
                                                               {"IP", "127.42.0.7"},
                                                               {"HOST", "127.0.0.1"},
                                                               {"NODE", "devkube"},
                                                               {"APP", "zk"},
                                                               {"ANN", "c"}}));
}

TEST_F(EnvTest, KeyRefsEnvFromAndOrder) {
  auto r = Resolve(R"({"envFrom":[{"configMapRef":{"name":"cfg"},"prefix":"CFG_"}],
    "env":[{"name":"PW","valueFrom":{"secretKeyRef":{"name":"admin","key":"password"}}},
           {"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"mode"}}},
           {"name":"CFG_level","value":"override"},
           {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"nope","key":"x","optional":true}}}]})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(
      AsMap(r.vars),
      (std::map<std::string, std::string>{
          {"CFG_mode", "fast"}, {"CFG_level", "override"}, {"PW", "s3cr3t"}, {"MODE", "fast"}}));
  EXPECT_EQ(r.vars.back().first, "CFG_level");  // a redefinition moves to its new place
}

TEST_F(EnvTest, MissingRequiredSourcesAreKubeletMessages) {
  EXPECT_EQ(
      Resolve(R"({"env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"gone","key":"k"}}}]})")
          .error,
      "secret \"gone\" not found");
  EXPECT_EQ(
      Resolve(R"({"env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"k"}}}]})")
          .error,
      "couldn't find key k in ConfigMap ns1/cfg");
  EXPECT_EQ(Resolve(R"({"envFrom":[{"configMapRef":{"name":"other"}}]})").error,
            "configmap \"other\" not found");
  EXPECT_EQ(Resolve(R"({"env":[{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"spec.bogus"}}}]})")
                .error,
            "env X: unsupported fieldRef fieldPath \"spec.bogus\"");
}

TEST_F(EnvTest, ExpandsReferencesToEarlierVariables) {
  auto r = Resolve(R"({"env":[
    {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
    {"name":"ADDR","value":"$(IP):2181"},
    {"name":"LATER","value":"$(NOT_YET) $$(IP) $(IP"}]})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(AsMap(r.vars)["ADDR"], "127.42.0.7:2181");
  EXPECT_EQ(AsMap(r.vars)["LATER"], "$(NOT_YET) $(IP) $(IP");
}

TEST(Base64Test, DecodesAndRejects) {
  EXPECT_EQ(DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(DecodeBase64("aGk="), "hi");
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_FALSE(DecodeBase64("a$b"));
}

}  // namespace
}  // namespace zkop::devkube::pods
