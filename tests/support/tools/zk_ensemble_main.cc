// zkop-zk-ensemble: runs a real ZooKeeper ensemble on loopback (the ZkEnsemble test
// fixture) until SIGINT/SIGTERM, then stops every server and exits. For the demo and for
// local development against real servers.
#include <signal.h>
#include <sys/prctl.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "zkop/testing/zk_ensemble.h"
#include "zkop/version.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  // If whoever started us dies (a killed demo script), stop as on SIGTERM.
  prctl(PR_SET_PDEATHSIG, SIGTERM);

  int servers = 3;
  std::string dir, ready_file;
  po::options_description opts(
      "Usage: zkop-zk-ensemble [options]\n\n"
      "Starts N ZooKeeper servers (Debian's zookeeper package) on random 127.x.y.z\n"
      "addresses, waits for quorum, prints the connect string and each server's role, and\n"
      "runs until SIGINT/SIGTERM (or until its parent process exits); then stops every\n"
      "server (no process is left behind).\n\n"
      "Options");
  opts.add_options()("help,h", "show this help")("version", "print the version")(
      "servers", po::value<int>(&servers)->default_value(3), "number of servers (1-9)")(
      "dir", po::value<std::string>(&dir),
      "directory for configs, data and logs (default: a fresh temporary directory, removed "
      "on exit)")("ready-file", po::value<std::string>(&ready_file),
                  "write the connect string to this file once the ensemble has quorum");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zkop-zk-ensemble: " << e.what() << "\n\n" << opts;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "zkop-zk-ensemble " << zkop::kVersion << "\n";
    return 0;
  }
  if (servers < 1 || servers > 9) {
    std::cerr << "zkop-zk-ensemble: --servers must be between 1 and 9, got " << servers << "\n";
    return 2;
  }
  try {
    zkop::testing::ZkEnsembleOptions options;
    options.size = servers;
    options.work_dir = dir;
    auto started = std::chrono::steady_clock::now();
    zkop::testing::ZkEnsemble ensemble(options);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    std::cout << "ensemble of " << servers << " servers has quorum after " << took.count()
              << " ms (files in " << ensemble.dir() << ")\n";
    for (int id : ensemble.Ids()) {
      std::cout << "  server." << id << "  " << ensemble.ClientAddress(id) << "  "
                << zkop::zk::ServerModeName(ensemble.Mode(id)) << "\n";
    }
    std::cout << "connect string: " << ensemble.ConnectString() << std::endl;
    if (!ready_file.empty()) {
      std::ofstream(ready_file + ".tmp") << ensemble.ConnectString() << "\n";
      std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
    }
    int sig = 0;
    sigwait(&stop, &sig);
    std::cout << "stopping " << servers << " servers (" << strsignal(sig) << ")" << std::endl;
    ensemble.StopAll();
    std::cout << "all servers stopped" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "zkop-zk-ensemble: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
