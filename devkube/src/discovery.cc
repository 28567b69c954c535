#include "discovery.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace zkop::devkube {
namespace {

Json Strings(const std::vector<std::string>& v) {
  Json out = Json::array();
  for (size_t i = 0; i < v.size(); ++i) out[i] = Json::string(v[i]);
  return out;
}

Json GroupVersion(const std::string& group, const std::string& version) {
  Json gv = Json::object();
  gv["groupVersion"] = Json::string(group.empty() ? version : group + "/" + version);
  gv["version"] = Json::string(version);
  return gv;
}

// The versions of each group, best first.
std::map<std::string, std::vector<std::string>> Groups(const std::vector<ResourceType>& types) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const ResourceType& t : types) {
    if (t.group.empty()) continue;
    auto& versions = groups[t.group];
    if (std::find(versions.begin(), versions.end(), t.version) == versions.end())
      versions.push_back(t.version);
  }
  for (auto& [g, versions] : groups) std::sort(versions.begin(), versions.end(), VersionBefore);
  return groups;
}

Json GroupJson(const std::string& name, const std::vector<std::string>& versions) {
  Json g = Json::object();
  g["name"] = Json::string(name);
  Json list = Json::array();
  for (size_t i = 0; i < versions.size(); ++i) list[i] = GroupVersion(name, versions[i]);
  g["versions"] = list;
  g["preferredVersion"] = GroupVersion(name, versions.front());
  return g;
}

std::string SchemaName(const ResourceType& t) {
  std::string g = t.group.empty() ? "io.k8s.api.core" : t.group;
  // Reverse-domain like the real documents: zkop.io -> io.zkop
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = g.find('.', start);
    parts.push_back(g.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (t.group.empty())
    parts = {"io", "k8s", "api", "core"};
  else
    std::reverse(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + ".";
  return out + t.version + "." + t.kind;
}

Json Gvk(const ResourceType& t) {
  Json gvk = Json::object();
  gvk["group"] = Json::string(t.group);
  gvk["version"] = Json::string(t.version);
  gvk["kind"] = Json::string(t.kind);
  return gvk;
}

Json Param(const std::string& name, const std::string& in, const std::string& description) {
  Json p = Json::object();
  p["name"] = Json::string(name);
  p["in"] = Json::string(in);
  p["description"] = Json::string(description);
  p["schema"] = Json::object();
  p["schema"]["type"] = Json::string("string");
  p["schema"]["uniqueItems"] = Json::boolean(true);
  if (in == "path") p["required"] = Json::boolean(true);
  return p;
}

Json Operation(const ResourceType& t, const std::string& action, const std::string& op_id,
               const std::vector<Json>& params, const std::vector<std::string>& body_types) {
  Json op = Json::object();
  op["operationId"] = Json::string(op_id);
  op["x-kubernetes-action"] = Json::string(action);
  op["x-kubernetes-group-version-kind"] = Gvk(t);
  Json ps = Json::array();
  for (size_t i = 0; i < params.size(); ++i) ps[i] = params[i];
  op["parameters"] = ps;
  Json ref = Json::object();
  ref["$ref"] = Json::string("#/components/schemas/" + SchemaName(t));
  if (!body_types.empty()) {
    Json content = Json::object();
    for (const auto& bt : body_types) {
      content[bt] = Json::object();
      content[bt]["schema"] = bt == "application/json" ? ref : Json::object();
      if (bt != "application/json") content[bt]["schema"]["type"] = Json::string("object");
    }
    op["requestBody"] = Json::object();
    op["requestBody"]["content"] = content;
    op["requestBody"]["required"] = Json::boolean(true);
  }
  Json ok = Json::object();
  ok["description"] = Json::string("OK");
  ok["content"] = Json::object();
  ok["content"]["application/json"] = Json::object();
  ok["content"]["application/json"]["schema"] = ref;
  op["responses"] = Json::object();
  op["responses"]["200"] = ok;
  return op;
}

// The schema of a custom resource as the real server publishes it: the CRD's schema plus
// apiVersion, kind and metadata.
Json ComponentSchema(const ResourceType& t) {
  Json s = t.schema.is_object() ? t.schema : Json::object();
  if (!t.schema.is_object()) {
    s["type"] = Json::string("object");
    s["x-kubernetes-preserve-unknown-fields"] = Json::boolean(true);
  }
  Json& props = Child(s, "properties");
  for (const char* k : {"apiVersion", "kind"}) {
    props[k] = Json::object();
    props[k]["type"] = Json::string("string");
  }
  props["metadata"] = Json::object();
  props["metadata"]["type"] = Json::string("object");
  s["x-kubernetes-group-version-kind"] = Json::array({Gvk(t)});
  return s;
}

}  // namespace

bool VersionBefore(const std::string& a, const std::string& b) {
  auto rank = [](const std::string& v) {
    // (kind: 3 GA, 2 beta, 1 alpha, 0 other; major; minor)
    int major = 0, minor = 0, kind = 0;
    char stage[16] = {0};
    if (std::sscanf(v.c_str(), "v%d%15[a-z]%d", &major, stage, &minor) >= 1) {
      std::string st = stage;
      kind = st.empty() ? 3 : st == "beta" ? 2 : st == "alpha" ? 1 : 0;
    }
    return std::tuple(kind, major, minor);
  };
  auto ra = rank(a), rb = rank(b);
  if (ra != rb) return ra > rb;
  return a < b;
}

Json VersionInfo() {
  Json v = Json::object();
  v["major"] = Json::string("1");
  v["minor"] = Json::string("32");
  v["gitVersion"] = Json::string("v1.32.0-zkop-devkube");
  v["gitCommit"] = Json::string("0000000000000000000000000000000000000000");
  v["gitTreeState"] = Json::string("clean");
  v["buildDate"] = Json::string("2024-12-11T00:00:00Z");
  v["goVersion"] = Json::string("go1.23.3");
  v["compiler"] = Json::string("gc");
  v["platform"] = Json::string("linux/amd64");
  return v;
}

Json CoreApiVersions(const std::string& server_address) {
  Json v = Json::object();
  v["kind"] = Json::string("APIVersions");
  v["versions"] = Json::array({Json::string("v1")});
  Json cidr = Json::object();
  cidr["clientCIDR"] = Json::string("0.0.0.0/0");
  cidr["serverAddress"] = Json::string(server_address);
  v["serverAddressByClientCIDRs"] = Json::array({cidr});
  return v;
}

Json ApiGroupList(const std::vector<ResourceType>& types) {
  Json list = Json::object();
  list["kind"] = Json::string("APIGroupList");
  list["apiVersion"] = Json::string("v1");
  Json groups = Json::array();
  size_t n = 0;
  // Built-in groups in a stable order, then custom groups.
  std::vector<std::string> order;
  for (const ResourceType& t : types)
    if (!t.group.empty() && std::find(order.begin(), order.end(), t.group) == order.end())
      order.push_back(t.group);
  auto all = Groups(types);
  for (const auto& g : order) groups[n++] = GroupJson(g, all[g]);
  list["groups"] = groups;
  return list;
}

std::optional<Json> ApiGroup(const std::vector<ResourceType>& types, const std::string& group) {
  auto all = Groups(types);
  auto it = all.find(group);
  if (it == all.end()) return std::nullopt;
  Json g = GroupJson(group, it->second);
  g["kind"] = Json::string("APIGroup");
  g["apiVersion"] = Json::string("v1");
  return g;
}

std::optional<Json> ApiResourceList(const std::vector<ResourceType>& types,
                                    const std::string& group, const std::string& version) {
  Json resources = Json::array();
  size_t n = 0;
  static const std::vector<std::string> kVerbs = {"create", "delete", "deletecollection", "get",
                                                  "list",   "patch",  "update",           "watch"};
  for (const ResourceType& t : types) {
    if (t.group != group || t.version != version) continue;
    Json r = Json::object();
    r["name"] = Json::string(t.resource);
    r["singularName"] = Json::string(t.singular);
    r["namespaced"] = Json::boolean(t.namespaced);
    r["kind"] = Json::string(t.kind);
    r["verbs"] = Strings(t.verbs.empty() ? kVerbs : t.verbs);
    if (!t.short_names.empty()) r["shortNames"] = Strings(t.short_names);
    if (!t.categories.empty()) r["categories"] = Strings(t.categories);
    r["storageVersionHash"] = Json::string(
        std::to_string(std::hash<std::string>{}(t.group + "/" + t.resource) % 100000000));
    resources[n++] = r;
    auto sub = [&](const std::string& name, const std::string& kind) {
      Json s = Json::object();
      s["name"] = Json::string(t.resource + "/" + name);
      s["singularName"] = Json::string("");
      s["namespaced"] = Json::boolean(t.namespaced);
      s["kind"] = Json::string(kind);
      s["verbs"] = Strings({"get", "patch", "update"});
      if (name == "scale") {
        s["group"] = Json::string("autoscaling");
        s["version"] = Json::string("v1");
      }
      resources[n++] = s;
    };
    if (t.status_subresource) sub("status", t.kind);
    if (t.scale) sub("scale", "Scale");
    if (t.group.empty() && t.resource == "serviceaccounts") {  // TokenRequest
      sub("token", "TokenRequest");
      Json& s = resources[n - 1];
      s["group"] = Json::string("authentication.k8s.io");
      s["version"] = Json::string("v1");
      s["verbs"] = Strings({"create"});
    }
  }
  if (n == 0) return std::nullopt;
  Json list = Json::object();
  list["kind"] = Json::string("APIResourceList");
  list["apiVersion"] = Json::string("v1");
  list["groupVersion"] = Json::string(group.empty() ? version : group + "/" + version);
  list["resources"] = resources;
  return list;
}

Json OpenApiV3Index(const std::vector<ResourceType>& types) {
  std::set<std::pair<std::string, std::string>> gvs;
  for (const ResourceType& t : types)
    if (t.verbs.empty()) gvs.insert({t.group, t.version});
  Json paths = Json::object();
  for (const auto& [g, v] : gvs) {
    std::string key = g.empty() ? "api/" + v : "apis/" + g + "/" + v;
    auto doc = OpenApiV3Document(types, g, v);
    size_t hash = std::hash<std::string>{}(doc ? doc->serialize() : "");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016zX", hash);
    paths[key] = Json::object();
    paths[key]["serverRelativeURL"] = Json::string("/openapi/v3/" + key + "?hash=" + buf);
  }
  Json index = Json::object();
  index["paths"] = paths;
  return index;
}

std::optional<Json> OpenApiV3Document(const std::vector<ResourceType>& types,
                                      const std::string& group, const std::string& version) {
  Json paths = Json::object();
  Json schemas = Json::object();
  bool any = false;
  for (const ResourceType& t : types) {
    if (t.group != group || t.version != version || !t.verbs.empty()) continue;
    any = true;
    std::string prefix = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    std::string coll = prefix + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource;
    std::string item = coll + "/{name}";
    std::vector<Json> item_params = {Param("name", "path", "name of the " + t.kind)};
    std::vector<Json> coll_params;
    if (t.namespaced) {
      item_params.push_back(Param("namespace", "path", "object name and auth scope"));
      coll_params.push_back(Param("namespace", "path", "object name and auth scope"));
    }
    std::vector<Json> write_params = item_params;
    for (const char* p : {"dryRun", "fieldManager", "fieldValidation"})
      write_params.push_back(Param(p, "query", p));
    std::vector<Json> patch_params = write_params;
    patch_params.push_back(Param("force", "query", "force"));
    std::vector<Json> create_params = coll_params;
    for (const char* p : {"dryRun", "fieldManager", "fieldValidation"})
      create_params.push_back(Param(p, "query", p));
    std::vector<std::string> patch_types = {"application/json-patch+json",
                                            "application/merge-patch+json",
                                            "application/apply-patch+yaml"};
    std::string id = t.kind;
    Json coll_ops = Json::object();
    coll_ops["get"] = Operation(t, "list", "list" + id, coll_params, {});
    coll_ops["post"] = Operation(t, "post", "create" + id, create_params, {"application/json"});
    paths[coll] = coll_ops;
    Json item_ops = Json::object();
    item_ops["get"] = Operation(t, "get", "read" + id, item_params, {});
    item_ops["put"] = Operation(t, "put", "replace" + id, write_params, {"application/json"});
    item_ops["patch"] = Operation(t, "patch", "patch" + id, patch_params, patch_types);
    item_ops["delete"] = Operation(t, "delete", "delete" + id, item_params, {});
    paths[item] = item_ops;
    if (t.status_subresource) {
      Json status_ops = Json::object();
      status_ops["get"] = Operation(t, "get", "read" + id + "Status", item_params, {});
      status_ops["put"] =
          Operation(t, "put", "replace" + id + "Status", write_params, {"application/json"});
      status_ops["patch"] =
          Operation(t, "patch", "patch" + id + "Status", patch_params, patch_types);
      paths[item + "/status"] = status_ops;
    }
    schemas[SchemaName(t)] = ComponentSchema(t);
  }
  if (!any) return std::nullopt;
  Json doc = Json::object();
  doc["openapi"] = Json::string("3.0.0");
  doc["info"] = Json::object();
  doc["info"]["title"] = Json::string("Kubernetes");
  doc["info"]["version"] = Json::string("v1.32.0");
  doc["paths"] = paths;
  doc["components"] = Json::object();
  doc["components"]["schemas"] = schemas;
  return doc;
}

}  // namespace zkop::devkube
