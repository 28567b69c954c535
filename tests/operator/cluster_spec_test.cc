// Bad specs: what the CRD's schema can say, the API says (422 with the field path, through
// kubectl); what it cannot, the operator says — a Degraded condition and a Warning Event naming
// the field and the fix — without creating anything.
#include "operator_env.h"
#include "zkop/kube/resource.h"

namespace zkop::op::testing {
namespace {

namespace res = kube::resources;

class ClusterSpecTest : public OperatorEnv {};

TEST_F(ClusterSpecTest, SchemaRejectsWhatItCanThroughKubectl) {
  std::string out;
  EXPECT_NE(Kubectl({"apply", "-f", "-"}, &out, ClusterYaml("big", 12)), 0);
  EXPECT_NE(out.find("spec.replicas"), std::string::npos) << out;
  EXPECT_NE(Kubectl({"apply", "-f", "-"}, &out,
                    ClusterYaml("bad-storage", 3, "  storage:\n    reclaimPolicy: Recycle\n")),
            0);
  EXPECT_NE(out.find("spec.storage.reclaimPolicy"), std::string::npos) << out;
  EXPECT_FALSE(Get(res::ZookeeperClusters(), "big"));
}

TEST_F(ClusterSpecTest, OperatorRefusesManagedKeysWithAConditionAndAnEventAndCreatesNothing) {
  StartOperator("main");
  Apply(ClusterYaml("refused", 3, "  image: nginx:1.25\n", "    dataDir: /var/lib/zk\n"));
  ASSERT_TRUE(WaitFor([&] { return ConditionStatus("refused", "Degraded") == "True"; }, 60s))
      << Explain("refused");
  const auto cr = Get(res::ZookeeperClusters(), "refused");
  ASSERT_TRUE(cr);
  std::string message;
  for (const auto& c : cr->at("status").at("conditions").as_array())
    if (c.at("type").as_string() == "Degraded") {
      EXPECT_EQ(c.at("reason").as_string(), "InvalidSpec");
      message = c.at("message").as_string();
    }
  EXPECT_NE(message.find("spec.config.dataDir"), std::string::npos) << message;
  EXPECT_NE(message.find("spec.image"), std::string::npos) << message;
  EXPECT_EQ(ConditionStatus("refused", "Ready"), "False");

  std::string events;
  ASSERT_TRUE(WaitFor(
      [&] {
        Kubectl({"get", "events", "--field-selector", "involvedObject.name=refused", "-o",
                 "custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message", "--no-headers"},
                &events);
        return events.find("ManagedConfigKey") != std::string::npos &&
               events.find("NotAZooKeeperImage") != std::string::npos;
      },
      30s))
      << events;
  EXPECT_NE(events.find("Warning"), std::string::npos) << events;

  // Nothing half-applied: no Pod, no claim, no Service, no Secret.
  std::string objects;
  Kubectl({"get", "pods,pvc,svc,secrets,configmaps", "-l", "app.kubernetes.io/instance=refused",
           "-o", "name"},
          &objects);
  EXPECT_EQ(objects.find("refused"), std::string::npos) << objects;

  // The operator keeps running and answers the fixed spec.
  Apply(ClusterYaml("refused", 1));
  ASSERT_TRUE(WaitFor([&] { return Get(res::Pods(), "refused-1").has_value(); }, 60s))
      << Explain("refused");
  EXPECT_TRUE(operators_.front()->Running());
}

}  // namespace
}  // namespace zkop::op::testing
