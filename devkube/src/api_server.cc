#include "zkop/devkube/api_server.h"

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "api_handler.h"
#include "http_server.h"
#include "json_util.h"
#include "zkop/log/log.h"

namespace zkop::devkube {
namespace {

const log::Logger kLog("devkube");

// Writes `text` to `path` atomically (temporary file + rename). False and *error on failure.
bool WriteFileAtomically(const std::string& path, const std::string& text, std::string* error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      *error = "cannot write " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

}  // namespace

class ApiServer::Impl {
 public:
  explicit Impl(ApiServerOptions options)
      : options_(std::move(options)),
        store_(Store::Options{options_.watch_history}),
        handler_(store_, options_.bookmark_interval) {
    if (!options_.state_file.empty()) LoadState();
    http_ = std::make_unique<HttpServer>(options_.listen,
                                         [this](Exchange& ex) { handler_.Handle(ex); });
    std::string host = http_->host();
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::") host = "::1";
    address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               std::to_string(http_->port());
    handler_.set_server_address(address_);
    if (!options_.state_file.empty()) saver_ = std::thread([this] { SaveLoop(); });
    kLog.Info("serving", {{"url", "http://" + address_}});
  }

  ~Impl() {
    http_.reset();
    if (saver_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
      }
      cv_.notify_all();
      saver_.join();
      Save();
    }
  }

  std::string url() const { return "http://" + address_; }
  uint16_t port() const { return http_->port(); }
  Store& store() { return store_; }
  ApiHandler& handler() { return handler_; }
  const ApiHandler& handler() const { return handler_; }

 private:
  void LoadState() {
    std::ifstream in(options_.state_file, std::ios::binary);
    if (!in) return;  // first run: the file is created on the first save
    std::stringstream text;
    text << in.rdbuf();
    std::string why;
    auto snapshot = ParseJson(text.str(), &why);
    if (!snapshot)
      throw std::runtime_error("state file " + options_.state_file + " is not JSON: " + why +
                               "; delete it to start empty");
    ApiStatus s = store_.Restore(*snapshot);
    if (!s.ok())
      throw std::runtime_error("state file " + options_.state_file + ": " + s.message +
                               "; delete it to start empty");
    saved_rv_ = store_.CurrentResourceVersion();
  }

  void Save() {
    uint64_t rv = store_.CurrentResourceVersion();
    if (rv == saved_rv_) return;
    std::string error;
    if (WriteFileAtomically(options_.state_file, store_.Snapshot().serialize(), &error))
      saved_rv_ = rv;
    else
      kLog.Error("cannot save state", {{"file", options_.state_file}, {"error", error}});
  }

  void SaveLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (stopping_) break;
      lock.unlock();
      Save();
      lock.lock();
    }
  }

  ApiServerOptions options_;
  Store store_;
  ApiHandler handler_;
  std::unique_ptr<HttpServer> http_;
  std::string address_;
  std::thread saver_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t saved_rv_ = 0;
};

ApiServer::ApiServer(ApiServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ApiServer::~ApiServer() = default;

std::string ApiServer::url() const { return impl_->url(); }
uint16_t ApiServer::port() const { return impl_->port(); }
Store& ApiServer::store() { return impl_->store(); }
void ApiServer::InjectFault(Fault fault) { impl_->handler().InjectFault(std::move(fault)); }
void ApiServer::ClearFaults() { impl_->handler().ClearFaults(); }
std::vector<std::string> ApiServer::RequestLog() const { return impl_->handler().RequestLog(); }
void ApiServer::SetPodLogSource(PodLogSource source) {
  impl_->handler().SetPodLogSource(std::move(source));
}

void ApiServer::WriteKubeconfig(const std::string& path, const std::string& ns) const {
  std::string text =
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: devkube\n"
      "  cluster:\n"
      "    server: " +
      url() +
      "\n"
      "users:\n"
      "- name: devkube\n"
      "  user:\n"
      "    token: devkube-dummy-token\n"
      "contexts:\n"
      "- name: devkube\n"
      "  context:\n"
      "    cluster: devkube\n"
      "    user: devkube\n"
      "    namespace: " +
      ns +
      "\n"
      "current-context: devkube\n"
      "preferences: {}\n";
  std::string error;
  if (!WriteFileAtomically(path, text, &error))
    throw std::runtime_error("cannot write kubeconfig " + path + ": " + error);
}

}  // namespace zkop::devkube
