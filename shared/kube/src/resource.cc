#include "zkop/kube/resource.h"

#include <algorithm>
#include <cctype>

namespace zkop::kube {

namespace resources {
ResourceRef Namespaces() { return {"", "v1", "namespaces", false, "Namespace"}; }
ResourceRef Pods() { return {"", "v1", "pods", true, "Pod"}; }
ResourceRef Services() { return {"", "v1", "services", true, "Service"}; }
ResourceRef ConfigMaps() { return {"", "v1", "configmaps", true, "ConfigMap"}; }
ResourceRef Secrets() { return {"", "v1", "secrets", true, "Secret"}; }
ResourceRef Events() { return {"", "v1", "events", true, "Event"}; }
ResourceRef PersistentVolumeClaims() {
  return {"", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim"};
}
ResourceRef ServiceAccounts() { return {"", "v1", "serviceaccounts", true, "ServiceAccount"}; }
ResourceRef Deployments() { return {"apps", "v1", "deployments", true, "Deployment"}; }
ResourceRef PodDisruptionBudgets() {
  return {"policy", "v1", "poddisruptionbudgets", true, "PodDisruptionBudget"};
}
ResourceRef Leases() { return {"coordination.k8s.io", "v1", "leases", true, "Lease"}; }
ResourceRef CustomResourceDefinitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
          "CustomResourceDefinition"};
}
ResourceRef ZookeeperClusters() {
  return {"zkop.io", "v1alpha1", "zookeeperclusters", true, "ZookeeperCluster"};
}
}  // namespace resources

std::string EncodeQueryValue(std::string_view v) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ResourcePath(const ResourceRef& ref, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string path =
      ref.group.empty() ? "/api/" + ref.version : "/apis/" + ref.group + "/" + ref.version;
  if (ref.namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += EncodeQueryValue(ns);
  }
  path += "/" + ref.resource;
  if (!name.empty()) {
    path += "/";
    path += EncodeQueryValue(name);
    if (!subresource.empty()) {
      path += "/";
      path += subresource;
    }
  }
  return path;
}

std::string ListQuery(const ListOptions& o, bool watch) {
  std::string q;
  auto add = [&q](std::string_view key, std::string_view value) {
    q += q.empty() ? '?' : '&';
    q += key;
    q += '=';
    q += EncodeQueryValue(value);
  };
  if (watch) add("watch", "1");
  if (!o.label_selector.empty()) add("labelSelector", o.label_selector);
  if (!o.field_selector.empty()) add("fieldSelector", o.field_selector);
  if (!watch && o.limit > 0) add("limit", std::to_string(o.limit));
  if (!watch && !o.continue_token.empty()) add("continue", o.continue_token);
  if (!o.resource_version.empty()) add("resourceVersion", o.resource_version);
  if (o.timeout_seconds) add("timeoutSeconds", std::to_string(*o.timeout_seconds));
  if (watch && o.allow_bookmarks) add("allowWatchBookmarks", "true");
  return q;
}

std::string SelectorFromLabels(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k + "=" + v;
  }
  return out;
}

namespace {

// A tiny tokenizer over a selector: identifiers, operators and punctuation.
class SelectorLexer {
 public:
  explicit SelectorLexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= s_.size();
  }
  bool Consume(std::string_view tok) {
    SkipSpace();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  // Label keys and values: [A-Za-z0-9._/-]+ (empty allowed for values).
  std::string Word() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
            s_[pos_] == '_' || s_[pos_] == '-' || s_[pos_] == '/')) {
      ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }
  // Peeks a keyword ("in", "notin") followed by space or '('.
  bool Keyword(std::string_view kw) {
    SkipSpace();
    if (s_.substr(pos_, kw.size()) != kw) return false;
    size_t next = pos_ + kw.size();
    if (next < s_.size() && (s_[next] == ' ' || s_[next] == '(')) {
      pos_ = next;
      return true;
    }
    return false;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<LabelSelector> LabelSelector::Parse(std::string_view text, std::string* error) {
  LabelSelector sel;
  SelectorLexer lx(text);
  auto fail = [&](const std::string& what) -> std::optional<LabelSelector> {
    if (error) {
      *error = "label selector \"" + std::string(text) + "\" at offset " +
               std::to_string(lx.pos()) + ": " + what;
    }
    return std::nullopt;
  };
  if (lx.AtEnd()) return sel;
  while (true) {
    Requirement r;
    if (lx.Consume("!")) {
      r.op = Requirement::kNotExists;
      r.key = lx.Word();
      if (r.key.empty()) return fail("expected a label key after '!'");
    } else {
      r.key = lx.Word();
      if (r.key.empty()) return fail("expected a label key");
      if (lx.Consume("==") || lx.Consume("=")) {
        r.op = Requirement::kIn;
        r.values.push_back(lx.Word());
      } else if (lx.Consume("!=")) {
        r.op = Requirement::kNotIn;
        r.values.push_back(lx.Word());
      } else if (lx.Keyword("in") || lx.Keyword("notin")) {
        std::string_view before = text.substr(0, lx.pos());
        r.op = before.ends_with("notin") ? Requirement::kNotIn : Requirement::kIn;
        if (!lx.Consume("(")) return fail("expected '(' after in/notin");
        do {
          r.values.push_back(lx.Word());
        } while (lx.Consume(","));
        if (!lx.Consume(")")) return fail("expected ')' closing the value set");
      } else {
        r.op = Requirement::kExists;
      }
    }
    sel.reqs_.push_back(std::move(r));
    if (lx.AtEnd()) break;
    if (!lx.Consume(",")) return fail("expected ',' between requirements");
  }
  return sel;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& r : reqs_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in_set = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Requirement::kIn:
        if (!in_set) return false;
        break;
      case Requirement::kNotIn:
        if (in_set) return false;
        break;
      case Requirement::kExists:
        if (!has) return false;
        break;
      case Requirement::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

}  // namespace zkop::kube
