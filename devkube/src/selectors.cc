#include "selectors.h"

#include <algorithm>
#include <cctype>

namespace zkop::devkube {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on commas outside parentheses.
std::vector<std::string> SplitTop(const std::string& text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

bool ValidKey(const std::string& key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

// The value at a dotted field path, as a field selector compares it.
std::string FieldValue(const Json& object, const std::string& field) {
  auto v = EvalJsonPath(object, "." + field);
  if (!v) return "";
  if (v->is_string()) return v->as_string();
  if (v->is_null()) return "";
  return v->serialize();
}

}  // namespace

std::optional<LabelSelector> LabelSelector::Parse(const std::string& text, std::string* error) {
  LabelSelector sel;
  if (Trim(text).empty()) return sel;
  for (const std::string& raw : SplitTop(text)) {
    std::string part = Trim(raw);
    auto fail = [&](const std::string& why) {
      *error = "unable to parse requirement: " + why;
      return std::nullopt;
    };
    if (part.empty()) return fail("found '', expected: !, identifier, or 'end of string'");
    Requirement req;
    if (part[0] == '!') {
      req.key = Trim(part.substr(1));
      req.op = Op::kDoesNotExist;
    } else {
      size_t sp = part.find_first_of(" !=<>");
      req.key = part.substr(0, sp);
      std::string rest = sp == std::string::npos ? "" : Trim(part.substr(sp));
      auto set_values = [&](const std::string& list) -> bool {
        if (list.size() < 2 || list.front() != '(' || list.back() != ')') return false;
        for (const std::string& v : SplitTop(list.substr(1, list.size() - 2))) {
          req.values.push_back(Trim(v));
        }
        return true;
      };
      if (rest.empty()) {
        req.op = Op::kExists;
      } else if (rest.rfind("==", 0) == 0) {
        req.op = Op::kEquals;
        req.values = {Trim(rest.substr(2))};
      } else if (rest.rfind("!=", 0) == 0) {
        req.op = Op::kNotEquals;
        req.values = {Trim(rest.substr(2))};
      } else if (rest[0] == '=') {
        req.op = Op::kEquals;
        req.values = {Trim(rest.substr(1))};
      } else if (rest[0] == '>' || rest[0] == '<') {
        req.op = rest[0] == '>' ? Op::kGreater : Op::kLess;
        req.values = {Trim(rest.substr(1))};
        char* end = nullptr;
        std::strtoll(req.values[0].c_str(), &end, 10);
        if (req.values[0].empty() || *end != '\0')
          return fail("for 'Gt', 'Lt' operators, the value must be an integer");
      } else if (rest.rfind("notin", 0) == 0) {
        req.op = Op::kNotIn;
        if (!set_values(Trim(rest.substr(5)))) return fail("found '" + rest + "', expected: '('");
      } else if (rest.rfind("in", 0) == 0) {
        req.op = Op::kIn;
        if (!set_values(Trim(rest.substr(2)))) return fail("found '" + rest + "', expected: '('");
      } else {
        return fail("found '" + rest + "', expected: in, notin, =, ==, !=, gt, lt");
      }
    }
    if (!ValidKey(req.key)) return fail("invalid label key \"" + req.key + "\"");
    sel.requirements_.push_back(std::move(req));
  }
  return sel;
}

bool LabelSelector::Matches(const Json& labels) const {
  for (const Requirement& r : requirements_) {
    const Json* v = labels.is_object() ? Find(labels, {r.key}) : nullptr;
    bool has = v && v->is_string();
    std::string value = has ? v->as_string() : "";
    auto in_values = [&] {
      return std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    };
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = has && in_values();
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = !has || !in_values();
        break;
      case Op::kExists:
        ok = has;
        break;
      case Op::kDoesNotExist:
        ok = !has;
        break;
      case Op::kGreater:
      case Op::kLess: {
        char* end = nullptr;
        long long have = std::strtoll(value.c_str(), &end, 10);
        if (!has || value.empty() || *end != '\0') break;
        long long want = std::strtoll(r.values[0].c_str(), nullptr, 10);
        ok = r.op == Op::kGreater ? have > want : have < want;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

std::optional<FieldSelector> FieldSelector::Parse(const std::string& text,
                                                  const std::vector<std::string>& allowed,
                                                  std::string* error) {
  FieldSelector sel;
  if (Trim(text).empty()) return sel;
  for (const std::string& raw : SplitTop(text)) {
    std::string part = Trim(raw);
    Term t;
    size_t pos;
    if ((pos = part.find("!=")) != std::string::npos) {
      t.equals = false;
      t.field = Trim(part.substr(0, pos));
      t.value = Trim(part.substr(pos + 2));
    } else if ((pos = part.find("==")) != std::string::npos) {
      t.equals = true;
      t.field = Trim(part.substr(0, pos));
      t.value = Trim(part.substr(pos + 2));
    } else if ((pos = part.find('=')) != std::string::npos) {
      t.equals = true;
      t.field = Trim(part.substr(0, pos));
      t.value = Trim(part.substr(pos + 1));
    } else {
      *error = "invalid selector: '" + text + "'; can't understand '" + part + "'";
      return std::nullopt;
    }
    if (std::find(allowed.begin(), allowed.end(), t.field) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
      *error = "\"" + t.field + "\" is not a known field selector: only " + list;
      return std::nullopt;
    }
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

bool FieldSelector::Matches(const Json& object) const {
  for (const Term& t : terms_) {
    if ((FieldValue(object, t.field) == t.value) != t.equals) return false;
  }
  return true;
}

}  // namespace zkop::devkube
