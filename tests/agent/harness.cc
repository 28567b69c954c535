#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <sstream>
#include <thread>

namespace zkop::agent::testing {

std::string SharedEnsembleTest::UniqueSuffix() {
  static std::atomic<int> n{0};
  return std::to_string(getpid()) + "-" + std::to_string(++n);
}

using namespace std::chrono_literals;

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

std::string AgentBinary() { return ZKOP_AGENT_BIN; }
std::string DemoProviderBinary() { return ZKOP_DEMO_PROVIDER_BIN; }

FakeProvider::FakeProvider(const zkop::testing::TempDir& dir, const std::string& app,
                           const std::string& host, int port) {
  static int n = 0;
  std::string out = dir.Path("provider-" + app + "-" + std::to_string(++n) + ".log");
  zkop::testing::SubprocessOptions o;
  o.argv = {DemoProviderBinary(), "--app", app, "--host", host, "--port", std::to_string(port)};
  o.output_file = out;
  process_ = std::make_unique<zkop::testing::Subprocess>(o);
  Eventually(
      [&] {
        output_ = zkop::testing::ReadFile(out);
        return output_.find("listening") != std::string::npos || !process_->Running();
      },
      10s);
  size_t colon = output_.rfind(':');
  if (output_.find("listening") != std::string::npos && colon != std::string::npos) {
    port_ = std::stoi(output_.substr(colon + 1));
  }
}

AgentProcess::AgentProcess(const zkop::testing::TempDir& dir, const std::string& config_path,
                           std::vector<std::string> env) {
  static int n = 0;
  log_path_ = dir.Path("agent-" + std::to_string(++n) + ".log");
  zkop::testing::SubprocessOptions o;
  o.argv = {AgentBinary(), "run", "--config", config_path, "--log-level", "debug"};
  o.env = std::move(env);
  o.output_file = log_path_;
  process_ = std::make_unique<zkop::testing::Subprocess>(o);
}

std::string AgentProcess::Log() const { return zkop::testing::ReadFile(log_path_); }

RunResult RunToEnd(const zkop::testing::TempDir& dir, std::vector<std::string> argv,
                   std::chrono::milliseconds timeout) {
  static int n = 0;
  zkop::testing::SubprocessOptions o;
  o.argv = std::move(argv);
  o.output_file = dir.Path("run-" + std::to_string(++n) + ".out");
  zkop::testing::Subprocess p(o);
  RunResult r;
  auto status = p.Wait(timeout);
  r.status = status ? *status : -1000;
  r.output = zkop::testing::ReadFile(o.output_file);
  return r;
}

std::string HttpGet(const std::string& host, int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) < 0) {
    close(fd);
    return "";
  }
  std::string resp;
  char buf[8192];
  ssize_t k;
  while ((k = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(k));
  close(fd);
  return resp;
}

double Metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::unique_ptr<zk::Client> Connect(const std::string& connect) {
  zk::ClientOptions o;
  o.connect = connect;
  o.session_timeout = 10s;
  o.name = "test";
  auto c = std::make_unique<zk::Client>(o);
  c->Connect(30s);
  return c;
}

std::vector<std::string> Children(zk::Client& c, const std::string& path) {
  auto r = c.GetChildren(path);
  return r.status.ok() ? r.children : std::vector<std::string>{};
}

}  // namespace zkop::agent::testing
