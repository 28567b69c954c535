#include "table.h"

namespace zkop::devkube {

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
