// Unit tests of the emulator's pure building blocks: strategic merge directives, JSON patch,
// JSONPath, human durations, version priority, selector parsing, schema keywords.
#include <gtest/gtest.h>

#include "discovery.h"
#include "json_util.h"
#include "patch.h"
#include "schema.h"
#include "selectors.h"

namespace zkop::devkube {
namespace {

Json J(const std::string& text) {
  std::string error;
  auto j = ParseJson(text, &error);
  EXPECT_TRUE(j) << error << ": " << text;
  return j ? *j : Json::null();
}

std::string Smp(const std::string& target, const std::string& patch) {
  Json t = J(target);
  std::string error;
  EXPECT_TRUE(ApplyStrategicMergePatch(t, J(patch), &error)) << error;
  return t.serialize();
}

TEST(StrategicMerge, ListsByKeyAndDirectives) {
  // Service ports merge by "port", container ports by "containerPort".
  EXPECT_EQ(Smp(R"({"ports":[{"port":80,"name":"a"},{"port":81}]})",
                R"({"ports":[{"port":81,"name":"b"}]})"),
            R"({"ports":[{"name":"a","port":80},{"name":"b","port":81}]})");
  // $setElementOrder reorders the merged list.
  EXPECT_EQ(
      Smp(R"({"env":[{"name":"A"},{"name":"B"}]})",
          R"({"$setElementOrder/env":[{"name":"B"},{"name":"A"}],"env":[{"name":"B","value":"2"}]})"),
      R"({"env":[{"name":"B","value":"2"},{"name":"A"}]})");
  // finalizers merge as a set; $deleteFromPrimitiveList removes.
  EXPECT_EQ(
      Smp(R"({"metadata":{"finalizers":["a","b"]}})",
          R"({"metadata":{"finalizers":["b","c"],"$deleteFromPrimitiveList/finalizers":["a"]}})"),
      R"({"metadata":{"finalizers":["b","c"]}})");
  // Lists without a merge key are replaced; $patch: replace replaces a map; null deletes.
  EXPECT_EQ(Smp(R"({"args":["x","y"],"m":{"a":1,"b":2},"k":1})",
                R"({"args":["z"],"m":{"$patch":"replace","c":3},"k":null})"),
            R"({"args":["z"],"m":{"c":3}})");
  // $retainKeys drops keys not listed.
  EXPECT_EQ(Smp(R"({"s":{"type":"A","a":1}})", R"({"s":{"$retainKeys":["type"],"type":"B"}})"),
            R"({"s":{"type":"B"}})");
  Json t = J(R"({"containers":[{"name":"a"}]})");
  std::string error;
  EXPECT_FALSE(ApplyStrategicMergePatch(t, J(R"({"containers":[{"image":"x"}]})"), &error));
  EXPECT_EQ(error, R"(map: {"image":"x"} does not contain declared merge key: name)");
}

TEST(JsonPatch, MoveCopyAndErrors) {
  Json t = J(R"({"a":{"b":1},"l":[1,2]})");
  std::string error;
  ASSERT_TRUE(ApplyJsonPatch(t, J(R"([{"op":"copy","from":"/a/b","path":"/c"},
      {"op":"move","from":"/l/0","path":"/l/-"},{"op":"add","path":"/l/0","value":0},
      {"op":"replace","path":"/a~1x","value":1}])"),
                             &error) == false);
  EXPECT_EQ(error,
            "replace operation does not apply: doc is missing path: \"/a~1x\": missing value");
  Json u = J(R"({"a":{"b":1},"l":[1,2]})");
  ASSERT_TRUE(ApplyJsonPatch(u, J(R"([{"op":"copy","from":"/a/b","path":"/c"},
      {"op":"move","from":"/l/0","path":"/l/-"},{"op":"add","path":"/l/0","value":0}])"),
                             &error))
      << error;
  EXPECT_EQ(u.serialize(), R"({"a":{"b":1},"c":1,"l":[0,2,1]})");
}

TEST(JsonPath, FiltersIndexesAndSet) {
  Json v = J(
      R"({"status":{"conditions":[{"type":"A","status":"False"},{"type":"Ready","status":"True"}]},"l":[{"x":1}]})");
  EXPECT_EQ(EvalJsonPath(v, R"(.status.conditions[?(@.type=="Ready")].status)")->as_string(),
            "True");
  EXPECT_EQ(EvalJsonPath(v, "{.l[0].x}")->as_integer(), 1);
  EXPECT_FALSE(EvalJsonPath(v, ".l[5].x"));
  EXPECT_FALSE(EvalJsonPath(v, ".l[99999999999999999999]"));
  EXPECT_TRUE(SetJsonPath(v, ".spec.replicas", Json::number(5)));
  EXPECT_EQ(v["spec"]["replicas"].as_integer(), 5);
}

TEST(HumanDuration, MatchesKubectl) {
  using std::chrono::seconds;
  EXPECT_EQ(HumanDuration(seconds(45)), "45s");
  EXPECT_EQ(HumanDuration(seconds(119)), "119s");
  EXPECT_EQ(HumanDuration(seconds(310)), "5m10s");
  EXPECT_EQ(HumanDuration(seconds(3600)), "60m");
  EXPECT_EQ(HumanDuration(seconds(4 * 3600 + 60)), "4h1m");
  EXPECT_EQ(HumanDuration(seconds(50 * 3600)), "2d2h");
}

TEST(Discovery, VersionPriority) {
  std::vector<std::string> v = {"v1alpha1", "v1beta1", "v2", "v1", "v1beta2", "foo"};
  std::sort(v.begin(), v.end(), VersionBefore);
  EXPECT_EQ(v, (std::vector<std::string>{"v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"}));
}

TEST(Selectors, ParseErrorsAndNumericOperators) {
  std::string error;
  EXPECT_FALSE(LabelSelector::Parse("a in x", &error));
  EXPECT_EQ(error, "unable to parse requirement: found 'in x', expected: '('");
  EXPECT_FALSE(LabelSelector::Parse("a>b", &error));
  auto gt = LabelSelector::Parse("n>3", &error);
  ASSERT_TRUE(gt);
  EXPECT_TRUE(gt->Matches(J(R"({"n":"4"})")));
  EXPECT_FALSE(gt->Matches(J(R"({"n":"3"})")));
  EXPECT_FALSE(gt->Matches(J(R"({})")));
}

TEST(Schema, KeywordsAndPaths) {
  Json schema = J(R"({"type":"object","properties":{"spec":{"type":"object","properties":{
      "list":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string","maxLength":3}},
      "n":{"type":"number","multipleOf":0.5,"exclusiveMaximum":true,"maximum":10},
      "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
      "opt":{"type":"string","nullable":true}}}}})");
  auto causes = ValidateAgainstSchema(
      J(R"({"spec":{"list":["a","b","long"],"n":10,"free":{"x":1},"opt":null}})"), schema);
  std::string all;
  for (const auto& c : causes) all += c.field + ": " + c.message + "\n";
  EXPECT_EQ(all,
            "spec.list: Too many: 3: must have at most 2 items\n"
            "spec.list[2]: Too long: may not be more than 3 bytes\n"
            "spec.n: Invalid value: 10: spec.n in body should be less than 10\n");
  EXPECT_EQ(ValidateAgainstSchema(J(R"({"spec":{"list":[],"n":1.25}})"), schema).size(), 2u);
  Json pruned = J(
      R"({"apiVersion":"x","metadata":{"name":"a"},"spec":{"free":{"keep":1},"drop":1},"extra":1})");
  std::vector<std::string> paths;
  DefaultAndPrune(pruned, schema, &paths);
  EXPECT_EQ(pruned.serialize(),
            R"({"apiVersion":"x","metadata":{"name":"a"},"spec":{"free":{"keep":1}}})");
  EXPECT_EQ(paths, (std::vector<std::string>{"spec.drop", "extra"}));
}

}  // namespace
}  // namespace zkop::devkube
