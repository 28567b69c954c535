// Test fixture for the emulator's conformance tests: an ApiServer on a random loopback
// address and ephemeral port, and a small blocking HTTP client (Boost.Beast) that speaks to it
// like a Kubernetes client does, including chunked watch streams.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "json_util.h"
#include "zkop/devkube/api_server.h"

namespace zkop::devkube::testing {

struct Reply {
  int status = 0;
  std::string body;
  Json json;  // null when the body is not JSON
  std::vector<std::string> warnings;
  std::string content_type;
};

class Client {
 public:
  Client(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}
  Reply Do(const std::string& method, const std::string& target, const std::string& body = "",
           const std::string& content_type = "application/json",
           const std::string& accept = "application/json") const;
  Reply Get(const std::string& target, const std::string& accept = "application/json") const {
    return Do("GET", target, "", "application/json", accept);
  }
  Reply Post(const std::string& target, const Json& body) const {
    return Do("POST", target, body.serialize());
  }
  Reply Put(const std::string& target, const Json& body) const {
    return Do("PUT", target, body.serialize());
  }
  Reply Patch(const std::string& target, const std::string& type, const std::string& body) const {
    return Do("PATCH", target, body, type);
  }
  Reply Delete(const std::string& target, const std::string& body = "") const {
    return Do("DELETE", target, body);
  }
  // Extra request headers ("Authorization", "Impersonate-User", ...), sent with every request.
  std::vector<std::pair<std::string, std::string>> headers;

 private:
  std::string host_;
  uint16_t port_;
};

// A watch request's event stream. Next() waits up to `timeout` for one event line.
class WatchStream {
 public:
  WatchStream(const std::string& host, uint16_t port, const std::string& target);
  ~WatchStream();
  int status() const { return status_; }
  // The next event, or nullopt on timeout or when the server ended the stream.
  std::optional<Json> Next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True once the server has finished the response (e.g. timeoutSeconds elapsed).
  bool Ended(std::chrono::milliseconds timeout);

 private:
  bool ReadMore(std::chrono::steady_clock::time_point deadline);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
  boost::beast::http::response_parser<boost::beast::http::string_body> parser_;
  size_t consumed_ = 0;
  int status_ = 0;
};

class DevkubeTest : public ::testing::Test {
 public:
  static Json Yaml(const std::string& yaml);

 protected:
  void SetUp() override { Start(ApiServerOptions{}); }
  // Restarts with `options` (listen is set to a random loopback address).
  void Start(ApiServerOptions options);
  Client& client() { return *client_; }
  std::unique_ptr<WatchStream> Watch(const std::string& target) {
    return std::make_unique<WatchStream>(host_, server_->port(), target);
  }
  // Applies crds/zookeeperclusters.zkop.io.yaml.
  void InstallZkCrd();
  // POSTs `yaml` (one object) to `collection`; expects 201 and returns the object.
  Json CreateYaml(const std::string& collection, const std::string& yaml);

  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<Client> client_;
  std::string host_;
};

std::string ReadSourceFile(const std::string& relative);
int64_t Rv(const Json& object);  // metadata.resourceVersion as a number

}  // namespace zkop::devkube::testing
