#include "zkop/agent/atom.h"

#include <mutex>
#include <unordered_set>

namespace zkop::agent {

namespace {

struct Table {
  std::mutex mu;
  std::unordered_set<std::string> values;  // node-based: addresses stay put
};

Table& Interned() {
  static Table* table = new Table;  // never destroyed: atoms may outlive static destructors
  return *table;
}

const std::string* Intern(std::string_view value) {
  Table& t = Interned();
  std::lock_guard<std::mutex> l(t.mu);
  return &*t.values.emplace(value).first;
}

}  // namespace

Atom::Atom() : Atom(std::string_view()) {}

Atom::Atom(std::string_view value) : value_(Intern(value)) {}

}  // namespace zkop::agent
