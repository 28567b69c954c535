// The local image table: how a container image maps to a program on this machine. The pod
// runtime has no container images; each image a Pod names must match an entry here, or the
// container waits with reason ErrImagePull / ImagePullBackOff.
//
// YAML form (LoadFile / Parse), the defaults written out:
//   images:
//     - match: ["zkop/zookeeper", "*/zkop/zookeeper"]   # globs on the repository (no tag)
//       program: ${ZKOP_SOURCE_DIR}/images/zookeeper/entrypoint.sh
//       entrypoint: /usr/local/bin/zkop-zookeeper-entrypoint  # the image's ENTRYPOINT path
//       env: {JAVA: /usr/bin/java, ZK_CLASSPATH: "..."}
//       mountEnv: {/etc/zkop/config: ZK_CONFIG_SOURCE, /data: ZK_DATA_DIR}
//     - match: ["zkop/agent", "*/zkop/agent"]
//       program: ${ZKOP_BINARY_DIR}/agent/zkop-agent
//       entrypoint: /usr/local/bin/zkop-agent
//     - match: ["zkop.io/local-exec"]
//       runCommand: true        # the container's command/args run as a host program
// ${ZKOP_SOURCE_DIR} and ${ZKOP_BINARY_DIR} expand to the source and build trees zkop was
// configured with.
//
// Contract: an ImageTable is an immutable value after construction; Find is thread-safe.
// LoadFile/Parse throw zkop::config::ConfigError (file:line: key path: what is wrong).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace zkop::config {
class YamlReader;
}

namespace zkop::devkube::pods {

struct ImageEntry {
  std::vector<std::string> match;  // fnmatch globs on the image repository (tag/digest cut)
  // false: the host program `program` stands for the image's ENTRYPOINT; the container's
  // `args` replace `args`; a container `command` is accepted only when it equals
  // `entrypoint` (the path inside the real image).
  // true: the container's `command` + `args` are the host program and its arguments.
  bool run_command = false;
  std::string program;
  std::string entrypoint;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // set before the Pod's own env (which wins)
  // A mount at this container path sets this env var to the mount's host directory.
  std::map<std::string, std::string> mount_env;
};

class ImageTable {
 public:
  ImageTable() = default;
  explicit ImageTable(std::vector<ImageEntry> entries) : entries_(std::move(entries)) {}

  // The built-in table (see above) for the given source and build trees.
  static ImageTable Defaults(const std::string& source_dir, const std::string& binary_dir);
  // The defaults for the trees this library was built from.
  static ImageTable Defaults();
  static ImageTable LoadFile(const std::string& path);
  static ImageTable Parse(const std::string& yaml, const std::string& name);

  // The first entry matching `image` ("zkop/zookeeper:3.8.0", "reg:5000/zkop/agent@sha256:..")
  // or nullptr.
  const ImageEntry* Find(const std::string& image) const;
  // "zkop/zookeeper:3.8.0" -> "zkop/zookeeper" (keeps a registry host:port).
  static std::string Repository(const std::string& image);
  // The match globs of every entry, for "known images" messages.
  std::string Describe() const;
  const std::vector<ImageEntry>& entries() const { return entries_; }

 private:
  static ImageTable FromReader(const config::YamlReader& root);
  std::vector<ImageEntry> entries_;
};

}  // namespace zkop::devkube::pods
