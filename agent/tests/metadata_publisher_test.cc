#include "zkop/agent/metadata_publisher.h"

#include <gtest/gtest.h>

#include "fake_registry.h"

namespace zkop::agent {
namespace {

using testing::FakeRegistry;

AppRecord Record(const std::string& app, const std::string& revision,
                 std::vector<std::string> interfaces) {
  AppRecord r;
  r.instance = 7;
  r.application = app;
  r.metadata_path = "/dubbo/metadata/" + app + "/" + revision;
  for (const auto& i : interfaces) r.mapping_paths.push_back("/dubbo/mapping/" + i);
  return r;
}

std::string Json(uint32_t instance) { return "{\"instance\":" + std::to_string(instance) + "}"; }

TEST(MetadataPublisher, WritesPersistentReportAndMappingOnce) {
  FakeRegistry reg;
  auto session = reg.Open([] {});
  MetadataPublisher p(std::chrono::seconds(5));
  AppRecord r = Record("a", "rev1", {"x.I", "x.J"});
  EXPECT_FALSE(p.Published(r));
  ASSERT_TRUE(p.Publish(session.get(), {r}, Json, false));
  EXPECT_TRUE(p.Published(r));
  auto nodes = reg.Nodes();
  EXPECT_EQ(nodes.at("/dubbo/metadata/a/rev1").data, "{\"instance\":7}");
  EXPECT_EQ(nodes.at("/dubbo/metadata/a/rev1").owner, 0);  // persistent
  EXPECT_EQ(nodes.at("/dubbo/mapping/x.I").data, "a");
  EXPECT_EQ(nodes.at("/dubbo/mapping/x.J").owner, 0);
  EXPECT_EQ(p.stats().reports_written, 1u);
  EXPECT_EQ(p.stats().mappings_written, 2u);
  // Known written: no more requests until a verify pass.
  size_t ops = reg.ops();
  ASSERT_TRUE(p.Publish(session.get(), {r}, Json, false));
  EXPECT_EQ(reg.ops(), ops);
  // A verify pass restores what was deleted, and only that.
  reg.ExternalDelete("/dubbo/mapping/x.J");
  ASSERT_TRUE(p.Publish(session.get(), {r}, Json, true));
  EXPECT_EQ(reg.Nodes().at("/dubbo/mapping/x.J").data, "a");
  EXPECT_EQ(p.stats().mappings_written, 3u);
  // Closing the session leaves them (they are not ephemeral).
  session->Close();
  EXPECT_TRUE(reg.Nodes().count("/dubbo/metadata/a/rev1"));
}

TEST(MetadataPublisher, AppendsToAnotherApplicationsMappingAndNeverOverwritesAReport) {
  FakeRegistry reg;
  auto session = reg.Open([] {});
  reg.ExternalCreate("/dubbo/mapping/x.I");
  reg.ExternalWrite("/dubbo/mapping/x.I", "b, c");
  reg.ExternalCreate("/dubbo/metadata/a/rev1");
  reg.ExternalWrite("/dubbo/metadata/a/rev1", "{\"someone\":\"else\"}");
  reg.ExternalCreate("/dubbo/metadata/a/rev2");  // blank: set, as publishAppMetadata does
  MetadataPublisher p(std::chrono::seconds(5));
  ASSERT_TRUE(p.Publish(session.get(), {Record("a", "rev1", {"x.I"}), Record("a", "rev2", {"x.I"})},
                        Json, false));
  auto nodes = reg.Nodes();
  EXPECT_EQ(nodes.at("/dubbo/mapping/x.I").data, "b, c,a");
  EXPECT_EQ(nodes.at("/dubbo/metadata/a/rev1").data, "{\"someone\":\"else\"}");
  EXPECT_EQ(nodes.at("/dubbo/metadata/a/rev2").data, "{\"instance\":7}");
  // Already listed: nothing written.
  ASSERT_TRUE(p.Publish(session.get(), {Record("a", "rev1", {"x.I"})}, Json, true));
  EXPECT_EQ(reg.Nodes().at("/dubbo/mapping/x.I").data, "b, c,a");
  EXPECT_EQ(reg.Nodes().at("/dubbo/mapping/x.I").version, 2);
}

TEST(MetadataPublisher, ACompareAndSetLostToAnotherApplicationIsRetried) {
  FakeRegistry reg;
  auto session = reg.Open([] {});
  reg.ExternalCreate("/dubbo/mapping/x.I");
  reg.ExternalWrite("/dubbo/mapping/x.I", "b");
  // Between the agent's read ("b", version 1) and its write, application c appends itself.
  reg.BeforeNextWrite([&] { reg.ExternalWrite("/dubbo/mapping/x.I", "b,c"); });
  MetadataPublisher p(std::chrono::seconds(5));
  ASSERT_TRUE(p.Publish(session.get(), {Record("a", "rev1", {"x.I"})}, Json, false));
  EXPECT_EQ(reg.Nodes().at("/dubbo/mapping/x.I").data, "b,c,a");  // c kept, a appended
  EXPECT_EQ(p.stats().cas_retries, 1u);
}

TEST(MetadataPublisher, FailuresAreReportedAndRetried) {
  FakeRegistry reg;
  auto session = reg.Open([] {});
  MetadataPublisher p(std::chrono::seconds(5));
  AppRecord r = Record("a", "rev1", {"x.I"});
  reg.FailNext(1, RegError::kConnectionLoss);
  EXPECT_FALSE(p.Publish(session.get(), {r}, Json, false));
  EXPECT_GE(p.stats().errors.at("connection_loss"), 1u);
  ASSERT_TRUE(p.Publish(session.get(), {r}, Json, false));
  EXPECT_TRUE(p.Published(r));
  EXPECT_EQ(reg.Nodes().at("/dubbo/mapping/x.I").data, "a");
  // Disconnected: nothing is attempted, the report stays known.
  reg.SetConnected(false);
  EXPECT_FALSE(p.Publish(session.get(), {Record("a", "rev2", {"x.I"})}, Json, false));
  EXPECT_TRUE(p.Published(r));
}

}  // namespace
}  // namespace zkop::agent
