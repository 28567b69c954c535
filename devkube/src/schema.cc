#include "schema.h"

#include <cmath>
#include <sstream>

// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> (std::function in _NFA) when
// built with sanitizers; it would stop `make asan` with warnings as errors.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

namespace zkop::devkube {
namespace {

bool Flag(const Json& schema, const char* key) {
  const Json* f = Find(schema, {key});
  return f && f->is_boolean() && f->as_bool();
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string FormatNumber(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::ostringstream os;
  os << d;
  return os.str();
}

std::string TypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  if (v.is_integer()) return "integer";
  double d = v.as_double();
  return std::floor(d) == d ? "integer" : "number";
}

bool TypeMatches(const std::string& type, const Json& v) {
  if (type.empty()) return true;
  std::string have = TypeName(v);
  if (type == "number") return have == "integer" || have == "number";
  return type == have;
}

std::string Plain(const Json& v) {
  if (v.is_number()) return v.is_integer() ? v.serialize() : FormatNumber(v.as_double());
  return ValueForMessage(v);
}

class Validator {
 public:
  std::vector<StatusCause> causes;

  void Invalid(const std::string& path, const std::string& value, const std::string& detail) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + value + ": " + detail, path});
  }

  void Check(const Json& v, const Json& s, const std::string& path) {
    if (!s.is_object()) return;
    if (v.is_null()) {
      if (Flag(s, "nullable") || Flag(s, "x-kubernetes-preserve-unknown-fields")) return;
      if (Flag(s, "x-kubernetes-int-or-string") || !GetString(s, {"type"}).empty()) {
        causes.push_back({"FieldValueTypeInvalid",
                          "Invalid value: \"null\": " + path + " in body must be of type " +
                              GetString(s, {"type"}) + ": \"null\"",
                          path});
      }
      return;
    }
    std::string type = GetString(s, {"type"});
    if (Flag(s, "x-kubernetes-int-or-string")) {
      if (!v.is_string() && TypeName(v) != "integer") {
        causes.push_back({"FieldValueTypeInvalid",
                          "Invalid value: \"" + TypeName(v) + "\": " + path +
                              " in body must be of type integer,string: \"" + TypeName(v) + "\"",
                          path});
        return;
      }
    } else if (!TypeMatches(type, v)) {
      causes.push_back({"FieldValueTypeInvalid",
                        "Invalid value: \"" + TypeName(v) + "\": " + path +
                            " in body must be of type " + type + ": \"" + TypeName(v) + "\"",
                        path});
      return;
    }
    if (const Json* e = Find(s, {"enum"}); e && e->is_array()) {
      bool found = false;
      std::string list;
      for (const Json& allowed : e->as_array()) {
        found = found || allowed.serialize() == v.serialize();
        list += (list.empty() ? "" : ", ") + allowed.serialize();
      }
      if (!found)
        causes.push_back({"FieldValueNotSupported",
                          "Unsupported value: " + Plain(v) + ": supported values: " + list, path});
    }
    if (v.is_number()) CheckNumber(v.as_double(), Plain(v), s, path);
    if (v.is_string()) CheckString(v.as_string(), s, path);
    if (v.is_array()) CheckArray(v, s, path);
    if (v.is_object()) CheckObject(v, s, path);
  }

 private:
  void CheckNumber(double d, const std::string& shown, const Json& s, const std::string& path) {
    if (const Json* m = Find(s, {"minimum"}); m && m->is_number()) {
      bool excl = Flag(s, "exclusiveMinimum");
      double min = m->as_double();
      if (excl ? d <= min : d < min)
        Invalid(path, shown,
                path + " in body should be greater than " + (excl ? "" : "or equal to ") +
                    FormatNumber(min));
    }
    if (const Json* m = Find(s, {"maximum"}); m && m->is_number()) {
      bool excl = Flag(s, "exclusiveMaximum");
      double max = m->as_double();
      if (excl ? d >= max : d > max)
        Invalid(path, shown,
                path + " in body should be less than " + (excl ? "" : "or equal to ") +
                    FormatNumber(max));
    }
    if (const Json* m = Find(s, {"multipleOf"}); m && m->is_number() && m->as_double() > 0) {
      double q = d / m->as_double();
      if (std::fabs(q - std::round(q)) > 1e-9)
        Invalid(path, shown,
                path + " in body should be a multiple of " + FormatNumber(m->as_double()));
    }
  }

  void CheckString(const std::string& str, const Json& s, const std::string& path) {
    std::string shown = Json::string(str).serialize();
    if (const Json* m = Find(s, {"minLength"}); m && m->is_integer()) {
      if (static_cast<int64_t>(str.size()) < m->as_number().to_int64())
        Invalid(path, shown,
                path + " in body should be at least " + m->serialize() + " chars long");
    }
    if (const Json* m = Find(s, {"maxLength"}); m && m->is_integer()) {
      if (static_cast<int64_t>(str.size()) > m->as_number().to_int64()) {
        int64_t max = m->as_number().to_int64();
        causes.push_back({"FieldValueTooLong",
                          "Too long: may not be more than " + std::to_string(max) +
                              (max == 1 ? " byte" : " bytes"),
                          path});
      }
    }
    std::string pattern = GetString(s, {"pattern"});
    if (!pattern.empty()) {
      try {
        if (!std::regex_search(str, std::regex(pattern, std::regex::ECMAScript)))
          Invalid(path, shown, path + " in body should match '" + pattern + "'");
      } catch (const std::regex_error&) {
        Invalid(path, shown, "the schema's pattern '" + pattern + "' is not a valid regex");
      }
    }
  }

  void CheckArray(const Json& v, const Json& s, const std::string& path) {
    int64_t n = static_cast<int64_t>(v.size());
    if (const Json* m = Find(s, {"minItems"});
        m && m->is_integer() && n < m->as_number().to_int64())
      Invalid(path, std::to_string(n),
              path + " in body should have at least " + m->serialize() + " items");
    if (const Json* m = Find(s, {"maxItems"});
        m && m->is_integer() && n > m->as_number().to_int64())
      causes.push_back(
          {"FieldValueTooMany",
           "Too many: " + std::to_string(n) + ": must have at most " + m->serialize() + " items",
           path});
    if (const Json* items = Find(s, {"items"})) {
      for (size_t i = 0; i < v.size(); ++i)
        Check(v.at(i), *items, path + "[" + std::to_string(i) + "]");
    }
  }

  void CheckObject(const Json& v, const Json& s, const std::string& path) {
    if (const Json* req = Find(s, {"required"}); req && req->is_array()) {
      for (const Json& k : req->as_array()) {
        if (k.is_string() && !v.has_field(k.as_string()))
          causes.push_back({"FieldValueRequired", "Required value", Join(path, k.as_string())});
      }
    }
    const Json* props = Find(s, {"properties"});
    const Json* extra = Find(s, {"additionalProperties"});
    for (const auto& [k, child] : v.as_object()) {
      if (path.empty() && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      if (props && props->has_field(k)) {
        Check(child, props->at(k), Join(path, k));
      } else if (extra && extra->is_object()) {
        Check(child, *extra, Join(path, k));
      }
    }
  }
};

void Walk(Json& v, const Json& s, const std::string& path, bool root,
          std::vector<std::string>* pruned) {
  if (!s.is_object()) return;
  if (v.is_object()) {
    const Json* props = Find(s, {"properties"});
    if (props && props->is_object()) {
      for (const auto& [k, ps] : props->as_object()) {
        if (!v.has_field(k) && ps.is_object() && ps.has_field("default")) v[k] = ps.at("default");
      }
    }
    const Json* extra = Find(s, {"additionalProperties"});
    bool keep_unknown =
        Flag(s, "x-kubernetes-preserve-unknown-fields") ||
        Flag(s, "x-kubernetes-embedded-resource") ||
        (extra && ((extra->is_boolean() && extra->as_bool()) || extra->is_object()));
    std::vector<std::string> drop;
    for (auto& [k, child] : v.as_object()) {
      if (root && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      if (props && props->has_field(k)) {
        Walk(child, props->at(k), Join(path, k), false, pruned);
      } else if (extra && extra->is_object()) {
        Walk(child, *extra, Join(path, k), false, pruned);
      } else if (!keep_unknown) {
        drop.push_back(k);
      }
    }
    for (const auto& k : drop) {
      v.erase(k);
      if (pruned) pruned->push_back(Join(path, k));
    }
  } else if (v.is_array()) {
    if (const Json* items = Find(s, {"items"})) {
      for (size_t i = 0; i < v.size(); ++i)
        Walk(v[i], *items, path + "[" + std::to_string(i) + "]", false, pruned);
    }
  }
}

}  // namespace

void DefaultAndPrune(Json& object, const Json& schema, std::vector<std::string>* pruned) {
  Walk(object, schema, "", true, pruned);
}

std::vector<StatusCause> ValidateAgainstSchema(const Json& object, const Json& schema) {
  Validator v;
  v.Check(object, schema, "");
  return std::move(v.causes);
}

}  // namespace zkop::devkube
