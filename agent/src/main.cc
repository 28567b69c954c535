// zkop-agent: per-pod Dubbo registration agent.
#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include "zkop/version.h"

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "Usage: zkop-agent <command> [options]\n"
    "\n"
    "Keeps the Dubbo providers of a pod registered in ZooKeeper and diagnoses port conflicts.\n"
    "\n"
    "Commands:\n"
    "  run      run the agent (register while ports listen)\n"
    "  check    resolve the config, probe ports, print each service and its state\n"
    "\n"
    "Run 'zkop-agent <command> --help' for a command's options.\n";

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
      std::cerr << "zkop-agent: " << e.what() << "\n" << kUsage;
      return 2;
    }
    if (vm.count("version")) {
      std::cout << "zkop-agent " << zkop::kVersion << "\n";
      return 0;
    }
    std::cout << kUsage << "\n" << global;
    return vm.count("help") ? 0 : 2;
  }
  std::cerr << "zkop-agent: unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}
