#include "rbac.h"

#include <algorithm>

namespace zkop::devkube {
namespace {

const char kRbac[] = "rbac.authorization.k8s.io";

bool Contains(const Json& rule, const char* field, const std::string& value) {
  const Json* list = Find(rule, {field});
  if (!list || !list->is_array()) return false;
  for (const Json& v : list->as_array())
    if (v.is_string() && (v.as_string() == "*" || v.as_string() == value)) return true;
  return false;
}

bool ResourceMatches(const Json& rule, const RequestAttributes& a) {
  const Json* list = Find(rule, {"resources"});
  if (!list || !list->is_array()) return false;
  const std::string combined =
      a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const Json& v : list->as_array()) {
    if (!v.is_string()) continue;
    const std::string& r = v.as_string();
    if (r == "*" || r == combined) return true;
    if (!a.subresource.empty() && r == "*/" + a.subresource) return true;
  }
  return false;
}

bool NamesMatch(const Json& rule, const std::string& name) {
  const Json* list = Find(rule, {"resourceNames"});
  if (!list || !list->is_array() || list->size() == 0) return true;
  for (const Json& v : list->as_array())
    if (v.is_string() && v.as_string() == name) return true;
  return false;
}

bool UrlMatches(const Json& rule, const std::string& path) {
  const Json* list = Find(rule, {"nonResourceURLs"});
  if (!list || !list->is_array()) return false;
  for (const Json& v : list->as_array()) {
    if (!v.is_string()) continue;
    const std::string& u = v.as_string();
    if (u == "*" || u == path) return true;
    if (!u.empty() && u.back() == '*' && path.rfind(u.substr(0, u.size() - 1), 0) == 0) return true;
  }
  return false;
}

bool RuleAllows(const Json& rule, const RequestAttributes& a) {
  if (!Contains(rule, "verbs", a.verb)) return false;
  if (!a.resource_request) return UrlMatches(rule, a.path);
  return Contains(rule, "apiGroups", a.api_group) && ResourceMatches(rule, a) &&
         NamesMatch(rule, a.name);
}

// The subject of `binding` that `user` is, described like the real authorizer ("User \"u\"",
// "Group \"g\"", "ServiceAccount \"sa/ns\""); "" when none applies.
std::string AppliesTo(const Json& binding, const UserInfo& user, const std::string& binding_ns) {
  const Json* subjects = Find(binding, {"subjects"});
  if (!subjects || !subjects->is_array()) return "";
  for (const Json& s : subjects->as_array()) {
    const std::string kind = GetString(s, {"kind"});
    const std::string name = GetString(s, {"name"});
    if (kind == "User" && name == user.name) return "User \"" + name + "\"";
    if (kind == "Group" && user.InGroup(name)) return "Group \"" + name + "\"";
    if (kind == "ServiceAccount") {
      std::string ns = GetString(s, {"namespace"});
      if (ns.empty()) ns = binding_ns;
      if (user.name == "system:serviceaccount:" + ns + ":" + name)
        return "ServiceAccount \"" + name + "/" + ns + "\"";
    }
  }
  return "";
}

std::vector<Json> Items(const Result<Json>& list) {
  std::vector<Json> out;
  if (list.ok())
    if (const Json* items = Find(list.value, {"items"}); items && items->is_array())
      for (const Json& i : items->as_array()) out.push_back(i);
  return out;
}

// True (and *reason) when a rule of the role `ref_kind`/`ref_name` allows the request.
bool RoleAllows(const Store& store, const std::string& ref_kind, const std::string& ref_name,
                const std::string& ns, const RequestAttributes& a) {
  Result<Json> role = ref_kind == "ClusterRole"
                          ? store.Get({kRbac, "v1", "clusterroles", "", ref_name, ""})
                          : store.Get({kRbac, "v1", "roles", ns, ref_name, ""});
  if (!role.ok()) return false;
  const Json* rules = Find(role.value, {"rules"});
  if (!rules || !rules->is_array()) return false;
  for (const Json& rule : rules->as_array())
    if (RuleAllows(rule, a)) return true;
  return false;
}

Json Rule(std::vector<std::string> groups, std::vector<std::string> resources,
          std::vector<std::string> verbs) {
  auto strings = [](const std::vector<std::string>& v) {
    Json out = Json::array();
    for (size_t i = 0; i < v.size(); ++i) out[i] = Json::string(v[i]);
    return out;
  };
  Json r = Json::object();
  if (groups.size() == 1 && groups[0] == "nonResourceURLs") {
    r["nonResourceURLs"] = strings(resources);
  } else {
    r["apiGroups"] = strings(groups);
    r["resources"] = strings(resources);
  }
  r["verbs"] = strings(verbs);
  return r;
}

Json BootstrapMeta(const std::string& name) {
  Json m = Json::object();
  m["name"] = Json::string(name);
  m["labels"] = Json::object();
  m["labels"]["kubernetes.io/bootstrapping"] = Json::string("rbac-defaults");
  m["annotations"] = Json::object();
  m["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = Json::string("true");
  return m;
}

}  // namespace

Decision Authorize(const Store& store, const RequestAttributes& a) {
  if (a.user.InGroup("system:masters")) return {true, ""};
  for (const Json& b : Items(store.List({kRbac, "v1", "clusterrolebindings", "", "", ""}, {}))) {
    std::string subject = AppliesTo(b, a.user, "");
    if (subject.empty()) continue;
    const std::string role = GetString(b, {"roleRef", "name"});
    if (GetString(b, {"roleRef", "kind"}) == "ClusterRole" &&
        RoleAllows(store, "ClusterRole", role, "", a))
      return {true, "RBAC: allowed by ClusterRoleBinding \"" + GetString(b, {"metadata", "name"}) +
                        "\" of ClusterRole \"" + role + "\" to " + subject};
  }
  if (!a.resource_request || a.ns.empty()) return {false, ""};
  for (const Json& b : Items(store.List({kRbac, "v1", "rolebindings", a.ns, "", ""}, {}))) {
    std::string subject = AppliesTo(b, a.user, a.ns);
    if (subject.empty()) continue;
    const std::string kind = GetString(b, {"roleRef", "kind"});
    const std::string role = GetString(b, {"roleRef", "name"});
    if ((kind == "Role" || kind == "ClusterRole") && RoleAllows(store, kind, role, a.ns, a))
      return {true, "RBAC: allowed by RoleBinding \"" + GetString(b, {"metadata", "name"}) + "/" +
                        a.ns + "\" of " + kind + " \"" + role + "\" to " + subject};
  }
  return {false, ""};
}

ApiStatus ForbiddenStatus(const RequestAttributes& a, const std::string& reason) {
  std::string why;
  if (!a.resource_request) {
    why = "User \"" + a.user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  } else {
    std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    why = "User \"" + a.user.name + "\" cannot " + a.verb + " resource \"" + resource +
          "\" in API group \"" + a.api_group + "\"" +
          (a.ns.empty() ? " at the cluster scope" : " in the namespace \"" + a.ns + "\"");
  }
  if (!reason.empty()) why += ": " + reason;
  std::string qualified = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  std::string message;
  if (!a.resource_request || qualified.empty())
    message = "forbidden: " + why;
  else if (a.name.empty())
    message = qualified + " is forbidden: " + why;
  else
    message = qualified + " \"" + a.name + "\" is forbidden: " + why;
  ApiStatus s = ApiStatus::Error(403, "Forbidden", message);
  if (a.resource_request) {
    s.group = a.api_group;
    s.kind = a.resource;
    s.name = a.name;
  }
  return s;
}

void EnsureBootstrapPolicy(Store& store) {
  const std::vector<std::string> kRead = {"get", "list", "watch"};
  const std::vector<std::string> kWrite = {"create", "delete", "deletecollection", "patch",
                                           "update"};
  std::vector<std::string> all_verbs = kRead;
  all_verbs.insert(all_verbs.end(), kWrite.begin(), kWrite.end());
  const std::vector<std::string> kCoreRead = {"pods",
                                              "pods/log",
                                              "pods/status",
                                              "services",
                                              "services/status",
                                              "endpoints",
                                              "configmaps",
                                              "persistentvolumeclaims",
                                              "persistentvolumeclaims/status",
                                              "serviceaccounts",
                                              "events",
                                              "namespaces",
                                              "namespaces/status"};
  const std::vector<std::string> kAppsRead = {"deployments",        "deployments/scale",
                                              "deployments/status", "replicasets",
                                              "replicasets/scale",  "replicasets/status"};
  const std::vector<std::string> kCoreWrite = {"pods",
                                               "services",
                                               "endpoints",
                                               "configmaps",
                                               "secrets",
                                               "persistentvolumeclaims",
                                               "serviceaccounts",
                                               "serviceaccounts/token"};
  auto view = std::vector<Json>{Rule({""}, kCoreRead, kRead), Rule({"apps"}, kAppsRead, kRead),
                                Rule({"policy"}, {"poddisruptionbudgets"}, kRead),
                                Rule({"coordination.k8s.io"}, {"leases"}, kRead),
                                Rule({"events.k8s.io"}, {"events"}, kRead)};
  auto edit = view;
  edit.push_back(Rule({""}, kCoreWrite, all_verbs));
  edit.push_back(Rule({""}, {"secrets"}, kRead));
  edit.push_back(Rule({"apps"},
                      {"deployments", "deployments/scale", "replicasets", "replicasets/scale"},
                      all_verbs));
  edit.push_back(Rule({"policy"}, {"poddisruptionbudgets"}, all_verbs));
  edit.push_back(Rule({"coordination.k8s.io"}, {"leases"}, all_verbs));
  auto admin = edit;
  admin.push_back(Rule({kRbac}, {"roles", "rolebindings"}, all_verbs));
  admin.push_back(Rule({"authorization.k8s.io"}, {"localsubjectaccessreviews"}, {"create"}));
  const std::vector<std::pair<std::string, std::vector<Json>>> roles = {
      {"cluster-admin", {Rule({"*"}, {"*"}, {"*"}), Rule({"nonResourceURLs"}, {"*"}, {"*"})}},
      {"admin", admin},
      {"edit", edit},
      {"view", view},
      {"system:discovery",
       {Rule({"nonResourceURLs"},
             {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
              "/readyz", "/version", "/version/"},
             {"get"})}},
      {"system:public-info-viewer",
       {Rule({"nonResourceURLs"}, {"/healthz", "/livez", "/readyz", "/version", "/version/"},
             {"get"})}},
      {"system:basic-user",
       {Rule({"authorization.k8s.io"}, {"selfsubjectaccessreviews", "selfsubjectrulesreviews"},
             {"create"}),
        Rule({"authentication.k8s.io"}, {"selfsubjectreviews"}, {"create"})}},
  };
  for (const auto& [name, rules] : roles) {
    Json role = Json::object();
    role["apiVersion"] = Json::string("rbac.authorization.k8s.io/v1");
    role["kind"] = Json::string("ClusterRole");
    role["metadata"] = BootstrapMeta(name);
    Json list = Json::array();
    for (size_t i = 0; i < rules.size(); ++i) list[i] = rules[i];
    role["rules"] = list;
    if (!store.Get({kRbac, "v1", "clusterroles", "", name, ""}).ok())
      store.Create({kRbac, "v1", "clusterroles", "", "", ""}, role);
  }
  const std::vector<std::pair<std::string, std::vector<std::string>>> bindings = {
      {"cluster-admin", {"system:masters"}},
      {"system:discovery", {"system:authenticated"}},
      {"system:basic-user", {"system:authenticated"}},
      {"system:public-info-viewer", {"system:authenticated", "system:unauthenticated"}},
  };
  for (const auto& [name, groups] : bindings) {
    Json b = Json::object();
    b["apiVersion"] = Json::string("rbac.authorization.k8s.io/v1");
    b["kind"] = Json::string("ClusterRoleBinding");
    b["metadata"] = BootstrapMeta(name);
    b["roleRef"] = Json::object();
    b["roleRef"]["apiGroup"] = Json::string(kRbac);
    b["roleRef"]["kind"] = Json::string("ClusterRole");
    b["roleRef"]["name"] = Json::string(name);
    Json subjects = Json::array();
    for (size_t i = 0; i < groups.size(); ++i) {
      Json s = Json::object();
      s["apiGroup"] = Json::string(kRbac);
      s["kind"] = Json::string("Group");
      s["name"] = Json::string(groups[i]);
      subjects[i] = s;
    }
    b["subjects"] = subjects;
    if (!store.Get({kRbac, "v1", "clusterrolebindings", "", name, ""}).ok())
      store.Create({kRbac, "v1", "clusterrolebindings", "", "", ""}, b);
  }
}

}  // namespace zkop::devkube
