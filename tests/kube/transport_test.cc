// The HTTP transport against a scripted server on 127.0.0.1 that answers byte for byte what
// each test says: connection reuse and the bound on idle connections, a pooled connection the
// server closed, cancellation, limits on what the server may send, watch lines across chunks,
// and the server URL's parsing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "connection.h"
#include "zkop/config/yaml_reader.h"
#include "zkop/kube/transport.h"

namespace zkop::kube {
namespace {

using namespace std::chrono_literals;

// Accepts connections on 127.0.0.1 and runs `handler(fd, index)` for each on its own thread;
// counts connections accepted and closed by the client (the handler saw end of stream).
class ScriptedServer {
 public:
  using Handler = std::function<void(int fd, int index)>;
  explicit ScriptedServer(Handler handler) : handler_(std::move(handler)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(::listen(listener_, 64), 0);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      while (true) {
        int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;  // the listener was shut down
        const int index = accepted_++;
        std::lock_guard<std::mutex> lock(mu_);
        fds_.push_back(fd);
        threads_.emplace_back([this, fd, index] { handler_(fd, index); });
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    ::close(listener_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks handlers still reading
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    for (int fd : fds_) ::close(fd);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_; }
  std::atomic<int>& closed_by_client() { return closed_by_client_; }

 private:
  Handler handler_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_by_client_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

// Reads one request (head and Content-Length body); "" at end of stream.
std::string ReadRequest(int fd) {
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    data.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = data.find("\r\n\r\n") + 4;
  size_t length = 0;
  if (size_t at = data.find("Content-Length: "); at != std::string::npos && at < head_end) {
    length = std::stoul(data.substr(at + 16));
  }
  while (data.size() < head_end + length) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return "";
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

void Send(int fd, const std::string& s) { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

std::string Ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Answers every request on the connection with 200 and the request's target as the body.
void EchoTargets(int fd, std::atomic<int>* closed) {
  while (true) {
    std::string req = ReadRequest(fd);
    if (req.empty()) {
      ++*closed;
      return;
    }
    const size_t sp = req.find(' ');
    Send(fd, Ok(req.substr(sp + 1, req.find(' ', sp + 1) - sp - 1)));
  }
}

std::shared_ptr<Transport> TransportFor(const std::string& url) {
  ClientConfig c;
  c.server = url;
  return NewHttpTransport(c, "transport-test");
}

HttpRequest Get(const std::string& target, std::chrono::milliseconds timeout = 5000ms) {
  HttpRequest r;
  r.method = "GET";
  r.target = target;
  r.timeout = timeout;
  return r;
}

template <class Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(TransportTest, SequentialRequestsShareOneConnection) {
  ScriptedServer* self = nullptr;
  ScriptedServer server([&](int fd, int) { EchoTargets(fd, &self->closed_by_client()); });
  self = &server;
  auto t = TransportFor(server.url() + "/prefix/");
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = t->Send(Get("/api/v1/x?i=" + std::to_string(i)));
    ASSERT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "/prefix/api/v1/x?i=" + std::to_string(i));  // the URL's path leads
    EXPECT_EQ(r.headers["content-type"], "application/json");
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(TransportTest, AtMostFourConnectionsStayIdle) {
  // Eight requests at once: the server holds every answer until all eight have arrived, so
  // each needs a connection of its own.
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  ScriptedServer* self = nullptr;
  ScriptedServer server([&](int fd, int) {
    std::string req = ReadRequest(fd);
    {
      std::unique_lock<std::mutex> lock(mu);
      ++arrived;
      cv.notify_all();
      cv.wait_for(lock, 10s, [&] { return arrived >= 8; });
    }
    Send(fd, Ok("held"));
    EchoTargets(fd, &self->closed_by_client());
  });
  self = &server;
  auto t = TransportFor(server.url());
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] { ok += t->Send(Get("/a")).status == 200; });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(server.accepted(), 8);
  // Four were closed by the client on their return; four wait in the pool.
  EXPECT_TRUE(WaitFor([&] { return server.closed_by_client() == 4; })) << server.closed_by_client();
  clients.clear();
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] { ok += t->Send(Get("/b")).status == 200; });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 12);
  EXPECT_EQ(server.accepted(), 8);  // the four pooled ones served them
}

// The first connection answers once, then drops the next request unanswered (as a server does
// when its idle timeout fires just as the request goes out); later connections answer "fresh".
void AnswerOnceThenDrop(int fd, int index) {
  if (index == 0) {
    ReadRequest(fd);
    Send(fd, Ok("first"));
    ReadRequest(fd);
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  while (!ReadRequest(fd).empty()) Send(fd, Ok("fresh"));
}

TEST(TransportTest, AGetOnAPooledConnectionTheServerDroppedIsSentAgain) {
  ScriptedServer server(AnswerOnceThenDrop);
  auto t = TransportFor(server.url());
  EXPECT_EQ(t->Send(Get("/one")).body, "first");
  HttpResponse r = t->Send(Get("/two"));
  EXPECT_EQ(r.failure, TransportFailure::kNone) << r.failure_message;
  EXPECT_EQ(r.body, "fresh");
  EXPECT_EQ(server.accepted(), 2);
}

TEST(TransportTest, APostOnAPooledConnectionTheServerDroppedFails) {
  // It may have been acted on: the caller decides (the client retries writes only on 429).
  ScriptedServer server(AnswerOnceThenDrop);
  auto t = TransportFor(server.url());
  EXPECT_EQ(t->Send(Get("/one")).body, "first");
  HttpRequest post = Get("/two");
  post.method = "POST";
  post.body = "{}";
  post.content_type = "application/json";
  HttpResponse r = t->Send(post);
  EXPECT_EQ(r.failure, TransportFailure::kConnection);
  EXPECT_NE(r.failure_message.find("closed the connection"), std::string::npos)
      << r.failure_message;
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(t->Send(Get("/three")).body, "fresh");  // the broken one was not pooled
}

TEST(TransportTest, ARequestOnANewConnectionIsNotSentAgain) {
  ScriptedServer server([](int fd, int) {
    ReadRequest(fd);
    ::shutdown(fd, SHUT_RDWR);
  });
  HttpResponse r = TransportFor(server.url())->Send(Get("/once"));
  EXPECT_EQ(r.failure, TransportFailure::kConnection);
  EXPECT_NE(r.failure_message.find("closed the connection"), std::string::npos)
      << r.failure_message;
  EXPECT_EQ(server.accepted(), 1);
}

TEST(TransportTest, CancellingStopsARequestTheServerNeverAnswers) {
  ScriptedServer server([](int fd, int) {
    ReadRequest(fd);
    ReadRequest(fd);
  });
  auto t = TransportFor(server.url());
  std::stop_source stop;
  HttpRequest r = Get("/slow", 30s);
  r.cancel = stop.get_token();
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  HttpResponse out = t->Send(r);
  canceller.join();
  EXPECT_EQ(out.failure, TransportFailure::kCancelled) << out.failure_message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(TransportTest, AHeaderBlockOverTheLimitIsRefused) {
  ScriptedServer server([](int fd, int) {
    ReadRequest(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(100 * 1024, 'a') +
                 "\r\nContent-Length: 0\r\n\r\n");
    ReadRequest(fd);
  });
  HttpResponse r = TransportFor(server.url())->Send(Get("/big"));
  EXPECT_EQ(r.failure, TransportFailure::kConnection);
  EXPECT_NE(r.failure_message.find("exceeds the client's limit"), std::string::npos)
      << r.failure_message;
}

TEST(TransportTest, AServerThatHangsUpMidBodyIsAFailureNotACrash) {
  // The server reads nothing and closes: writing the 8 MiB body hits a reset connection
  // (EPIPE), which must not raise SIGPIPE in the caller.
  ScriptedServer server([](int fd, int) {
    char b[16];
    (void)::recv(fd, b, sizeof(b), 0);
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::shutdown(fd, SHUT_RDWR);
  });
  HttpRequest post = Get("/big");
  post.method = "POST";
  post.body.assign(8 * 1024 * 1024, 'x');
  post.content_type = "application/json";
  HttpResponse r = TransportFor(server.url())->Send(post);
  EXPECT_NE(r.failure, TransportFailure::kNone);
  EXPECT_EQ(r.status, 0);
}

TEST(TransportTest, WatchLinesSpanChunksAndTheStreamEndsCleanly) {
  ScriptedServer server([](int fd, int) {
    ReadRequest(fd);
    Send(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    auto chunk = [&](const std::string& s) {
      char size[16];
      snprintf(size, sizeof(size), "%zx\r\n", s.size());
      Send(fd, size + s + "\r\n");
    };
    chunk("{\"a\":");
    chunk("1}\r\n{\"b\"");
    chunk(":2}\n{\"c\":3}");  // the last line has no newline
    Send(fd, "0\r\n\r\n");
    ReadRequest(fd);
  });
  auto t = TransportFor(server.url());
  std::unique_ptr<LineStream> lines;
  HttpResponse r = t->Open(Get("/watch"), &lines);
  ASSERT_EQ(r.status, 200) << r.failure_message;
  ASSERT_NE(lines, nullptr);
  std::string line, error;
  std::vector<std::string> got;
  while (lines->ReadLine(&line, &error)) got.push_back(line);
  EXPECT_EQ(error, "");
  EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
}

TEST(TransportTest, AWatchRefusedWithAStatusCarriesItsBody) {
  ScriptedServer server([](int fd, int) {
    ReadRequest(fd);
    const std::string body = "{\"kind\":\"Status\",\"code\":410}";
    Send(fd,
         "HTTP/1.1 410 Gone\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    ReadRequest(fd);
  });
  std::unique_ptr<LineStream> lines;
  HttpResponse r = TransportFor(server.url())->Open(Get("/watch"), &lines);
  EXPECT_EQ(r.status, 410) << r.failure_message;
  EXPECT_EQ(lines, nullptr);
  EXPECT_NE(r.body.find("\"code\":410"), std::string::npos) << r.body;
}

TEST(ServerAddressTest, Table) {
  struct Case {
    std::string url;
    bool tls;
    std::string host, port, host_header, prefix;
  };
  const Case cases[] = {
      {"https://api.example.com", true, "api.example.com", "443", "api.example.com", ""},
      {"https://10.0.0.1:6443", true, "10.0.0.1", "6443", "10.0.0.1:6443", ""},
      {"http://127.0.0.1:8080/", false, "127.0.0.1", "8080", "127.0.0.1:8080", ""},
      {"https://[::1]:6443/k8s/clusters/c1/", true, "::1", "6443", "[::1]:6443",
       "/k8s/clusters/c1"},
      {"http://[fd00::1]", false, "fd00::1", "80", "[fd00::1]", ""},
  };
  for (const Case& c : cases) {
    detail::ServerAddress a = detail::ServerAddress::Parse(c.url, "kc");
    EXPECT_EQ(a.tls, c.tls) << c.url;
    EXPECT_EQ(a.host, c.host) << c.url;
    EXPECT_EQ(a.port, c.port) << c.url;
    EXPECT_EQ(a.host_header, c.host_header) << c.url;
    EXPECT_EQ(a.path_prefix, c.prefix) << c.url;
  }
  for (const std::string bad :
       {"ftp://x", "127.0.0.1:6443", "https://", "https://:6443", "https://h:0", "https://h:65536",
        "https://h:64x", "https://[::1:6443", "https://[::1]x"}) {
    try {
      detail::ServerAddress::Parse(bad, "kc");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const zkop::config::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("server"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace zkop::kube
