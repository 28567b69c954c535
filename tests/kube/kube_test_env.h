// Fixture for the client's integration tests: a devkube API emulator on an
// ephemeral port, a kubeconfig it wrote, and a Client on the real HTTP
// transport wrapped in a FaultTransport.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "fault_transport.h"
#include "zkop/devkube/api_server.h"
#include "zkop/kube/client.h"
#include "zkop/kube/config.h"

namespace zkop::kube::testing {

inline devkube::ApiServerOptions EmulatorOptions() {
  devkube::ApiServerOptions o;
  o.listen = "127.0.0.1:0";
  o.watch_history = 50;
  o.bookmark_interval = std::chrono::milliseconds(200);
  return o;
}

// Fast retries so retry tests take milliseconds, not seconds.
inline ClientOptions FastOptions() {
  ClientOptions o;
  o.request_timeout = std::chrono::seconds(5);
  o.backoff = {std::chrono::milliseconds(10), std::chrono::milliseconds(100), 2.0, 0.2};
  return o;
}

class KubeEnv : public ::testing::Test {
 protected:
  explicit KubeEnv(devkube::ApiServerOptions options = EmulatorOptions())
      : server_(std::move(options)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zkop-kube-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    server_.WriteKubeconfig((dir_ / "kubeconfig").string(), "default");
    config_ = LoadKubeconfig((dir_ / "kubeconfig").string());
    faults_ = std::make_shared<FaultTransport>(NewHttpTransport(config_));
    client_ = std::make_shared<Client>(faults_, config_.default_namespace, FastOptions());
  }
  ~KubeEnv() override { std::filesystem::remove_all(dir_); }

  // A client of its own (own fault switch) on the same server.
  std::pair<std::shared_ptr<FaultTransport>, std::shared_ptr<Client>> NewClient(
      ClientOptions options = FastOptions()) {
    auto t = std::make_shared<FaultTransport>(NewHttpTransport(config_));
    return {t, std::make_shared<Client>(t, config_.default_namespace, options)};
  }

  static Json ConfigMap(const std::string& name,
                        const std::map<std::string, std::string>& labels = {},
                        const std::string& value = "v") {
    Json cm = Json::object();
    cm["metadata"] = Json::object();
    cm["metadata"]["name"] = Json::string(name);
    if (!labels.empty()) {
      Json l = Json::object();
      for (const auto& [k, v] : labels) l[k] = Json::string(v);
      cm["metadata"]["labels"] = l;
    }
    cm["data"] = Json::object();
    cm["data"]["k"] = Json::string(value);
    return cm;
  }

  devkube::ApiServer server_;
  std::filesystem::path dir_;
  ClientConfig config_;
  std::shared_ptr<FaultTransport> faults_;
  std::shared_ptr<Client> client_;
};

}  // namespace zkop::kube::testing
