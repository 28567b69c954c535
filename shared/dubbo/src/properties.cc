#include "zkop/dubbo/properties.h"

#include "zkop/config/bounded_input.h"
#include "zkop/dubbo/url_encode.h"

namespace zkop::dubbo {

PropertiesError::PropertiesError(const std::string& file, int line, const std::string& detail)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " +
                         detail),
      file_(file),
      line_(line) {}

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

struct LogicalLine {
  std::string text;  // raw characters (escapes still present), continuations joined
  int line = 0;      // where it starts
};

// Splits input into logical lines as java.util.Properties.LineReader does.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  bool Next(LogicalLine* out) {
    out->text.clear();
    bool skip_blank = true;
    bool appended_line_begin = false;
    bool comment = false;
    bool preceding_backslash = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (skip_blank) {
        if (IsBlank(c)) continue;
        if (!appended_line_begin && (c == '\r' || c == '\n')) {
          CountNewline(c);
          continue;
        }
        skip_blank = false;
        appended_line_begin = false;
      }
      if (out->text.empty() && !comment && out->line == 0) {
        out->line = line_;
        if (c == '#' || c == '!') {
          comment = true;
          continue;
        }
      }
      if (comment) {
        if (c == '\r' || c == '\n') {
          CountNewline(c);
          comment = false;
          skip_blank = true;
          out->line = 0;
        }
        continue;
      }
      if (c != '\n' && c != '\r') {
        out->text.push_back(c);
        preceding_backslash = (c == '\\') ? !preceding_backslash : false;
        continue;
      }
      CountNewline(c);
      if (out->text.empty()) {  // a blank logical line (e.g. a continuation onto nothing)
        skip_blank = true;
        out->line = 0;
        continue;
      }
      if (preceding_backslash) {
        out->text.pop_back();
        skip_blank = true;
        appended_line_begin = true;
        preceding_backslash = false;
        continue;
      }
      return true;
    }
    if (out->text.empty() || comment) return false;
    if (preceding_backslash) out->text.pop_back();
    return true;
  }

 private:
  void CountNewline(char c) {
    ++line_;
    if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

// loadConvert: resolves escapes; input characters are ISO-8859-1, output is UTF-8.
std::string Convert(std::string_view in, const std::string& file, int line) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    unsigned char c = in[i++];
    if (c != '\\') {
      AppendUtf8(c, &out);
      continue;
    }
    if (i >= in.size()) break;  // a lone trailing backslash is dropped, as Java does
    char e = in[i++];
    switch (e) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        if (i + 4 > in.size()) {
          throw PropertiesError(file, line,
                                "Malformed \\uxxxx encoding (a \\u escape needs four hex digits)");
        }
        char32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
          char h = in[i++];
          int v = (h >= '0' && h <= '9')   ? h - '0'
                  : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                  : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                           : -1;
          if (v < 0) {
            throw PropertiesError(
                file, line, "Malformed \\uxxxx encoding (a \\u escape needs four hex digits)");
          }
          cp = cp * 16 + static_cast<char32_t>(v);
        }
        // Java keeps UTF-16 units; a surrogate pair written as two escapes is one character.
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= in.size() && in[i] == '\\' &&
            in[i + 1] == 'u') {
          char32_t lo = 0;
          bool ok = true;
          for (int k = 0; k < 4; ++k) {
            char h = in[i + 2 + k];
            int v = (h >= '0' && h <= '9')   ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (v < 0) ok = false;
            lo = lo * 16 + static_cast<char32_t>(v < 0 ? 0 : v);
          }
          if (ok && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:
        AppendUtf8(static_cast<unsigned char>(e), &out);
    }
  }
  return out;
}

}  // namespace

SettingMap ParseProperties(std::string_view text, const std::string& file) {
  SettingMap result;
  LineReader reader(text);
  LogicalLine ll;
  while (reader.Next(&ll)) {
    const std::string& s = ll.text;
    size_t limit = s.size();
    size_t key_len = 0;
    size_t value_start = limit;
    bool has_sep = false;
    bool preceding_backslash = false;
    while (key_len < limit) {
      char c = s[key_len];
      if ((c == '=' || c == ':') && !preceding_backslash) {
        value_start = key_len + 1;
        has_sep = true;
        break;
      }
      if (IsBlank(c) && !preceding_backslash) {
        value_start = key_len + 1;
        break;
      }
      preceding_backslash = (c == '\\') ? !preceding_backslash : false;
      ++key_len;
    }
    while (value_start < limit) {
      char c = s[value_start];
      if (!IsBlank(c)) {
        if (!has_sep && (c == '=' || c == ':')) {
          has_sep = true;
        } else {
          break;
        }
      }
      ++value_start;
    }
    std::string key = Convert(std::string_view(s).substr(0, key_len), file, ll.line);
    std::string value = Convert(std::string_view(s).substr(value_start), file, ll.line);
    result[key] = Setting{std::move(value), file, ll.line, {}};
    ll = LogicalLine{};
  }
  return result;
}

std::string ReadProviderFile(const std::string& path) {
  std::string text, error;
  if (!config::ReadRegularFile(path, kMaxProviderFileBytes, &text, &error)) {
    throw PropertiesError(path, 0, error + " (check the path in the agent config's sources)");
  }
  return text;
}

SettingMap LoadPropertiesFile(const std::string& path) {
  return ParseProperties(ReadProviderFile(path), path);
}

}  // namespace zkop::dubbo
