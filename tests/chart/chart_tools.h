// Shared by the chart tests: real Helm (scripts/install-deps.sh puts it at
// /usr/local/lib/zkop/helm/helm; CMake compiles its path in) with private HELM_*_HOME dirs,
// and the rendered manifests as yaml-cpp nodes.
//
// Contract: Helm() runs helm with `--kubeconfig` only when one is given, waits at most
// `timeout` (then kills it) and returns its exit status (-1 on timeout) and its combined
// stdout+stderr. Render() is `helm template zkop charts/zkop --namespace zkop-system <args>`;
// it fails the calling test (and returns no documents) when helm fails.
#pragma once

#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::chart::testing {

inline const std::string kHelm = ZKOP_HELM;
inline const std::string kSourceDir = ZKOP_SOURCE_DIR;
inline const std::string kChart = kSourceDir + "/charts/zkop";

struct HelmRun {
  int status = -1;
  std::string output;
};

// Fails the test when Helm is missing (install-deps.sh installs it: not a skip).
inline void RequireHelm() {
  ASSERT_FALSE(kHelm.empty()) << "helm was not found at configure time: run "
                                 "scripts/install-deps.sh and re-run cmake";
  ASSERT_EQ(::access(kHelm.c_str(), X_OK), 0)
      << kHelm << " is missing: run scripts/install-deps.sh";
}

inline HelmRun Helm(const zkop::testing::TempDir& dir, std::vector<std::string> args,
                    const std::string& kubeconfig = "",
                    std::chrono::seconds timeout = std::chrono::seconds(60)) {
  static int runs = 0;
  const std::string log = dir.Path("helm-" + std::to_string(++runs) + ".log");
  zkop::testing::SubprocessOptions o;
  o.argv = {kHelm};
  if (!kubeconfig.empty()) o.argv.insert(o.argv.end(), {"--kubeconfig", kubeconfig});
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {"HELM_CACHE_HOME=" + dir.Path("helm/cache"),
           "HELM_CONFIG_HOME=" + dir.Path("helm/config"), "HELM_DATA_HOME=" + dir.Path("helm/data"),
           "HELM_DRIVER=secret", "HELM_NO_PLUGINS=1"};
  o.output_file = log;
  zkop::testing::Subprocess helm(o);
  const auto status = helm.Wait(timeout);
  return {status ? *status : -1, zkop::testing::ReadFile(log)};
}

// The documents of `helm template` (empty ones dropped).
inline std::vector<YAML::Node> Render(const zkop::testing::TempDir& dir,
                                      std::vector<std::string> args) {
  std::vector<std::string> argv = {"template", "zkop", kChart, "--namespace", "zkop-system"};
  argv.insert(argv.end(), args.begin(), args.end());
  const HelmRun run = Helm(dir, argv);
  EXPECT_EQ(run.status, 0) << run.output;
  std::vector<YAML::Node> docs;
  if (run.status != 0) return docs;
  for (const YAML::Node& doc : YAML::LoadAll(run.output))
    if (doc.IsMap()) docs.push_back(doc);
  return docs;
}

// The documents of kind `kind` (and name `name` when given).
inline std::vector<YAML::Node> OfKind(const std::vector<YAML::Node>& docs, const std::string& kind,
                                      const std::string& name = "") {
  std::vector<YAML::Node> out;
  for (const YAML::Node& d : docs)
    if (d["kind"].as<std::string>("") == kind &&
        (name.empty() || d["metadata"]["name"].as<std::string>("") == name))
      out.push_back(d);
  return out;
}

// (apiGroup, resource, verb, resourceName) rows of a Role's or ClusterRole's rules, one per
// combination ("" resourceName = any); sorted "group|resource|verb|name" strings.
inline std::vector<std::string> RuleRows(const YAML::Node& role) {
  std::vector<std::string> rows;
  for (const YAML::Node& rule : role["rules"]) {
    std::vector<std::string> names = {""};
    if (rule["resourceNames"] && rule["resourceNames"].size() > 0)
      names = rule["resourceNames"].as<std::vector<std::string>>();
    for (const auto& g : rule["apiGroups"].as<std::vector<std::string>>())
      for (const auto& r : rule["resources"].as<std::vector<std::string>>())
        for (const auto& v : rule["verbs"].as<std::vector<std::string>>())
          for (const auto& n : names) rows.push_back(g + "|" + r + "|" + v + "|" + n);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace zkop::chart::testing
