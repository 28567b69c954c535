#include "zkop/config/bounded_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "zkop/config/unique_fd.h"
#include "zkop/config/yaml_reader.h"

namespace zkop::config {

namespace {

std::string Kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

bool ReadRegularFile(const std::string& path, size_t max_bytes, std::string* out,
                     std::string* error) {
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking forever.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) {
    *error = std::string("cannot open the file: ") + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    *error = std::string("cannot stat the file: ") + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "is " + Kind(st.st_mode) + ", not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    *error = "is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
             std::to_string(max_bytes);
    return false;
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  out->clear();
  out->reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("cannot read the file: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > max_bytes) {  // grew while being read
      *error = "is more than the limit of " + std::to_string(max_bytes) + " bytes";
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  return true;
}

namespace {

// Counts, per node, its size with every alias expanded; checks depth and duplicate keys.
class Checker : public YAML::EventHandler {
 public:
  Checker(const std::string& name, const YamlLimits& limits) : name_(name), limits_(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Leaf(mark, anchor, 1, nullptr);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    size_t size = it == sizes_.end() ? 1 : it->second;
    if (size > limits_.max_nodes) {
      Fail(mark, "an alias expands to more than " + std::to_string(limits_.max_nodes) +
                     " nodes (nested aliases, a \"billion laughs\"); write the values out "
                     "instead of aliasing aliases");
    }
    Leaf(mark, 0, size, nullptr);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Leaf(mark, anchor, 1, &value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor, false);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor, true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor = 0;
    bool map = false;
    size_t children = 0;                        // events seen (keys and values alternate in a map)
    size_t size = 1;                            // expanded nodes in this subtree
    std::unordered_map<std::string, int> keys;  // scalar key -> 1-based line
  };

  [[noreturn]] void Fail(const YAML::Mark& mark, const std::string& detail) const {
    throw ConfigError(name_, mark.line + 1, mark.column + 1, "", detail);
  }

  void Add(size_t* total, size_t n) const {
    *total = *total + n > limits_.max_nodes ? limits_.max_nodes + 1 : *total + n;
  }

  // A node is complete: account for it in its parent (and check it as a key). Sizes only
  // grow, so a subtree over the limit fails as soon as it is seen to be.
  void Child(const YAML::Mark& mark, size_t size, const std::string* scalar) {
    size_t* sum = stack_.empty() ? &total_ : &stack_.back().size;
    Add(sum, size);
    if (*sum > limits_.max_nodes) {
      Fail(mark, "the document has more than " + std::to_string(limits_.max_nodes) +
                     " nodes once aliases are expanded (nested aliases, a \"billion "
                     "laughs\"?); write the values out or alias less");
    }
    if (stack_.empty()) return;
    Frame& parent = stack_.back();
    bool is_key = parent.map && parent.children % 2 == 0;
    ++parent.children;
    if (is_key && scalar && !limits_.allow_duplicate_keys) {
      auto [it, added] = parent.keys.emplace(*scalar, mark.line + 1);
      if (!added) {
        Fail(mark, "duplicate key \"" + *scalar + "\" (first set on line " +
                       std::to_string(it->second) + "); remove one of them");
      }
    }
  }

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, size_t size, const std::string* scalar) {
    if (anchor) sizes_[anchor] = size;
    Child(mark, size, scalar);
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    if (stack_.size() >= limits_.max_depth) {
      Fail(mark, "nested more than " + std::to_string(limits_.max_depth) +
                     " levels deep; flatten the structure");
    }
    marks_.push_back(mark);
    stack_.push_back(Frame{anchor, map, 0, 1, {}});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    YAML::Mark mark = marks_.back();
    stack_.pop_back();
    marks_.pop_back();
    if (f.anchor) sizes_[f.anchor] = f.size;
    Child(mark, f.size, nullptr);  // a collection as a key is never checked as a duplicate
  }

  const std::string& name_;
  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  std::vector<YAML::Mark> marks_;
  std::map<YAML::anchor_t, size_t> sizes_;
  size_t total_ = 0;
};

}  // namespace

void CheckYaml(std::string_view text, const std::string& name, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw ConfigError(name, 0, 0, "",
                      "the YAML is " + std::to_string(text.size()) +
                          " bytes, more than the limit of " + std::to_string(limits.max_bytes));
  }
  std::istringstream in{std::string(text)};
  Checker checker(name, limits);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(checker)) {
    }
  } catch (const YAML::DeepRecursion& e) {
    throw ConfigError(name, e.mark.line + 1, e.mark.column + 1, "",
                      "nested more than " + std::to_string(limits.max_depth) +
                          " levels deep; flatten the structure");
  } catch (const YAML::Exception& e) {
    throw ConfigError(name, e.mark.line + 1, e.mark.column + 1, "", "invalid YAML: " + e.msg);
  }
}

}  // namespace zkop::config
