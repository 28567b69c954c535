// A Store (the emulator's API), a PodRuntime watching it and helpers to create objects and
// wait for Pod states. Every process the runtime starts is stopped when the fixture ends.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "zkop/devkube/pods/cluster.h"
#include "zkop/devkube/pods/runtime.h"
#include "zkop/devkube/store.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods::testing {

using web::json::value;
using namespace std::chrono_literals;

class RuntimeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.state_dir = dir_.Path("state");
    options_.backoff_base = 200ms;
    options_.backoff_max = 2s;
    options_.stop_grace = 2s;
    cluster_ = MakeStoreCluster(store_);
    runtime_ = std::make_unique<PodRuntime>(*cluster_, options_);
  }
  void TearDown() override { runtime_.reset(); }

  static ResourceRef Ref(const std::string& resource, const std::string& ns,
                         const std::string& name = "") {
    return ResourceRef{"", "v1", resource, ns, name, ""};
  }

  value Create(const std::string& resource, const std::string& ns, const std::string& json) {
    auto r = store_.Create(Ref(resource, ns), value::parse(json));
    EXPECT_TRUE(r.ok()) << resource << ": " << r.status.message;
    return r.value;
  }

  std::optional<value> Get(const std::string& resource, const std::string& ns,
                           const std::string& name) {
    auto r = store_.Get(Ref(resource, ns, name));
    if (!r.ok()) return std::nullopt;
    return r.value;
  }

  // Polls `done` every 50ms until it holds or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return done();
  }

  // A field of the Pod's status ("" when absent).
  std::string PodStatus(const std::string& ns, const std::string& name,
                        std::initializer_list<const char*> path) {
    auto pod = Get("pods", ns, name);
    if (!pod) return "";
    value cur = pod->has_field("status") ? pod->at("status") : value::object();
    for (const char* p : path) {
      if (!cur.is_object() || !cur.has_field(p)) return "";
      cur = cur.at(p);
    }
    if (cur.is_string()) return cur.as_string();
    return cur.serialize();
  }

  // The Pod's condition status ("True"/"False"/"").
  std::string Condition(const std::string& ns, const std::string& name, const std::string& type) {
    auto pod = Get("pods", ns, name);
    if (!pod || !pod->has_field("status") || !pod->at("status").has_field("conditions")) return "";
    for (const auto& c : pod->at("status").at("conditions").as_array()) {
      if (c.at("type").as_string() == type) return c.at("status").as_string();
    }
    return "";
  }

  // The first container's status object (null when absent).
  value ContainerStatus(const std::string& ns, const std::string& name, size_t index = 0) {
    auto pod = Get("pods", ns, name);
    if (!pod || !pod->has_field("status") || !pod->at("status").has_field("containerStatuses")) {
      return value::null();
    }
    const auto& list = pod->at("status").at("containerStatuses").as_array();
    return index < list.size() ? list.at(index) : value::null();
  }

  // The pid of the container's current process (from containerID "local://<pid>"), 0 if none.
  int ContainerPid(const std::string& ns, const std::string& name, size_t index = 0) {
    value cs = ContainerStatus(ns, name, index);
    if (!cs.is_object() || !cs.has_field("containerID") || !cs.at("state").has_field("running")) {
      return 0;
    }
    return std::stoi(cs.at("containerID").as_string().substr(std::string("local://").size()));
  }

  bool Ready(const std::string& ns, const std::string& name) {
    return Condition(ns, name, "Ready") == "True";
  }

  zkop::testing::TempDir dir_{"pod-runtime-it"};
  Store store_;
  RuntimeOptions options_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<PodRuntime> runtime_;
};

}  // namespace zkop::devkube::pods::testing
