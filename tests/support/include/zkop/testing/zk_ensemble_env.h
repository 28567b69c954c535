// One ZkEnsemble shared by every test of a test binary (a gtest global Environment), so
// a suite pays the JVM start-up once. Tests that stop, pause or reconfigure members must
// use their own ZkEnsemble instead (or restore the ensemble before they end).
//
//   // at namespace scope in the test binary:
//   static auto* const kEnv = zkop::testing::ZkEnsembleEnvironment::Register();
//   TEST(X, Y) { auto& zk = zkop::testing::ZkEnsembleEnvironment::Ensemble(); ... }
//
// SetUp failures (no quorum) are fatal for the binary with the servers' log tails.
// Register it in a binary whose main is gtest_main (or call it before RUN_ALL_TESTS).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "zkop/testing/zk_ensemble.h"

namespace zkop::testing {

class ZkEnsembleEnvironment : public ::testing::Environment {
 public:
  explicit ZkEnsembleEnvironment(ZkEnsembleOptions options) : options_(std::move(options)) {}
  static ZkEnsembleEnvironment* Register(ZkEnsembleOptions options = {});
  // The shared ensemble; valid between SetUp and TearDown (i.e. inside tests).
  static ZkEnsemble& Ensemble();

  void SetUp() override;
  void TearDown() override;

 private:
  ZkEnsembleOptions options_;
  std::unique_ptr<ZkEnsemble> ensemble_;
};

}  // namespace zkop::testing
