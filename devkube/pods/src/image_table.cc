#include "zkop/devkube/pods/image_table.h"

#include <fnmatch.h>

#include "zkop/config/yaml_reader.h"

#ifndef ZKOP_POD_RUNTIME_SOURCE_DIR
#error "ZKOP_POD_RUNTIME_SOURCE_DIR must be defined by the build"
#endif
#ifndef ZKOP_POD_RUNTIME_BINARY_DIR
#error "ZKOP_POD_RUNTIME_BINARY_DIR must be defined by the build"
#endif

namespace zkop::devkube::pods {
namespace {

constexpr const char* kDebianZooKeeperClasspath =
    "/usr/share/java/zookeeper.jar:/usr/share/java/servlet-api.jar:"
    "/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar";

std::string Expand(std::string s, const std::string& source_dir, const std::string& binary_dir) {
  for (const auto& [var, value] :
       {std::pair<std::string, std::string>{"${ZKOP_SOURCE_DIR}", source_dir},
        {"${ZKOP_BINARY_DIR}", binary_dir}}) {
    for (size_t at = s.find(var); at != std::string::npos; at = s.find(var, at + value.size())) {
      s.replace(at, var.size(), value);
    }
  }
  return s;
}

std::map<std::string, std::string> ReadStringMap(const config::YamlReader& node) {
  std::map<std::string, std::string> out;
  if (!node.present()) return out;
  if (!node.IsMap()) node.FailExpected("a mapping of strings");
  for (const auto& [key, value] : node.AsEntries()) out[key] = value.AsString();
  return out;
}

}  // namespace

ImageTable ImageTable::Defaults(const std::string& source_dir, const std::string& binary_dir) {
  ImageEntry zookeeper;
  zookeeper.match = {"zkop/zookeeper", "*/zkop/zookeeper"};
  zookeeper.program = source_dir + "/images/zookeeper/entrypoint.sh";
  zookeeper.entrypoint = "/usr/local/bin/zkop-zookeeper-entrypoint";
  zookeeper.env = {{"JAVA", "/usr/bin/java"}, {"ZK_CLASSPATH", kDebianZooKeeperClasspath}};
  zookeeper.mount_env = {{"/etc/zkop/config", "ZK_CONFIG_SOURCE"}, {"/data", "ZK_DATA_DIR"}};

  ImageEntry agent;
  agent.match = {"zkop/agent", "*/zkop/agent"};
  agent.program = binary_dir + "/agent/zkop-agent";
  agent.entrypoint = "/usr/local/bin/zkop-agent";

  ImageEntry op;
  op.match = {"zkop/operator", "*/zkop/operator"};
  op.program = binary_dir + "/operator/zkop-operator";
  op.entrypoint = "/usr/local/bin/zkop-operator";

  ImageEntry demo_provider;  // examples/: a Dubbo provider stand-in (images/demo-provider)
  demo_provider.match = {"zkop/demo-provider", "*/zkop/demo-provider"};
  demo_provider.program = binary_dir + "/images/demo-provider/zkop-demo-provider";
  demo_provider.entrypoint = "/usr/local/bin/zkop-demo-provider";

  ImageEntry local_exec;
  local_exec.match = {"zkop.io/local-exec"};
  local_exec.run_command = true;
  return ImageTable({zookeeper, agent, op, demo_provider, local_exec});
}

ImageTable ImageTable::Defaults() {
  return Defaults(ZKOP_POD_RUNTIME_SOURCE_DIR, ZKOP_POD_RUNTIME_BINARY_DIR);
}

ImageTable ImageTable::LoadFile(const std::string& path) {
  return FromReader(config::YamlReader::LoadFile(path));
}

ImageTable ImageTable::Parse(const std::string& yaml, const std::string& name) {
  return FromReader(config::YamlReader::LoadString(yaml, name));
}

ImageTable ImageTable::FromReader(const config::YamlReader& root) {
  root.ExpectKeys({"images"});
  std::vector<ImageEntry> entries;
  for (const auto& item : root.Get("images").AsList()) {
    item.ExpectKeys({"match", "program", "entrypoint", "args", "env", "mountEnv", "runCommand"});
    ImageEntry e;
    const auto match = item.Get("match");
    if (match.IsScalar()) {
      e.match = {match.AsString()};
    } else {
      e.match = match.AsStringList();
    }
    if (e.match.empty())
      match.FailExpected("an image glob or a list of them", "e.g. zkop/zookeeper");
    e.run_command = item.Bool("runCommand", false);
    auto expand = [](const std::string& s) {
      return Expand(s, ZKOP_POD_RUNTIME_SOURCE_DIR, ZKOP_POD_RUNTIME_BINARY_DIR);
    };
    e.program = expand(item.String("program", ""));
    if (e.run_command == !e.program.empty()) {
      item.Get("program").FailExpected(e.run_command
                                           ? "no program (runCommand runs the container's command)"
                                           : "the host program that stands for the image",
                                       "set exactly one of program and runCommand: true");
    }
    e.entrypoint = item.String("entrypoint", "");
    for (auto& a : item.Get("args").AsStringList()) e.args.push_back(expand(a));
    for (auto& [k, v] : ReadStringMap(item.Get("env"))) e.env[k] = expand(v);
    e.mount_env = ReadStringMap(item.Get("mountEnv"));
    entries.push_back(std::move(e));
  }
  return ImageTable(std::move(entries));
}

std::string ImageTable::Repository(const std::string& image) {
  std::string repo = image.substr(0, image.find('@'));
  const size_t slash = repo.rfind('/');
  const size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repo.resize(colon);
  }
  return repo;
}

const ImageEntry* ImageTable::Find(const std::string& image) const {
  const std::string repo = Repository(image);
  for (const auto& e : entries_) {
    for (const auto& glob : e.match) {
      if (fnmatch(glob.c_str(), repo.c_str(), 0) == 0) return &e;
    }
  }
  return nullptr;
}

std::string ImageTable::Describe() const {
  std::string out;
  for (const auto& e : entries_) {
    for (const auto& glob : e.match) out += (out.empty() ? "" : ", ") + glob;
  }
  return out;
}

}  // namespace zkop::devkube::pods
