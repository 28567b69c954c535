// zkop-operator: reconciles ZookeeperCluster resources.
#include <boost/program_options.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "zkop/log/log.h"
#include "zkop/operator/cluster/cluster_reconciler.h"
#include "zkop/operator/cluster/render_command.h"
#include "zkop/operator/controller/manager.h"
#include "zkop/operator/controller/run_command.h"
#include "zkop/version.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "Usage: zkop-operator <command> [options]\n"
    "\n"
    "Reconciles zkop.io/v1alpha1 ZookeeperCluster resources into ZooKeeper ensembles.\n"
    "\n"
    "Commands:\n"
    "  run      run the operator against a Kubernetes API\n"
    "  render   print the objects a new cluster of a given spec gets (multi-document YAML)\n"
    "\n"
    "Run 'zkop-operator <command> --help' for a command's options.\n";

}  // namespace


int main(int argc, char** argv) {
  po::options_description global("Options");
  global.add_options()("help,h", "show this help")("version", "print the version");
  std::string command;
  if (argc >= 2 && argv[1][0] != '-') command = argv[1];
  if (command.empty()) {
    po::variables_map vm;
    try {
      po::store(po::command_line_parser(argc, argv).options(global).run(), vm);
    } catch (const po::error& e) {
      std::cerr << "zkop-operator: " << e.what() << "\n" << kUsage;
      return 2;
    }
    if (vm.count("version")) {
      std::cout << "zkop-operator " << zkop::kVersion << "\n";
      return 0;
    }
    std::cout << kUsage << "\n" << global;
    return vm.count("help") ? 0 : 2;
  }
  if (command == "run") return zkop::op::RunCommand(argc - 1, argv + 1, zkop::op::cluster::MakeClusterReconciler);
  if (command == "render") return zkop::op::cluster::RunRender(argc - 1, argv + 1, std::cout, std::cerr);
  std::cerr << "zkop-operator: unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}
