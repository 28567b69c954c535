#include "devkube_test_env.h"

#include <poll.h>

#include <fstream>
#include <sstream>

#include "zkop/testing/loopback.h"

namespace zkop::devkube::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

Reply Client::Do(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& content_type, const std::string& accept) const {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(20));
  stream.connect(tcp::endpoint(asio::ip::make_address(host_), port_));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, host_);
  req.set(bhttp::field::accept, accept);
  for (const auto& [k, v] : headers) req.insert(k, v);
  if (!body.empty()) req.set(bhttp::field::content_type, content_type);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  Reply r;
  r.status = static_cast<int>(res.result_int());
  r.body = res.body();
  r.content_type = std::string(res[bhttp::field::content_type]);
  for (const auto& f : res)
    if (f.name() == bhttp::field::warning) r.warnings.emplace_back(f.value());
  std::string error;
  if (auto j = ParseJson(r.body, &error)) r.json = *j;
  return r;
}

WatchStream::WatchStream(const std::string& host, uint16_t port, const std::string& target) {
  socket_.connect(tcp::endpoint(asio::ip::make_address(host), port));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::accept, "application/json");
  bhttp::write(socket_, req);
  parser_.body_limit(boost::none);
  parser_.eager(true);
  beast::error_code ec;
  bhttp::read_header(socket_, buffer_, parser_, ec);
  if (!ec) status_ = static_cast<int>(parser_.get().result_int());
}

WatchStream::~WatchStream() {
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
}

bool WatchStream::ReadMore(std::chrono::steady_clock::time_point deadline) {
  while (!parser_.is_done()) {
    if (buffer_.size() > 0) {
      beast::error_code ec;
      size_t n = parser_.put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec && ec != bhttp::error::need_more) return false;
      if (n > 0) return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    beast::error_code ec;
    size_t n = socket_.read_some(buffer_.prepare(64 * 1024), ec);
    if (ec) {
      parser_.put_eof(ec);
      return false;
    }
    buffer_.commit(n);
  }
  return false;
}

std::optional<Json> WatchStream::Next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const std::string& body = parser_.get().body();
    size_t nl = body.find('\n', consumed_);
    if (nl != std::string::npos) {
      std::string line = body.substr(consumed_, nl - consumed_);
      consumed_ = nl + 1;
      std::string error;
      auto j = ParseJson(line, &error);
      EXPECT_TRUE(j) << "watch line is not JSON: " << line;
      if (j) return j;
      continue;
    }
    if (!ReadMore(deadline)) return std::nullopt;
  }
}

bool WatchStream::Ended(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!parser_.is_done())
    if (!ReadMore(deadline)) break;
  return parser_.is_done();
}

void DevkubeTest::Start(ApiServerOptions options) {
  client_.reset();
  server_.reset();
  host_ = zkop::testing::PickLoopbackAddress({});
  options.listen = host_ + ":0";
  server_ = std::make_unique<ApiServer>(options);
  client_ = std::make_unique<Client>(host_, server_->port());
}

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(ZKOP_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Json DevkubeTest::Yaml(const std::string& yaml) {
  std::string error;
  auto j = ParseYamlAsJson(yaml, &error);
  EXPECT_TRUE(j) << error;
  return j ? *j : Json::null();
}

void DevkubeTest::InstallZkCrd() {
  Json crd = Yaml(ReadSourceFile("crds/zookeeperclusters.zkop.io.yaml"));
  Reply r = client().Post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  ASSERT_EQ(r.status, 201) << r.body;
}

Json DevkubeTest::CreateYaml(const std::string& collection, const std::string& yaml) {
  Reply r = client().Post(collection, Yaml(yaml));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json;
}

int64_t Rv(const Json& object) {
  std::string rv = GetString(object, {"metadata", "resourceVersion"});
  return rv.empty() ? -1 : std::stoll(rv);
}

}  // namespace zkop::devkube::testing
