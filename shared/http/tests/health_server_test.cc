#include "zkop/http/health_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>

#include <future>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace zkop::http {
namespace {

using ::testing::HasSubstr;

struct Reply {
  int status = 0;
  std::string body;
};

Reply Get(uint16_t port, const std::string& target) {
  namespace beast = boost::beast;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  beast::http::request<beast::http::empty_body> req(beast::http::verb::get, target, 11);
  req.set(beast::http::field::host, "127.0.0.1");
  beast::http::write(socket, req);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::http::read(socket, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

TEST(ParseEndpoint, Forms) {
  Endpoint ep;
  std::string err;
  ASSERT_TRUE(ParseEndpoint("0.0.0.0:9464", &ep, &err));
  EXPECT_EQ(ep.host, "0.0.0.0");
  EXPECT_EQ(ep.port, 9464);
  ASSERT_TRUE(ParseEndpoint(":8080", &ep, &err));
  EXPECT_EQ(ep.host, "0.0.0.0");
  ASSERT_TRUE(ParseEndpoint("[::1]:80", &ep, &err));
  EXPECT_EQ(ep.host, "::1");
  EXPECT_FALSE(ParseEndpoint("localhost", &ep, &err));
  EXPECT_THAT(err, HasSubstr("missing port"));
  EXPECT_FALSE(ParseEndpoint("1.2.3.4:99999", &ep, &err));
  EXPECT_THAT(err, HasSubstr("port must be a number from 0 to 65535"));
}

TEST(HealthServer, ServesMetricsAndProbes) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family =
      prometheus::BuildCounter().Name("zkop_test_total").Help("test").Register(*registry);
  family.Add({{"kind", "x"}}).Increment(3);
  HealthServer server("127.0.0.1:0", registry);
  ASSERT_NE(server.port(), 0);

  Reply metrics = Get(server.port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("zkop_test_total{kind=\"x\"} 3"));

  EXPECT_EQ(Get(server.port(), "/healthz").status, 200);
  Reply ready = Get(server.port(), "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "starting\n");
  server.SetReady(true);
  EXPECT_EQ(Get(server.port(), "/readyz").status, 200);
  server.SetLive(false, "zookeeper session lost");
  Reply live = Get(server.port(), "/healthz");
  EXPECT_EQ(live.status, 503);
  EXPECT_EQ(live.body, "zookeeper session lost\n");
  EXPECT_EQ(Get(server.port(), "/nope").status, 404);
}

// A collectable that blocks until released, as a scrape-time collector waiting on the network.
class GatedCollectable : public prometheus::Collectable {
 public:
  explicit GatedCollectable(std::shared_future<void> release) : release_(std::move(release)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    entered.set_value();
    release_.wait();
    prometheus::MetricFamily family;
    family.name = "zkop_gated";
    family.help = "test";
    family.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric metric;
    metric.gauge.value = 7;
    family.metric.push_back(metric);
    return {family};
  }
  mutable std::promise<void> entered;  // set when a collection starts (once)

 private:
  std::shared_future<void> release_;
};

TEST(HealthServer, CollectablesRunAtScrapeWithoutBlockingProbes) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("zkop_test_total").Help("test").Register(*registry).Add({});
  HealthServer server("127.0.0.1:0", registry);
  std::promise<void> release;
  auto gated = std::make_shared<GatedCollectable>(release.get_future().share());
  auto entered = gated->entered.get_future();
  server.AddCollectable(gated);
  auto scrape = std::async(std::launch::async, [&] { return Get(server.port(), "/metrics"); });
  entered.wait();
  // The collection is under way (and held): the probes still answer at once.
  EXPECT_EQ(Get(server.port(), "/healthz").status, 200);
  EXPECT_EQ(Get(server.port(), "/readyz").status, 503);
  release.set_value();
  Reply metrics = scrape.get();
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("zkop_test_total 0"));
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE zkop_gated gauge\nzkop_gated 7"));
}

TEST(HealthServer, PortConflictIsNamed) {
  auto registry = std::make_shared<prometheus::Registry>();
  HealthServer first("127.0.0.1:0", registry);
  std::string address = "127.0.0.1:" + std::to_string(first.port());
  try {
    HealthServer second(address, registry);
    FAIL() << "second bind to " << address << " succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(address + " is already in use by another process"));
  }
}

}  // namespace
}  // namespace zkop::http
