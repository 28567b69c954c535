#include "zkop/operator/cluster/apply.h"

#include <gtest/gtest.h>

#include "zkop/operator/cluster/render.h"

namespace zkop::op::cluster {
namespace {

struct Case {
  const char* name;
  const char* live;
  const char* desired;
  bool contains;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& param) {
  std::string n = param.param.name;
  for (char& c : n)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

class ContainsFieldsTest : public ::testing::TestWithParam<Case> {};

TEST_P(ContainsFieldsTest, Table) {
  EXPECT_EQ(ContainsFields(Json::parse(GetParam().live), Json::parse(GetParam().desired)),
            GetParam().contains);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ContainsFieldsTest,
    ::testing::Values(
        Case{"equal", R"({"a":1})", R"({"a":1})", true},
        Case{"server defaults ignored", R"({"a":1,"clusterIP":"10.0.0.1"})", R"({"a":1})", true},
        Case{"changed value", R"({"a":1})", R"({"a":2})", false},
        Case{"missing field", R"({})", R"({"a":1})", false},
        Case{"null means absent", R"({})", R"({"a":null})", true},
        Case{"nested default", R"({"s":{"ports":[{"port":1,"protocol":"TCP","targetPort":1}]}})",
             R"({"s":{"ports":[{"port":1}]}})", true},
        Case{"array length", R"({"p":[1,2]})", R"({"p":[1]})", false},
        Case{"array order", R"({"p":[1,2]})", R"({"p":[2,1]})", false},
        Case{"number kinds", R"({"n":2.0})", R"({"n":2})", true},
        Case{"type change", R"({"n":"2"})", R"({"n":2})", false},
        Case{"user label kept", R"({"metadata":{"labels":{"a":"1","mine":"x"}}})",
             R"({"metadata":{"labels":{"a":"1"}}})", true}),
    CaseName);

TEST(OwnedFieldsTest, PerKind) {
  ClusterSpec s;
  s.name = "demo";
  s.ns = "ns";
  s.uid = "u";
  const Json cm = OwnedFields(RenderConfigMap(s, InitialMembership(s, {})));
  EXPECT_TRUE(cm.has_field("data"));
  EXPECT_TRUE(cm.at("metadata").has_field("labels"));
  EXPECT_TRUE(cm.at("metadata").has_field("ownerReferences"));
  EXPECT_FALSE(cm.at("metadata").has_field("name"));
  EXPECT_TRUE(OwnedFields(RenderClientService(s)).has_field("spec"));
  EXPECT_TRUE(OwnedFields(RenderPodDisruptionBudget(s)).has_field("spec"));
  // The admin password is never rewritten; claims are immutable.
  EXPECT_FALSE(OwnedFields(RenderAdminSecret(s, "pw")).has_field("data"));
  EXPECT_FALSE(OwnedFields(RenderMemberClaim(s, 1)).has_field("spec"));
}

TEST(OwnedFieldsTest, AServiceAsTheServerDefaultsItNeedsNoWrite) {
  ClusterSpec s;
  s.name = "demo";
  s.ns = "ns";
  s.uid = "u";
  Json live = RenderClientService(s);
  live["metadata"]["resourceVersion"] = Json::string("7");
  live["spec"]["clusterIP"] = Json::string("10.96.0.12");
  live["spec"]["sessionAffinity"] = Json::string("None");
  live["spec"]["ports"][0]["nodePort"] = Json::null();
  EXPECT_TRUE(ContainsFields(live, OwnedFields(RenderClientService(s))));
  live["spec"]["selector"]["app.kubernetes.io/instance"] = Json::string("other");
  EXPECT_FALSE(ContainsFields(live, OwnedFields(RenderClientService(s))));
}

}  // namespace
}  // namespace zkop::op::cluster
