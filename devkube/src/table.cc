#include "table.h"

namespace zkop::devkube {

namespace {

// The pod columns kubectl's printer computes: READY "ready/total", STATUS (Terminating, a
// container's waiting/terminated reason, else the phase) and RESTARTS.
Json PodCell(const std::string& column, const Json& pod) {
  const Json* statuses = Find(pod, {"status", "containerStatuses"});
  const Json* containers = Find(pod, {"spec", "containers"});
  int ready = 0, restarts = 0;
  std::string reason;
  if (statuses && statuses->is_array()) {
    for (const Json& cs : statuses->as_array()) {
      const Json* r = Find(cs, {"ready"});
      if (r && r->is_boolean() && r->as_bool()) ++ready;
      const Json* n = Find(cs, {"restartCount"});
      if (n && n->is_integer()) restarts += n->as_integer();
      for (const char* state : {"waiting", "terminated"}) {
        std::string why = GetString(cs, {"state", state, "reason"});
        if (reason.empty() && !why.empty()) reason = why;
      }
    }
  }
  if (column == "Ready") {
    size_t total = containers && containers->is_array() ? containers->size() : 0;
    return Json::string(std::to_string(ready) + "/" + std::to_string(total));
  }
  if (column == "Restarts") return Json::number(restarts);
  if (!GetString(pod, {"metadata", "deletionTimestamp"}).empty())
    return Json::string("Terminating");
  if (!reason.empty()) return Json::string(reason);
  return Json::string(GetString(pod, {"status", "phase"}));
}

// Deployment and ReplicaSet columns as kubectl's printers compute them (status counts are
// int32 in Go: absent prints 0); -o wide adds CONTAINERS, IMAGES and SELECTOR.
Json WorkloadCell(const std::string& column, const Json& obj) {
  auto count = [&](std::initializer_list<std::string_view> path) {
    const Json* v = Find(obj, path);
    return v && v->is_integer() ? v->as_integer() : 0;
  };
  const Json* replicas = Find(obj, {"spec", "replicas"});
  const int desired = replicas && replicas->is_integer() ? replicas->as_integer() : 1;
  if (column == "Ready" && GetString(obj, {"kind"}) == "Deployment")
    return Json::string(std::to_string(count({"status", "readyReplicas"})) + "/" +
                        std::to_string(desired));
  if (column == "Ready") return Json::number(count({"status", "readyReplicas"}));
  if (column == "Up-to-date") return Json::number(count({"status", "updatedReplicas"}));
  if (column == "Available") return Json::number(count({"status", "availableReplicas"}));
  if (column == "Desired") return Json::number(desired);
  if (column == "Current") return Json::number(count({"status", "replicas"}));
  std::string out;
  if (column == "Containers" || column == "Images") {
    if (const Json* cs = Find(obj, {"spec", "template", "spec", "containers"}); cs && cs->is_array())
      for (const Json& c : cs->as_array())
        out += (out.empty() ? "" : ",") + GetString(c, {column == "Images" ? "image" : "name"});
  } else if (column == "Selector") {
    if (const Json* ml = Find(obj, {"spec", "selector", "matchLabels"}); ml && ml->is_object())
      for (const auto& [k, v] : ml->as_object())
        out += (out.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.as_string() : "");
  }
  return Json::string(out);
}

}  // namespace

IncludeObject ParseIncludeObject(const std::string& value) {
  if (value == "None") return IncludeObject::kNone;
  if (value == "Object") return IncludeObject::kObject;
  return IncludeObject::kMetadata;
}

Json ToTable(const ResourceType& type, const std::vector<Json>& objects, const Json& list_metadata,
             IncludeObject include, std::chrono::system_clock::time_point now) {
  Json table = Json::object();
  table["kind"] = Json::string("Table");
  table["apiVersion"] = Json::string("meta.k8s.io/v1");
  table["metadata"] = list_metadata.is_object() ? list_metadata : Json::object();
  Json defs = Json::array();
  auto def = [&](const std::string& name, const std::string& t, const std::string& format,
                 const std::string& description, int priority) {
    Json d = Json::object();
    d["name"] = Json::string(name);
    d["type"] = Json::string(t);
    d["format"] = Json::string(format);
    d["description"] = Json::string(description);
    d["priority"] = Json::number(priority);
    defs[defs.size()] = d;
  };
  def("Name", "string", "name",
      "Name must be unique within a namespace. Is required when creating resources, although "
      "some resources may allow a client to request the generation of an appropriate name "
      "automatically.",
      0);
  for (const PrinterColumn& c : type.columns)
    def(c.name, c.type == "date" ? "string" : c.type, c.format, c.description, c.priority);
  table["columnDefinitions"] = defs;
  Json rows = Json::array();
  for (size_t i = 0; i < objects.size(); ++i) {
    const Json& obj = objects[i];
    Json cells = Json::array();
    cells[0] = Json::string(GetString(obj, {"metadata", "name"}));
    for (const PrinterColumn& c : type.columns) {
      if (c.json_path.empty()) {
        cells[cells.size()] =
            type.group == "apps" ? WorkloadCell(c.name, obj) : PodCell(c.name, obj);
        continue;
      }
      auto v = EvalJsonPath(obj, c.json_path);
      Json cell = Json::null();
      if (v && !v->is_null()) {
        if (c.type == "date" && v->is_string()) {
          auto t = ParseTime(v->as_string());
          cell = t ? Json::string(
                         HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t)))
                   : *v;
        } else if (c.type == "string" && !v->is_string()) {
          cell = Json::string(v->serialize());
        } else {
          cell = *v;
        }
      }
      cells[cells.size()] = cell;
    }
    Json row = Json::object();
    row["cells"] = cells;
    if (include == IncludeObject::kObject) {
      row["object"] = obj;
    } else if (include == IncludeObject::kMetadata) {
      Json partial = Json::object();
      partial["kind"] = Json::string("PartialObjectMetadata");
      partial["apiVersion"] = Json::string("meta.k8s.io/v1");
      partial["metadata"] = obj.has_field("metadata") ? obj.at("metadata") : Json::object();
      row["object"] = partial;
    }
    rows[i] = row;
  }
  table["rows"] = rows;
  return table;
}

}  // namespace zkop::devkube
