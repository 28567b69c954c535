// `zkop-operator run`: flags → ManagerOptions, API configuration, signals, Manager::Run.
//
// Exit status: 0 after SIGTERM/SIGINT (in-flight reconciles finished, Lease released,
// informers stopped); 1 on a runtime failure (unreadable kubeconfig, metrics address in use,
// leadership lost); 2 on bad flags (the message names the flag and what was wrong).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "zkop/kube/config.h"
#include "zkop/operator/controller/manager.h"

namespace zkop::op {

struct RunFlags {
  std::string kubeconfig;  // "" = in-cluster, else $KUBECONFIG, ~/.kube/config
  ManagerOptions manager;
  bool lease_namespace_set = false;  // --leader-election-namespace given
  bool help = false;
};

// Parses `run`'s arguments (argv[0] is "run"). Returns false and sets *error on bad flags;
// *usage receives the options' help text either way.
bool ParseRunFlags(int argc, const char* const* argv, RunFlags* flags, std::string* error,
                   std::string* usage);

// The Lease's namespace when the flag is absent: the in-cluster service-account namespace
// file, else the kubeconfig context's namespace, else "default".
std::string DefaultLeaseNamespace(const kube::ClientConfig& config,
                                  const std::filesystem::path& namespace_file =
                                      "/var/run/secrets/kubernetes.io/serviceaccount/namespace");

int RunCommand(int argc, char** argv, ReconcilerFactory factory);

}  // namespace zkop::op
