// zkop-devkube: the local Kubernetes API emulator as a program (make demo, hand testing).
#include <csignal>
#include <iostream>

#include <boost/program_options.hpp>

#include "zkop/devkube/api_server.h"
#include "zkop/log/log.h"
#include "zkop/version.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string listen, kubeconfig, state_file, level_name, ns;
  size_t history = 0;
  po::options_description opts(
      "zkop-devkube: a local Kubernetes API emulator for zkop's tests and demo.\n"
      "Usage: zkop-devkube --listen 127.0.0.1:0 --kubeconfig-out FILE [options]\nOptions");
  opts.add_options()("help,h", "print this help and exit")("version", "print the version and exit")(
      "listen", po::value(&listen)->default_value("127.0.0.1:0"),
      "host:port to serve plain HTTP on; port 0 picks a free port")(
      "kubeconfig-out", po::value(&kubeconfig),
      "write a kubeconfig for the served URL to this file")(
      "namespace", po::value(&ns)->default_value("default"), "the kubeconfig's namespace")(
      "state-file", po::value(&state_file),
      "load objects from this JSON file at start and save them on change and at exit")(
      "watch-history", po::value(&history)->default_value(5000),
      "events kept for watch resume; older resourceVersions answer 410 Gone")(
      "log-level", po::value(&level_name)->default_value("info"), "debug|info|warn|error");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zkop-devkube: " << e.what() << "\nTry zkop-devkube --help\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "zkop-devkube " << zkop::kVersion << " (serves Kubernetes API v1.32)\n";
    return 0;
  }
  zkop::log::Level level;
  if (!zkop::log::ParseLevel(level_name, &level)) {
    std::cerr << "zkop-devkube: --log-level \"" << level_name
              << "\" is not one of debug, info, warn, error\n";
    return 2;
  }
  zkop::log::Configure(level, zkop::log::Format::kText);

  // Block the stop signals before any thread starts, then wait for them on this thread.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  try {
    zkop::devkube::ApiServerOptions options;
    options.listen = listen;
    options.state_file = state_file;
    options.watch_history = history;
    zkop::devkube::ApiServer server(options);
    if (!kubeconfig.empty()) server.WriteKubeconfig(kubeconfig, ns);
    std::cout << "zkop-devkube: serving " << server.url() << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    std::cout << "zkop-devkube: stopping on " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
              << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "zkop-devkube: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
