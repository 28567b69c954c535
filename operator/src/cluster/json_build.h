// Terse builders for the JSON objects the renderers produce (cpprestsdk's web::json).
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <utility>

#include "zkop/kube/client.h"

namespace zkop::op::cluster::json {

using kube::Json;

inline Json Str(const std::string& s) { return Json::string(s); }
inline Json Int(int64_t v) { return Json::number(v); }
inline Json Bool(bool v) { return Json::boolean(v); }

inline Json Obj(std::initializer_list<std::pair<std::string, Json>> fields) {
  Json o = Json::object();
  for (const auto& [k, v] : fields) o[k] = v;
  return o;
}

inline Json Arr(std::initializer_list<Json> items) {
  Json a = Json::array(items.size());
  size_t i = 0;
  for (const auto& v : items) a[i++] = v;
  return a;
}

inline Json StrMap(const std::map<std::string, std::string>& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = Json::string(v);
  return o;
}

// Appends to a JSON array.
inline void Push(Json& array, Json item) { array[array.size()] = std::move(item); }

}  // namespace zkop::op::cluster::json
