// zkop-demo-provider: a stand-in for a Dubbo provider process — the program behind the image
// zkop/demo-provider (images/demo-provider/Dockerfile; on devkube, the pod runtime's image
// table), the examples, `make demo`, the agent's integration tests and its benchmark.
// Listens on --host:--port (0: any free port) like a provider's protocol server, accepts and
// closes connections, and runs until SIGTERM/SIGINT. Like a Dubbo provider whose port is
// taken, it exits with status 3 and a message when it cannot bind. It does not speak Dubbo.
// Prints "listening <host>:<port>" on stdout once bound, and "stopping: closing <host>:<port>"
// when a signal stops it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  namespace po = boost::program_options;
  std::string app, host = "127.0.0.1", conf;
  int port = 0;
  po::options_description opts("zkop-demo-provider [options]");
  opts.add_options()("help,h", "show this help")("app", po::value(&app)->required(),
                                                 "application name (appears in the cmdline)")(
      "host", po::value(&host), "address to listen on")("port", po::value(&port),
                                                        "port (0: any free port)")(
      "conf", po::value(&conf), "the provider's config file (informational)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts;
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zkop-demo-provider: " << e.what() << "\n" << opts;
    return 2;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
    std::cerr << "zkop-demo-provider: --host: expected an IPv4 address, found \"" << host << "\"\n";
    return 2;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 64) != 0) {
    std::cerr << "zkop-demo-provider " << app << ": cannot bind " << host << ":" << port << ": "
              << std::strerror(errno) << " (export failed, as a Dubbo provider's would)\n";
    return 3;
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::cout << "listening " << host << ":" << ntohs(a.sin_port) << std::endl;
  while (!g_stop) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      int c = accept(fd, nullptr, nullptr);
      if (c >= 0) close(c);
    }
  }
  std::cout << "stopping: closing " << host << ":" << ntohs(a.sin_port) << std::endl;
  close(fd);
  return 0;
}
