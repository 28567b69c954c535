// zkop-operator: reconciles ZookeeperCluster resources.
#include <boost/program_options.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "zkop/log/log.h"
#include "zkop/operator/controller/manager.h"
#include "zkop/operator/controller/run_command.h"
#include "zkop/version.h"

namespace po = boost::program_options;

// `zkop-operator render`: the cluster logic's (operator/src/cluster/render_command.cc).
int RunRender(int argc, char** argv);

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

// ---- TEMPORARY (branch operator-runtime only): until the cluster logic lands. -------------
// Replace MakeReconciler below with zkop::op::cluster::MakeClusterReconciler (from
// "zkop/operator/cluster/cluster_reconciler.h") and delete this block.
class PlaceholderReconciler : public zkop::op::Reconciler {
 public:
  zkop::op::ReconcileOutcome Reconcile(const zkop::op::ReconcileRequest& request,
                                       std::stop_token) override {
    log_.Info("reconcile: cluster logic not built yet", {{"cluster", request.Key()}});
    return zkop::op::ReconcileOutcome::Done();
  }

 private:
  zkop::log::Logger log_{"reconciler"};
};

std::unique_ptr<zkop::op::Reconciler> MakeReconciler(const zkop::op::ManagerDeps&) {
  return std::make_unique<PlaceholderReconciler>();
}
// ---- end of TEMPORARY ---------------------------------------------------------------------

}  // namespace

#if !defined(ZKOP_OPERATOR_HAS_RENDER)
// TEMPORARY weak placeholder (branch operator-runtime only): operator/CMakeLists.txt defines
// ZKOP_OPERATOR_HAS_RENDER once render_command.cc is among the cluster sources, which removes
// it (a weak definition here would otherwise keep the linker from pulling the real one out of
// the static library).
__attribute__((weak)) int RunRender(int, char**) {
  std::cerr << "zkop-operator render: not built yet\n";
  return 1;
}
#endif

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
  if (command == "run") return zkop::op::RunCommand(argc - 1, argv + 1, MakeReconciler);
  if (command == "render") return RunRender(argc - 1, argv + 1);
  std::cerr << "zkop-operator: unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}
