#include "zkop/testing/zk_ensemble_env.h"

#include <cstdlib>
#include <iostream>

namespace zkop::testing {
namespace {
ZkEnsembleEnvironment* g_env = nullptr;
}  // namespace

ZkEnsembleEnvironment* ZkEnsembleEnvironment::Register(ZkEnsembleOptions options) {
  g_env = new ZkEnsembleEnvironment(std::move(options));
  ::testing::AddGlobalTestEnvironment(g_env);  // gtest owns it
  return g_env;
}

ZkEnsemble& ZkEnsembleEnvironment::Ensemble() {
  if (g_env == nullptr || !g_env->ensemble_) {
    std::cerr << "ZkEnsembleEnvironment::Ensemble() used outside a registered environment\n";
    std::abort();
  }
  return *g_env->ensemble_;
}

void ZkEnsembleEnvironment::SetUp() {
  try {
    ensemble_ = std::make_unique<ZkEnsemble>(options_);
  } catch (const std::exception& e) {
    std::cerr << "ZkEnsembleEnvironment: " << e.what() << "\n";
    std::exit(1);  // the last-resort cleanup kills anything started
  }
}

void ZkEnsembleEnvironment::TearDown() { ensemble_.reset(); }

}  // namespace zkop::testing
