// zkop-zk-cli: a small ZooKeeper command line over zkop's shared client (zkop::zk::Client).
//
//   zkop-zk-cli --connect HOSTS put PATH DATA    create (with parents) or overwrite
//   zkop-zk-cli --connect HOSTS get PATH
//   zkop-zk-cli --connect HOSTS ls PATH
//   zkop-zk-cli --connect HOSTS rm PATH          delete PATH and everything below it
//   zkop-zk-cli --connect HOSTS config           the ensemble's dynamic configuration
//   zkop-zk-cli srvr HOST:PORT...                role and zxid of each server
#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "zkop/config/duration.h"
#include "zkop/version.h"
#include "zkop/zk/client.h"
#include "zkop/zk/four_letter.h"

namespace po = boost::program_options;
using zkop::zk::Status;

namespace {

constexpr const char* kUsage =
    "Usage: zkop-zk-cli [--connect HOSTS] [--timeout 10s] <command> [args]\n\n"
    "Commands:\n"
    "  put PATH DATA    create PATH (and missing parents) with DATA, or overwrite its data\n"
    "  get PATH         print the data of PATH\n"
    "  ls PATH          list the children of PATH\n"
    "  rm PATH          delete PATH and everything below it\n"
    "  config           print the ensemble's dynamic configuration\n"
    "  srvr ADDR...     print role and last zxid of each server (host:port)\n";

int Fail(const std::string& what, const Status& s) {
  std::cerr << "zkop-zk-cli: " << what << ": " << s.ToString() << "\n";
  return 1;
}

std::string Hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string connect, timeout_text = "10s", command;
  std::vector<std::string> args;
  po::options_description opts("Options");
  opts.add_options()("help,h", "show this help")("version", "print the version")(
      "connect", po::value<std::string>(&connect), "ZooKeeper connect string host:port,...")(
      "timeout", po::value<std::string>(&timeout_text)->default_value("10s"),
      "how long to wait for a session and for each answer");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>(&command))(
      "args", po::value<std::vector<std::string>>(&args));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zkop-zk-cli: " << e.what() << "\n\n" << kUsage << "\n" << opts;
    return 2;
  }
  if (vm.count("help") || command.empty()) {
    std::cout << kUsage << "\n" << opts;
    return vm.count("help") ? 0 : 2;
  }
  if (vm.count("version")) {
    std::cout << "zkop-zk-cli " << zkop::kVersion << "\n";
    return 0;
  }
  std::string error;
  auto timeout = zkop::config::ParseDuration(timeout_text, &error);
  if (!timeout) {
    std::cerr << "zkop-zk-cli: --timeout: " << error << "\n";
    return 2;
  }

  if (command == "srvr") {
    if (args.empty()) {
      std::cerr << "zkop-zk-cli: srvr needs at least one host:port\n";
      return 2;
    }
    int rc = 0;
    for (const std::string& addr : args) {
      zkop::zk::ServerInfo info;
      Status s = zkop::zk::QueryServer(addr, *timeout, &info);
      if (!s.ok()) {
        std::cout << addr << "  " << s.ToString() << "\n";
        rc = 1;
        continue;
      }
      std::cout << addr << "  " << zkop::zk::ServerModeName(info.mode) << "  zxid "
                << Hex(info.zxid) << "  connections " << info.connections << "\n";
    }
    return rc;
  }

  size_t want = command == "put" ? 2 : (command == "config" ? 0 : 1);
  if (command != "put" && command != "get" && command != "ls" && command != "rm" &&
      command != "config") {
    std::cerr << "zkop-zk-cli: unknown command \"" << command << "\"\n\n" << kUsage;
    return 2;
  }
  if (args.size() != want) {
    std::cerr << "zkop-zk-cli: " << command << " takes " << want << " argument(s), got "
              << args.size() << "\n\n"
              << kUsage;
    return 2;
  }
  if (connect.empty()) {
    std::cerr << "zkop-zk-cli: --connect is required for " << command << "\n";
    return 2;
  }
  zkop::zk::ClientOptions options;
  options.connect = connect;
  options.name = "cli";
  zkop::log::Configure(zkop::log::Level::kWarn, zkop::log::Format::kText);
  options.operation_timeout = *timeout;
  zkop::zk::Client client(options);
  if (Status s = client.Connect(*timeout); !s.ok()) return Fail("connect", s);
  const std::string via =
      "session " + Hex(client.session_id()) + " via " + client.connected_server();

  if (command == "put") {
    zkop::zk::CreateOptions create;
    create.make_parents = true;
    auto r = client.Create(args[0], args[1], create);
    if (r.status.ok()) {
      std::cout << "created " << r.path << " (" << via << ")\n";
      return 0;
    }
    if (r.status.code() != zkop::zk::Error::kNodeExists) return Fail("create " + args[0], r.status);
    auto set = client.Set(args[0], args[1]);
    if (!set.status.ok()) return Fail("set " + args[0], set.status);
    std::cout << "updated " << args[0] << " to version " << set.stat.version << " (" << via
              << ")\n";
    return 0;
  }
  if (command == "get") {
    auto r = client.Get(args[0]);
    if (!r.status.ok()) return Fail("get " + args[0], r.status);
    std::cout << args[0] << " = \"" << r.data << "\"  (version " << r.stat.version << ", " << via
              << ")\n";
    return 0;
  }
  if (command == "ls") {
    auto r = client.GetChildren(args[0]);
    if (!r.status.ok()) return Fail("ls " + args[0], r.status);
    for (const std::string& c : r.children) std::cout << c << "\n";
    return 0;
  }
  if (command == "rm") {
    Status s = client.DeleteTree(args[0]);
    if (!s.ok()) return Fail("rm " + args[0], s);
    std::cout << "deleted " << args[0] << "\n";
    return 0;
  }
  auto r = client.GetConfig();
  if (!r.status.ok()) return Fail("config", r.status);
  std::cout << r.data << "\n";
  return 0;
}
