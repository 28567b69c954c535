// The event recorder against the devkube emulator: repeats are counted on one
// Event, distinct ones get their own.
#include "zkop/kube/events.h"

#include <gtest/gtest.h>

#include "kube_test_env.h"

namespace zkop::kube {
namespace {

class EventsTest : public testing::KubeEnv {};

TEST_F(EventsTest, RepeatsAreAggregatedWithCount) {
  Result<Json> cm = client_->Create(resources::ConfigMaps(), "", ConfigMap("demo-config"));
  ASSERT_TRUE(cm.ok());
  EventRecorder recorder(client_, "zkop-operator", "host-1");
  for (int i = 0; i < 3; ++i) {
    Result<Json> r = recorder.Record(cm.value(), EventType::kWarning, "ScaleBlocked",
                                     "member 2 is out of quorum");
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  ASSERT_TRUE(recorder.Record(cm.value(), EventType::kNormal, "Scaled", "2 -> 3").ok());

  Result<Json> events = client_->List(resources::Events(), "default");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events.value().at("items").size(), 2u);
  std::map<std::string, Json> by_reason;
  for (const Json& e : events.value().at("items").as_array()) {
    by_reason[e.at("reason").as_string()] = e;
  }
  const Json& blocked = by_reason.at("ScaleBlocked");
  EXPECT_EQ(blocked.at("count").as_integer(), 3);
  EXPECT_EQ(blocked.at("type").as_string(), "Warning");
  EXPECT_EQ(blocked.at("message").as_string(), "member 2 is out of quorum");
  EXPECT_EQ(blocked.at("involvedObject").at("kind").as_string(), "ConfigMap");
  EXPECT_EQ(blocked.at("involvedObject").at("name").as_string(), "demo-config");
  EXPECT_EQ(blocked.at("involvedObject").at("uid").as_string(), UidOf(cm.value()));
  EXPECT_EQ(blocked.at("source").at("component").as_string(), "zkop-operator");
  EXPECT_TRUE(NameOf(blocked).starts_with("demo-config."));
  EXPECT_EQ(by_reason.at("Scaled").at("count").as_integer(), 1);
  EXPECT_EQ(by_reason.at("Scaled").at("type").as_string(), "Normal");
}

TEST_F(EventsTest, DeletedEventStartsANewSeries) {
  Json ns = Json::object();
  ns["apiVersion"] = Json::string("v1");
  ns["kind"] = Json::string("Namespace");
  ns["metadata"]["name"] = Json::string("default");
  EventRecorder recorder(client_, "zkop-operator");
  Result<Json> first = recorder.Record(ns, EventType::kNormal, "Hello", "world");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(NamespaceOf(first.value()), "default");  // cluster-scoped objects: "default"
  ASSERT_TRUE(client_->Delete(resources::Events(), "default", NameOf(first.value())).ok());
  Result<Json> second = recorder.Record(ns, EventType::kNormal, "Hello", "world");
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(second.value().at("count").as_integer(), 1);
  EXPECT_NE(NameOf(second.value()), NameOf(first.value()));
}

TEST(FormatRfc3339Test, SecondsAndMicros) {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)) +
           std::chrono::microseconds(42);
  EXPECT_EQ(FormatRfc3339(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339(t, true), "2023-11-14T22:13:20.000042Z");
}

}  // namespace
}  // namespace zkop::kube
