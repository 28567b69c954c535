#include "zkop/agent/diagnose.h"

#include <gtest/gtest.h>

#include "fake_probe.h"

namespace zkop::agent {
namespace {

using testing::FakeProbe;

Declared Svc(std::string app, std::string source, int port, std::string iface = "a.B") {
  Declared d;
  d.application = std::move(app);
  d.source = std::move(source);
  d.bind_port = port;
  d.default_port = 20880;
  d.interface_name = std::move(iface);
  d.host = "10.0.0.1";
  d.port_origin = d.source + ":1 dubbo.protocol.port";
  return d;
}

TEST(Diagnose, RegistersOnlyWhileListening) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("orders", "/a/dubbo.properties", 20880)};
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kNotListening);
  probe.Listen(20880);  // holder not visible: trusted
  r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kRegister);
  EXPECT_EQ(r.decisions[0].registry_port, 20880);
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(Diagnose, SeedCaseTwoPropertiesOnePortOneListener) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("orders", "/srv/orders/conf/dubbo.properties", 20880, "o.Orders"),
                             Svc("orders", "/srv/orders/conf/dubbo.properties", 20880, "o.Refunds"),
                             Svc("billing", "/srv/billing/conf/dubbo.properties", 20880, "b.Bill")};
  probe.Listen(20880, 300);
  probe.Process(300, "java -Ddubbo.application.name=billing -jar billing.jar", "/srv/billing");
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConflict);
  EXPECT_EQ(r.decisions[1].state, ServiceState::kConflict);
  EXPECT_EQ(r.decisions[2].state, ServiceState::kRegister);
  EXPECT_EQ(r.decisions[2].pid, 300);
  ASSERT_EQ(r.conflicts.size(), 1u);
  const std::string& m = r.conflicts[0];
  EXPECT_NE(m.find("port 20880 is claimed by application billing "
                   "(/srv/billing/conf/dubbo.properties:1 dubbo.protocol.port)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("application orders (/srv/orders/conf/dubbo.properties:1 dubbo.protocol.port)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("only application billing"), std::string::npos) << m;
  EXPECT_NE(m.find("pid 300"), std::string::npos) << m;
  EXPECT_NE(m.find("dubbo.protocol.port"), std::string::npos) << m;
  EXPECT_NE(m.find("-1"), std::string::npos) << m;
  EXPECT_EQ(r.decisions[0].reason, m);
}

TEST(Diagnose, TwoProvidersNobodyListeningOrInvisible) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("a", "/a/dubbo.properties", 20880),
                             Svc("b", "/b/dubbo.properties", 20880)};
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConflict);
  EXPECT_EQ(r.decisions[1].state, ServiceState::kConflict);
  EXPECT_NE(r.conflicts.at(0).find("nothing listens there yet"), std::string::npos);
  probe.Listen(20880, 0);
  r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConflict);
  EXPECT_EQ(r.decisions[1].state, ServiceState::kConflict);
  EXPECT_NE(r.conflicts.at(0).find("cannot tell which"), std::string::npos);
}

TEST(Diagnose, LoneProviderWithAnUnrecognisableCommandLineIsRegistered) {
  // Issue 11: `java -jar app.jar` for orders-service, `node provider.js` for echo-provider.
  FakeProbe probe;
  std::vector<Declared> d = {Svc("orders-service", "/srv/conf/dubbo.properties", 20990)};
  probe.Listen(20990, 77);
  probe.Process(77, "java -jar app.jar", "/");
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kRegister) << r.decisions[0].reason;
  EXPECT_EQ(r.decisions[0].pid, 77);
  EXPECT_EQ(r.decisions[0].holder, "pid 77 (java -jar app.jar)");
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(Diagnose, PortHeldByAnotherDeclaredProvider) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("orders", "/srv/orders/dubbo.properties", 20880),
                             Svc("billing", "/srv/billing/dubbo.properties", 20881)};
  probe.Listen(20880, 77);
  probe.Process(77, "java -jar billing.jar", "/");
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConflict);
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_NE(r.conflicts[0].find("is held by pid 77 (java -jar billing.jar), which is not orders "
                                "(it is the process of application billing"),
            std::string::npos)
      << r.conflicts[0];
}

TEST(Diagnose, PortHeldByAProcessThatProcessSaysIsNotTheProvider) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("orders", "/srv/orders/dubbo.properties", 20880)};
  d[0].process = "orders-svc.jar";
  probe.Listen(20880, 77);
  probe.Process(77, "nginx: master process", "/");
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConflict);
  EXPECT_NE(r.conflicts.at(0).find("is held by pid 77 (nginx: master process), which is not "
                                   "orders (its command line does not contain process: "
                                   "\"orders-svc.jar\")"),
            std::string::npos)
      << r.conflicts.at(0);
  // The same process named by process: is the provider.
  d[0].process = "nginx";
  r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kRegister);
  EXPECT_TRUE(r.conflicts.empty());
}

TEST(Diagnose, AutoPortTakesAListenerThatIsNobodysElse) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("a", "/a/dubbo.properties", -1),
                             Svc("b", "/b/dubbo.properties", 20990)};
  probe.Listen(20881, 10);
  probe.Process(10, "java -jar app.jar");
  probe.Listen(20882, 11);
  probe.Process(11, "java -jar b.jar");  // b's process: not a candidate for a
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kRegister) << r.decisions[0].reason;
  EXPECT_EQ(r.decisions[0].bind_port, 20881);
}

TEST(Diagnose, MatchingRules) {
  Declared d = Svc("orders", "/srv/orders/conf/dubbo.properties", 1);
  EXPECT_TRUE(ProcessMatches(d, {1, "java -jar /x/orders.jar", ""}));
  EXPECT_FALSE(ProcessMatches(d, {1, "java -jar /x/orders-v2.jar", ""}));
  EXPECT_TRUE(ProcessMatches(d, {1, "java -jar app.jar", "/srv/orders"}));
  EXPECT_FALSE(ProcessMatches(d, {1, "java -jar app.jar", "/"}));
  EXPECT_TRUE(ProcessMatches(d, {1, "java -Dconf=/srv/orders/conf/x -jar app.jar", "/"}));
}

TEST(Diagnose, AutoPortResolvesToTheProvidersListener) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("a", "/a/dubbo.properties", -1),
                             Svc("b", "/b/dubbo.properties", -1)};
  probe.Listen(20880, 10);
  probe.Listen(20881, 11);
  probe.Listen(22222, 11);  // b's QoS port: higher, not chosen
  probe.Process(10, "java -jar a.jar");
  probe.Process(11, "java -jar b.jar");
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kRegister);
  EXPECT_EQ(r.decisions[0].bind_port, 20880);
  EXPECT_EQ(r.decisions[1].state, ServiceState::kRegister);
  EXPECT_EQ(r.decisions[1].bind_port, 20881);
}

TEST(Diagnose, AutoPortAmbiguousWithoutPids) {
  FakeProbe probe;
  std::vector<Declared> d = {Svc("a", "/a/dubbo.properties", -1)};
  auto r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kNotListening);
  probe.Listen(20880);
  r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kRegister);
  EXPECT_EQ(r.decisions[0].bind_port, 20880);
  probe.Listen(20881);
  r = Diagnose(d, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConflict);
  EXPECT_NE(r.decisions[0].reason.find("ambiguous: ports 20880, 20881"), std::string::npos)
      << r.decisions[0].reason;
}

TEST(Diagnose, ConfigErrorsPassThrough) {
  FakeProbe probe;
  Declared bad = Svc("a", "/a", 20880);
  bad.config_error = "/a:3: bad";
  auto r = Diagnose({bad}, probe.Probe(), probe);
  EXPECT_EQ(r.decisions[0].state, ServiceState::kConfigError);
  EXPECT_EQ(r.decisions[0].reason, "/a:3: bad");
}

}  // namespace
}  // namespace zkop::agent
