#include "patch.h"

#include <algorithm>
#include <map>
#include <vector>

namespace zkop::devkube {
namespace {

// ---- RFC 6901 pointers -------------------------------------------------------------------

bool SplitPointer(const std::string& ptr, std::vector<std::string>* out) {
  out->clear();
  if (ptr.empty()) return true;
  if (ptr[0] != '/') return false;
  size_t i = 1;
  while (true) {
    size_t j = ptr.find('/', i);
    std::string tok = ptr.substr(i, j == std::string::npos ? std::string::npos : j - i);
    std::string dec;
    for (size_t k = 0; k < tok.size(); ++k) {
      if (tok[k] == '~' && k + 1 < tok.size() && (tok[k + 1] == '0' || tok[k + 1] == '1')) {
        dec += tok[k + 1] == '0' ? '~' : '/';
        ++k;
      } else {
        dec += tok[k];
      }
    }
    out->push_back(dec);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return true;
}

bool ParseIndex(const std::string& tok, size_t limit, size_t* idx) {
  if (tok.empty() || tok.find_first_not_of("0123456789") != std::string::npos) return false;
  if (tok.size() > 1 && tok[0] == '0') return false;
  *idx = std::stoul(tok);
  return *idx <= limit;
}

// The container addressed by all tokens but the last.
Json* Parent(Json& doc, const std::vector<std::string>& toks) {
  Json* cur = &doc;
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    if (cur->is_object()) {
      if (!cur->has_field(toks[i])) return nullptr;
      cur = &(*cur)[toks[i]];
    } else if (cur->is_array()) {
      size_t idx;
      if (!ParseIndex(toks[i], cur->size() - 1, &idx) || cur->size() == 0) return nullptr;
      cur = &(*cur)[idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

std::optional<Json> Get(Json& doc, const std::vector<std::string>& toks) {
  if (toks.empty()) return doc;
  Json* p = Parent(doc, toks);
  if (!p) return std::nullopt;
  const std::string& last = toks.back();
  if (p->is_object()) {
    if (!p->has_field(last)) return std::nullopt;
    return (*p)[last];
  }
  size_t idx;
  if (p->is_array() && p->size() > 0 && ParseIndex(last, p->size() - 1, &idx)) return (*p)[idx];
  return std::nullopt;
}

bool Remove(Json& doc, const std::vector<std::string>& toks) {
  if (toks.empty()) return false;
  Json* p = Parent(doc, toks);
  if (!p) return false;
  if (p->is_object()) {
    if (!p->has_field(toks.back())) return false;
    p->erase(toks.back());
    return true;
  }
  size_t idx;
  if (!p->is_array() || p->size() == 0 || !ParseIndex(toks.back(), p->size() - 1, &idx))
    return false;
  Json out = Json::array();
  size_t n = 0;
  for (size_t i = 0; i < p->size(); ++i)
    if (i != idx) out[n++] = (*p)[i];
  *p = out;
  return true;
}

bool Add(Json& doc, const std::vector<std::string>& toks, Json value) {
  if (toks.empty()) {
    doc = std::move(value);
    return true;
  }
  Json* p = Parent(doc, toks);
  if (!p) return false;
  if (p->is_object()) {
    (*p)[toks.back()] = std::move(value);
    return true;
  }
  if (!p->is_array()) return false;
  size_t idx = p->size();
  if (toks.back() != "-" && !ParseIndex(toks.back(), p->size(), &idx)) return false;
  Json out = Json::array();
  size_t n = 0;
  for (size_t i = 0; i <= p->size(); ++i) {
    if (i == idx) out[n++] = value;
    if (i < p->size()) out[n++] = (*p)[i];
  }
  *p = out;
  return true;
}

// ---- strategic merge --------------------------------------------------------------------

// The merge key of a list field, "" when the list is replaced as a whole.
std::string MergeKey(const std::string& field, const Json& a, const Json& b) {
  static const std::map<std::string, std::string> kKeys = {
      {"containers", "name"},
      {"initContainers", "name"},
      {"ephemeralContainers", "name"},
      {"env", "name"},
      {"volumes", "name"},
      {"imagePullSecrets", "name"},
      {"volumeMounts", "mountPath"},
      {"volumeDevices", "devicePath"},
      {"conditions", "type"},
      {"ownerReferences", "uid"},
      {"hostAliases", "ip"},
      {"topologySpreadConstraints", "topologyKey"},
      {"resourceClaims", "name"},
  };
  if (field == "ports") {
    for (const Json* list : {&a, &b})
      if (list->is_array() && list->size() > 0 && HasKey(list->at(0), "containerPort"))
        return "containerPort";
    return "port";
  }
  auto it = kKeys.find(field);
  return it == kKeys.end() ? "" : it->second;
}

bool SamePrimitive(const Json& a, const Json& b) { return a.serialize() == b.serialize(); }

bool MergeMap(Json& target, const Json& patch, std::string* error);

bool MergeList(const std::string& field, Json& target, const Json& patch, std::string* error) {
  if (field == "finalizers") {  // patchStrategy merge on a list of strings
    Json out = target.is_array() ? target : Json::array();
    for (const Json& v : patch.as_array()) {
      bool seen = false;
      for (const Json& have : out.as_array()) seen = seen || SamePrimitive(have, v);
      if (!seen) out[out.size()] = v;
    }
    target = out;
    return true;
  }
  std::string key = MergeKey(field, target, patch);
  if (key.empty() || !target.is_array()) {
    Json out = Json::array();
    size_t n = 0;
    for (const Json& v : patch.as_array()) {
      if (GetString(v, {"$patch"}) == "delete") continue;
      out[n++] = v;
    }
    target = out;
    return true;
  }
  Json out = target;
  for (const Json& item : patch.as_array()) {
    if (!item.is_object() || !item.has_field(key)) {
      *error = "map: " + item.serialize() + " does not contain declared merge key: " + key;
      return false;
    }
    std::string want = item.at(key).serialize();
    std::optional<size_t> at;
    for (size_t i = 0; i < out.size(); ++i)
      if (HasKey(out[i], key) && out[i][key].serialize() == want) at = i;
    std::string directive = GetString(item, {"$patch"});
    if (directive == "delete") {
      if (at) {
        Json kept = Json::array();
        size_t n = 0;
        for (size_t i = 0; i < out.size(); ++i)
          if (i != *at) kept[n++] = out[i];
        out = kept;
      }
      continue;
    }
    if (at) {
      if (!MergeMap(out[*at], item, error)) return false;
    } else {
      Json fresh = Json::object();
      if (!MergeMap(fresh, item, error)) return false;
      out[out.size()] = fresh;
    }
  }
  target = out;
  return true;
}

// Orders `list` like `order` (elements matched by merge key or value); the rest keep their
// relative order after the ordered ones.
void ApplyOrder(const std::string& field, Json& list, const Json& order) {
  if (!list.is_array() || !order.is_array()) return;
  std::string key = MergeKey(field, list, order);
  auto id = [&](const Json& v) {
    return key.empty() || !HasKey(v, key) ? v.serialize() : v.at(key).serialize();
  };
  std::vector<Json> items(list.as_array().begin(), list.as_array().end());
  std::vector<bool> used(items.size(), false);
  Json out = Json::array();
  size_t n = 0;
  for (const Json& o : order.as_array()) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (!used[i] && id(items[i]) == id(o)) {
        used[i] = true;
        out[n++] = items[i];
        break;
      }
    }
  }
  for (size_t i = 0; i < items.size(); ++i)
    if (!used[i]) out[n++] = items[i];
  list = out;
}

bool MergeMap(Json& target, const Json& patch, std::string* error) {
  if (!target.is_object()) target = Json::object();
  std::string directive = GetString(patch, {"$patch"});
  if (directive == "replace") {
    Json out = patch;
    out.erase("$patch");
    target = out;
    return true;
  }
  if (directive == "delete") {
    target = Json::null();
    return true;
  }
  if (const Json* retain = Find(patch, {"$retainKeys"}); retain && retain->is_array()) {
    std::vector<std::string> drop;
    for (const auto& kv : target.as_object()) {
      bool keep = false;
      for (const Json& k : retain->as_array())
        keep = keep || (k.is_string() && k.as_string() == kv.first);
      if (!keep) drop.push_back(kv.first);
    }
    for (const auto& k : drop) target.erase(k);
  }
  std::vector<std::pair<std::string, Json>> orders;
  for (const auto& [k, v] : patch.as_object()) {
    if (k == "$patch" || k == "$retainKeys") continue;
    if (k.rfind("$setElementOrder/", 0) == 0) {
      orders.emplace_back(k.substr(17), v);
      continue;
    }
    if (k.rfind("$deleteFromPrimitiveList/", 0) == 0) {
      std::string f = k.substr(25);
      if (target.has_field(f) && target[f].is_array() && v.is_array()) {
        Json kept = Json::array();
        size_t n = 0;
        for (const Json& have : target[f].as_array()) {
          bool del = false;
          for (const Json& d : v.as_array()) del = del || SamePrimitive(have, d);
          if (!del) kept[n++] = have;
        }
        target[f] = kept;
      }
      continue;
    }
    if (v.is_null()) {
      EraseKey(target, k);
    } else if (v.is_object()) {
      Json child = target.has_field(k) && target[k].is_object() ? target[k] : Json::object();
      if (!MergeMap(child, v, error)) return false;
      if (child.is_null())
        EraseKey(target, k);
      else
        target[k] = child;
    } else if (v.is_array()) {
      Json child = target.has_field(k) ? target[k] : Json::array();
      if (!MergeList(k, child, v, error)) return false;
      target[k] = child;
    } else {
      target[k] = v;
    }
  }
  for (const auto& [f, order] : orders)
    if (target.has_field(f)) ApplyOrder(f, target[f], order);
  return true;
}

}  // namespace

Json ApplyMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json out = target.is_object() ? target : Json::object();
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      EraseKey(out, k);
    } else {
      out[k] = ApplyMergePatch(out.has_field(k) ? out[k] : Json::null(), v);
    }
  }
  return out;
}

bool ApplyJsonPatch(Json& target, const Json& patch, std::string* error) {
  if (!patch.is_array()) {
    *error = "json: cannot unmarshal object into Go value of type jsonpatch.Patch";
    return false;
  }
  for (const Json& op : patch.as_array()) {
    std::string kind = GetString(op, {"op"});
    std::string path = GetString(op, {"path"});
    std::vector<std::string> toks, from;
    if (!HasKey(op, "path") || !SplitPointer(path, &toks)) {
      *error = "operation " + kind + ": invalid or missing path \"" + path + "\"";
      return false;
    }
    auto missing = [&](const std::string& p) {
      *error =
          kind + " operation does not apply: doc is missing path: \"" + p + "\": missing value";
      return false;
    };
    if (kind == "add" || kind == "replace" || kind == "test") {
      if (!HasKey(op, "value")) {
        *error = "operation " + kind + " on " + path + " is missing its value";
        return false;
      }
    }
    if (kind == "add") {
      if (!Add(target, toks, op.at("value"))) return missing(path);
    } else if (kind == "remove") {
      if (!Remove(target, toks)) return missing(path);
    } else if (kind == "replace") {
      if (!Get(target, toks)) return missing(path);
      if (toks.empty()) {
        target = op.at("value");
      } else {
        Json* p = Parent(target, toks);
        size_t idx;
        if (p->is_object())
          (*p)[toks.back()] = op.at("value");
        else if (ParseIndex(toks.back(), p->size() - 1, &idx))
          (*p)[idx] = op.at("value");
      }
    } else if (kind == "test") {
      auto have = Get(target, toks);
      if (!have || have->serialize() != op.at("value").serialize()) {
        *error = "testing value " + path + " failed: test failed";
        return false;
      }
    } else if (kind == "move" || kind == "copy") {
      std::string src = GetString(op, {"from"});
      if (!SplitPointer(src, &from)) return missing(src);
      auto v = Get(target, from);
      if (!v) return missing(src);
      if (kind == "move" && !Remove(target, from)) return missing(src);
      if (!Add(target, toks, *v)) return missing(path);
    } else {
      *error = "Unexpected kind: " + kind;
      return false;
    }
  }
  return true;
}

bool ApplyStrategicMergePatch(Json& target, const Json& patch, std::string* error) {
  if (!patch.is_object()) {
    *error = "strategic merge patch must be a JSON object";
    return false;
  }
  if (!MergeMap(target, patch, error)) return false;
  if (target.is_null()) target = Json::object();
  return true;
}

}  // namespace zkop::devkube
