#include "zkop/devkube/pods/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace zkop::devkube::pods {
namespace {

using web::json::value;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

TEST(ProbeTest, ParsesTimingsActionsAndNamedPorts) {
  const value container = value::parse(R"({"ports":[{"name":"client","containerPort":2181}]})");
  std::string error;
  auto p = ParseProbe(value::parse(R"({"tcpSocket":{"port":"client"},"initialDelaySeconds":2,
      "periodSeconds":3,"timeoutSeconds":4,"successThreshold":2,"failureThreshold":5})"),
                      container, "readinessProbe", &error);
  ASSERT_TRUE(p) << error;
  EXPECT_EQ(p->kind, ProbeSpec::Kind::kTcp);
  EXPECT_EQ(p->port, 2181);
  EXPECT_EQ(p->initial_delay_seconds, 2);
  EXPECT_EQ(p->period_seconds, 3);
  EXPECT_EQ(p->timeout_seconds, 4);
  EXPECT_EQ(p->success_threshold, 2);
  EXPECT_EQ(p->failure_threshold, 5);

  auto h = ParseProbe(value::parse(R"({"httpGet":{"path":"/readyz","port":8080}})"), container,
                      "livenessProbe", &error);
  ASSERT_TRUE(h) << error;
  EXPECT_EQ(h->path, "/readyz");
  EXPECT_EQ(h->period_seconds, 10);  // Kubernetes defaults
  EXPECT_EQ(h->failure_threshold, 3);

  EXPECT_FALSE(ParseProbe(value::parse(R"({"tcpSocket":{"port":"admin"}})"), container,
                          "readinessProbe", &error));
  EXPECT_EQ(error,
            "readinessProbe.tcpSocket.port: expected a port number or the name of one of the "
            "container's ports");
  EXPECT_FALSE(
      ParseProbe(value::parse(R"({"grpc":{"port":1}})"), container, "startupProbe", &error));
  EXPECT_NE(error.find("startupProbe: expected one of exec, tcpSocket, httpGet"),
            std::string::npos);
}

TEST(ProbeTrackerTest, ThresholdsDecideTheResult) {
  ProbeSpec spec;
  spec.initial_delay_seconds = 5;
  spec.period_seconds = 1;
  spec.success_threshold = 2;
  spec.failure_threshold = 3;
  const auto t0 = Clock::now();
  ProbeTracker t(spec, false, t0);
  EXPECT_FALSE(t.Due(t0 + seconds(4)));
  EXPECT_TRUE(t.Due(t0 + seconds(5)));
  EXPECT_FALSE(t.Record(true, t0 + seconds(5)));  // 1 of 2 successes
  EXPECT_FALSE(t.ok());
  EXPECT_EQ(t.next(), t0 + seconds(6));
  EXPECT_TRUE(t.Record(true, t0 + seconds(6)));
  EXPECT_TRUE(t.ok());
  t.Record(false, t0 + seconds(7));
  t.Record(false, t0 + seconds(8));
  EXPECT_TRUE(t.ok());              // 2 of 3 failures
  t.Record(true, t0 + seconds(9));  // a success resets the failure count
  t.Record(false, t0 + seconds(10));
  t.Record(false, t0 + seconds(11));
  EXPECT_TRUE(t.ok());
  EXPECT_TRUE(t.Record(false, t0 + seconds(12)));
  EXPECT_FALSE(t.ok());
}

// A listener on 127.0.0.1:<ephemeral> answering every connection with `response`.
class TinyServer {
 public:
  explicit TinyServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[1024];
        (void)!::read(c, buf, sizeof buf);
        (void)!::write(c, response_.data(), response_.size());
        ::close(c);
      }
    });
  }
  ~TinyServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::string response_;
  int fd_;
  int port_;
  std::thread thread_;
};

TEST(SystemProberTest, TcpHttpAndExec) {
  auto launcher = MakeSystemLauncher();
  auto prober = MakeSystemProber(*launcher);
  ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  target.exec_base.env = {"PATH=/usr/bin:/bin"};

  TinyServer ok("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
  TinyServer bad("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  ProbeSpec spec;
  spec.kind = ProbeSpec::Kind::kHttp;
  spec.port = ok.port();
  EXPECT_TRUE(prober->Run(spec, target).success);
  spec.port = bad.port();
  auto outcome = prober->Run(spec, target);
  EXPECT_FALSE(outcome.success);
  EXPECT_EQ(outcome.message, "HTTP probe failed with statuscode: 503");

  spec.kind = ProbeSpec::Kind::kTcp;
  EXPECT_TRUE(prober->Run(spec, target).success);
  int closed_port;
  {
    TinyServer gone("");
    closed_port = gone.port();
  }
  spec.port = closed_port;
  outcome = prober->Run(spec, target);
  EXPECT_FALSE(outcome.success);
  EXPECT_NE(outcome.message.find("Connection refused"), std::string::npos) << outcome.message;

  spec.kind = ProbeSpec::Kind::kExec;
  spec.command = {"sh", "-c", "exit 0"};
  EXPECT_TRUE(prober->Run(spec, target).success);
  spec.command = {"sh", "-c", "exit 3"};
  EXPECT_EQ(prober->Run(spec, target).message, "command exited with 3");
  spec.command = {"sleep", "5"};
  const auto start = Clock::now();
  outcome = prober->Run(spec, target);
  EXPECT_FALSE(outcome.success);
  EXPECT_LT(Clock::now() - start, seconds(3));  // timeoutSeconds (1) bounds it
  EXPECT_NE(outcome.message.find("timed out"), std::string::npos) << outcome.message;
}

}  // namespace
}  // namespace zkop::devkube::pods
