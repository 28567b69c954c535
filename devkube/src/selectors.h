// Label and field selectors with the syntax and error messages of k8s.io/apimachinery.
//
// Contract: Parse* never throw; on bad input they return nullopt and set *error to the
// message the real server puts in its 400 BadRequest.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "json_util.h"

namespace zkop::devkube {

class LabelSelector {
 public:
  // "a=b,c!=d,e in (f,g),h notin (i),j,!k,l>3"; the empty string selects everything.
  static std::optional<LabelSelector> Parse(const std::string& text, std::string* error);
  // `labels` is metadata.labels (an object, or null).
  bool Matches(const Json& labels) const;
  bool Empty() const { return requirements_.empty(); }

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreater, kLess };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  // "metadata.name=x,metadata.namespace!=y"; keys outside `allowed` are rejected.
  static std::optional<FieldSelector> Parse(const std::string& text,
                                            const std::vector<std::string>& allowed,
                                            std::string* error);
  bool Matches(const Json& object) const;
  bool Empty() const { return terms_.empty(); }

 private:
  struct Term {
    std::string field;
    bool equals;
    std::string value;
  };
  std::vector<Term> terms_;
};

}  // namespace zkop::devkube
