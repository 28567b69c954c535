#include "zkop/operator/cluster/spec.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace zkop::op::cluster {
namespace {

// The longest name whose derived names ("data-<name>-9", "<name>-headless", "<name>-discovery")
// are still DNS labels (63 characters).
constexpr size_t kMaxNameLength = 52;

class Parser {
 public:
  explicit Parser(ParsedCluster* out) : out_(out) {}

  void Error(std::string field, std::string reason, std::string message) {
    out_->errors.push_back({std::move(field), std::move(message), std::move(reason)});
  }
  void Warn(std::string field, std::string reason, std::string message) {
    out_->warnings.push_back({std::move(field), std::move(message), std::move(reason)});
  }

  // A field of `obj`, or nullptr when absent or null.
  static const Json* Field(const Json& obj, const std::string& key) {
    if (!obj.is_object() || !obj.has_field(key)) return nullptr;
    const Json& v = obj.at(key);
    return v.is_null() ? nullptr : &v;
  }

  std::optional<std::string> String(const Json& obj, const std::string& key,
                                    const std::string& path) {
    const Json* v = Field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      Error(path, "InvalidType", "expected a string");
      return std::nullopt;
    }
    return v->as_string();
  }

  std::map<std::string, std::string> StringMap(const Json& obj, const std::string& key,
                                               const std::string& path) {
    std::map<std::string, std::string> out;
    const Json* v = Field(obj, key);
    if (!v) return out;
    if (!v->is_object()) {
      Error(path, "InvalidType", "expected a map of strings");
      return out;
    }
    for (const auto& [k, item] : v->as_object()) {
      if (!item.is_string()) {
        Error(path + "." + k, "InvalidType", "expected a string (quote numbers: \"2000\")");
        continue;
      }
      out[k] = item.as_string();
    }
    return out;
  }

  std::optional<Json> Object(const Json& obj, const std::string& key, const std::string& path) {
    const Json* v = Field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_object()) {
      Error(path, "InvalidType", "expected an object");
      return std::nullopt;
    }
    return *v;
  }

 private:
  ParsedCluster* out_;
};

bool HasControlCharacter(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// The repository part of an image reference: "reg:5000/zkop/zookeeper:3.8@sha256:..." ->
// "reg:5000/zkop/zookeeper".
std::string ImageRepository(const std::string& image) {
  std::string repo = image.substr(0, image.find('@'));
  const size_t slash = repo.rfind('/');
  const size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    repo.resize(colon);
  return repo;
}

void ParseConfig(Parser& p, const Json& spec, ClusterSpec* out) {
  static const std::regex kKey(R"(^[A-Za-z0-9][A-Za-z0-9._-]*$)");
  for (const auto& [key, value] : p.StringMap(spec, "config", "spec.config")) {
    const std::string field = "spec.config." + key;
    if (!std::regex_match(key, kKey)) {
      p.Error(field, "InvalidConfigKey",
              "is not a zoo.cfg key (letters, digits, '.', '_' and '-' only)");
      continue;
    }
    if (IsManagedConfigKey(key)) {
      p.Error(field, "ManagedConfigKey",
              "is managed by zkop and cannot be set: remove it from spec.config (membership, "
              "ports and data directories follow the cluster; skipACL is never allowed)");
      continue;
    }
    if (HasControlCharacter(value)) {
      p.Error(field, "InvalidConfigValue", "must be one line without control characters");
      continue;
    }
    if (key == "tickTime" || key == "initLimit" || key == "syncLimit") {
      const bool positive = !value.empty() && value.size() <= 9 &&
                            std::all_of(value.begin(), value.end(),
                                        [](unsigned char c) { return std::isdigit(c); }) &&
                            std::stol(value) > 0;
      if (!positive) {
        p.Error(field, "InvalidConfigValue",
                "expected a positive integer, found \"" + value + "\"");
        continue;
      }
    }
    out->config[key] = value;
  }
}

void ParsePodTemplate(Parser& p, const Json& spec, ClusterSpec* out) {
  const auto tmpl = p.Object(spec, "podTemplate", "spec.podTemplate");
  if (!tmpl) return;
  static const std::set<std::string> kOwnedLabels = {
      "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
      "zkop.io/member-id"};
  for (const auto& [k, v] : p.StringMap(*tmpl, "labels", "spec.podTemplate.labels")) {
    if (kOwnedLabels.count(k)) {
      p.Error("spec.podTemplate.labels." + k, "ManagedLabel",
              "is set by zkop on every member Pod: remove it from spec.podTemplate.labels");
      continue;
    }
    out->pod.labels[k] = v;
  }
  out->pod.annotations = p.StringMap(*tmpl, "annotations", "spec.podTemplate.annotations");
  out->pod.node_selector = p.StringMap(*tmpl, "nodeSelector", "spec.podTemplate.nodeSelector");
  if (const Json* t = Parser::Field(*tmpl, "tolerations")) {
    if (t->is_array())
      out->pod.tolerations = *t;
    else
      p.Error("spec.podTemplate.tolerations", "InvalidType", "expected a list of tolerations");
  }
  out->pod.affinity = p.Object(*tmpl, "affinity", "spec.podTemplate.affinity");
  out->pod.security_context =
      p.Object(*tmpl, "securityContext", "spec.podTemplate.securityContext");
  out->pod.priority_class =
      p.String(*tmpl, "priorityClassName", "spec.podTemplate.priorityClassName").value_or("");
  out->pod.service_account =
      p.String(*tmpl, "serviceAccountName", "spec.podTemplate.serviceAccountName").value_or("");
}

}  // namespace

bool IsManagedConfigKey(const std::string& key) {
  static const std::set<std::string> kManaged = {"dataDir",           "dataLogDir",
                                                 "clientPort",        "clientPortAddress",
                                                 "secureClientPort",  "dynamicConfigFile",
                                                 "reconfigEnabled",   "standaloneEnabled",
                                                 "skipACL",           "4lw.commands.whitelist",
                                                 "admin.serverPort",  "admin.serverAddress",
                                                 "admin.enableServer"};
  return kManaged.count(key) > 0 || key.rfind("server.", 0) == 0 || key.rfind("group.", 0) == 0 ||
         key.rfind("weight.", 0) == 0;
}

ParsedCluster ParseCluster(const Json& cr) {
  ParsedCluster out;
  Parser p(&out);
  ClusterSpec& s = out.spec;
  const Json empty = Json::object();
  const Json& meta = cr.has_field("metadata") ? cr.at("metadata") : empty;
  s.name = p.String(meta, "name", "metadata.name").value_or("");
  s.ns = p.String(meta, "namespace", "metadata.namespace").value_or("");
  s.uid = p.String(meta, "uid", "metadata.uid").value_or("");
  if (const Json* g = Parser::Field(meta, "generation"); g && g->is_integer())
    s.generation = g->as_number().to_int64();
  if (s.name.empty()) p.Error("metadata.name", "InvalidName", "is required");
  if (s.name.size() > kMaxNameLength) {
    p.Error("metadata.name", "NameTooLong",
            "is " + std::to_string(s.name.size()) + " characters; at most " +
                std::to_string(kMaxNameLength) +
                " fit the names derived from it (data-<name>-9, <name>-headless): choose a "
                "shorter name");
  }

  const Json* spec_ptr = Parser::Field(cr, "spec");
  if (!spec_ptr || !spec_ptr->is_object()) {
    p.Error("spec", "MissingSpec", "is required (an object)");
    return out;
  }
  const Json& spec = *spec_ptr;

  if (const Json* r = Parser::Field(spec, "replicas")) {
    if (!r->is_integer() || r->as_number().to_int64() < 1 ||
        r->as_number().to_int64() > kMaxReplicas) {
      p.Error("spec.replicas", "InvalidReplicas",
              "expected an integer from 1 to " + std::to_string(kMaxReplicas));
    } else {
      s.replicas = static_cast<int>(r->as_number().to_int64());
    }
  }
  if (s.replicas % 2 == 0) {
    p.Warn("spec.replicas", "EvenReplicas",
           std::to_string(s.replicas) + " members tolerate no more failures than " +
               std::to_string(s.replicas - 1) + " and need a larger quorum (" +
               std::to_string(s.replicas / 2 + 1) + "): prefer an odd size");
  }

  if (auto image = p.String(spec, "image", "spec.image")) {
    const std::string repo = ImageRepository(*image);
    const std::string last =
        repo.substr(repo.rfind('/') == std::string::npos ? 0 : repo.rfind('/') + 1);
    if (image->empty() || HasControlCharacter(*image) || image->find(' ') != std::string::npos) {
      p.Error("spec.image", "InvalidImage",
              "expected an image reference such as zkop/zookeeper:3.8.0");
    } else if (last.size() < 9 || last.compare(last.size() - 9, 9, "zookeeper") != 0) {
      p.Error("spec.image", "NotAZooKeeperImage",
              "\"" + *image +
                  "\" is not a zkop ZooKeeper server image (its repository name must "
                  "end in \"zookeeper\", built from zkop's images/zookeeper): set spec.image to "
                  "zkop/zookeeper:<version> or your registry's copy of it");
    } else {
      s.image = *image;
    }
  }
  s.image_pull_policy = p.String(spec, "imagePullPolicy", "spec.imagePullPolicy").value_or("");
  s.resources = p.Object(spec, "resources", "spec.resources");

  if (auto storage = p.Object(spec, "storage", "spec.storage")) {
    if (auto size = p.String(*storage, "size", "spec.storage.size")) s.storage.size = *size;
    s.storage.storage_class =
        p.String(*storage, "storageClassName", "spec.storage.storageClassName").value_or("");
    if (auto policy = p.String(*storage, "reclaimPolicy", "spec.storage.reclaimPolicy")) {
      if (*policy == "Delete")
        s.storage.reclaim = ReclaimPolicy::kDelete;
      else if (*policy != "Retain")
        p.Error("spec.storage.reclaimPolicy", "InvalidReclaimPolicy",
                "expected Retain or Delete, found \"" + *policy + "\"");
    }
  }

  ParseConfig(p, spec, &s);

  if (auto flags = p.String(spec, "jvmFlags", "spec.jvmFlags")) {
    if (HasControlCharacter(*flags)) {
      p.Error("spec.jvmFlags", "InvalidJvmFlags", "must be one line without control characters");
    } else if (flags->find("skipACL") != std::string::npos ||
               flags->find("superDigest") != std::string::npos) {
      p.Error("spec.jvmFlags", "ManagedJvmFlag",
              "must not set zookeeper.skipACL or the super digest: zkop never skips ACLs and "
              "manages the super user in Secret <name>-admin");
    } else {
      s.jvm_flags = *flags;
    }
  }
  ParsePodTemplate(p, spec, &s);
  return out;
}

std::string MemberPodName(const std::string& cluster, int id) {
  return cluster + "-" + std::to_string(id);
}
std::string MemberClaimName(const std::string& cluster, int id) {
  return "data-" + MemberPodName(cluster, id);
}
std::string HeadlessServiceName(const std::string& cluster) { return cluster + "-headless"; }
std::string ClientServiceName(const std::string& cluster) { return cluster + "-client"; }
std::string AdminSecretName(const std::string& cluster) { return cluster + "-admin"; }
std::string ConfigMapName(const std::string& cluster) { return cluster + "-config"; }
std::string DiscoveryConfigMapName(const std::string& cluster) { return cluster + "-discovery"; }

std::string MemberHost(const ClusterSpec& spec, int id, const std::string& cluster_domain) {
  return MemberPodName(spec.name, id) + "." + HeadlessServiceName(spec.name) + "." + spec.ns +
         ".svc." + cluster_domain;
}

int MemberIdOfPod(const std::string& cluster, const std::string& pod) {
  if (pod.size() <= cluster.size() + 1 || pod.compare(0, cluster.size(), cluster) != 0 ||
      pod[cluster.size()] != '-')
    return 0;
  const std::string digits = pod.substr(cluster.size() + 1);
  if (digits.empty() || digits.size() > 3 || digits[0] == '0' ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return 0;
  return std::stoi(digits);
}

}  // namespace zkop::op::cluster
