// Atom: an immutable, interned string in 8 bytes. Equal values share one copy for the life
// of the process, so a field that is the same for thousands of declared services (the
// application, the protocol, the source file, the host) costs a pointer each, not a
// std::string each (32 bytes, plus a heap block when longer than 15 characters).
//
// For values that repeat. A value that is unique per service gains nothing (it costs an
// intern-table node instead of a string), so such fields stay std::string.
// Thread-safe (the table is locked); values are never freed.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

namespace zkop::agent {

class Atom {
 public:
  Atom();                        // ""
  Atom(std::string_view value);  // NOLINT: implicit on purpose (a drop-in for std::string)
  Atom(const std::string& value) : Atom(std::string_view(value)) {}  // NOLINT
  Atom(const char* value) : Atom(std::string_view(value)) {}         // NOLINT

  const std::string& str() const { return *value_; }
  operator const std::string&() const { return *value_; }  // NOLINT
  operator std::string_view() const { return *value_; }    // NOLINT
  bool empty() const { return value_->empty(); }
  size_t size() const { return value_->size(); }
  const char* c_str() const { return value_->c_str(); }

  friend bool operator==(const Atom& a, const Atom& b) { return a.value_ == b.value_; }
  friend bool operator==(const Atom& a, std::string_view b) { return *a.value_ == b; }
  friend bool operator==(const Atom& a, const char* b) { return *a.value_ == b; }
  friend bool operator<(const Atom& a, const Atom& b) { return *a.value_ < *b.value_; }
  friend std::string operator+(const Atom& a, std::string_view b) {
    return *a.value_ + std::string(b);
  }
  friend std::string operator+(std::string a, const Atom& b) { return a += *b.value_; }
  friend std::string operator+(const char* a, const Atom& b) { return a + *b.value_; }
  friend std::ostream& operator<<(std::ostream& out, const Atom& a) { return out << *a.value_; }

 private:
  const std::string* value_;
};

}  // namespace zkop::agent
