// java.util.Properties text format, read exactly as Properties.load(InputStream) reads it.
//
// Rules (JDK 17 Properties.load / LineReader / loadConvert):
//  - Bytes are ISO-8859-1 characters (a UTF-8 file therefore reads as Java would read it;
//    use \uXXXX for other characters). Values here are returned as UTF-8.
//  - Natural lines end at \n, \r or \r\n. Leading space, \t, \f are skipped. Blank lines and
//    lines whose first non-blank character is '#' or '!' are comments (never continued).
//  - A line ending in an odd number of backslashes continues on the next line, whose leading
//    blanks are skipped. A trailing backslash at end of input is dropped.
//  - The key ends at the first unescaped '=', ':', space, \t or \f; blanks and then at most
//    one '=' or ':' and further blanks separate it from the value.
//  - Escapes in keys and values: \t \n \r \f, \uXXXX (exactly four hex digits, otherwise the
//    load fails: "Malformed \uxxxx encoding"), and \c -> c for any other c.
//  - A later duplicate key replaces the earlier one.
// Errors: PropertiesError (file and 1-based line; 0 = the whole file, then "file: detail")
// — setup-time input, so exceptions.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace zkop::dubbo {

class PropertiesError : public std::runtime_error {
 public:
  PropertiesError(const std::string& file, int line, const std::string& detail);
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

// A value and where it came from.
struct Setting {
  std::string value;
  std::string file;
  int line = 0;  // 1-based line where the logical line starts
  // "" for a value; "a mapping" or "a list" when a YAML key holds a collection (its
  // members are flattened under it as well), so a key that must be a value can say so.
  std::string_view shape;
};

// Keys in file order do not matter to Java; a map keeps lookups simple.
using SettingMap = std::map<std::string, Setting>;

// Parses `text` (the file's bytes). `file` names the input in errors and in Setting::file.
SettingMap ParseProperties(std::string_view text, const std::string& file);

// Provider files are configuration, not data: anything bigger is refused.
inline constexpr size_t kMaxProviderFileBytes = 4 * 1024 * 1024;

// The bytes of a provider file (dubbo.properties, application.yml, ...). Throws
// PropertiesError naming the file and the reason when it cannot be read, is not a regular
// file (a directory, a FIFO, /dev/zero) or is larger than kMaxProviderFileBytes.
std::string ReadProviderFile(const std::string& path);

// Reads and parses a file. Throws PropertiesError when it cannot be read.
SettingMap LoadPropertiesFile(const std::string& path);

}  // namespace zkop::dubbo
