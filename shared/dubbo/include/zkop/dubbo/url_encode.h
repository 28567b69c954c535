// Encodings Apache Dubbo (a Java program) applies to registry data.
//
// Contract: pure functions over UTF-8 text; never throw. Invalid UTF-8 input is
// encoded byte by byte (Java would have replaced it; callers validate names first).
#pragma once

#include <string>
#include <string_view>

namespace zkop::dubbo {

// java.net.URLEncoder.encode(s, "UTF-8"): [A-Za-z0-9.*_-] unchanged, ' ' -> '+',
// every other byte of the UTF-8 form -> "%XX" with upper-case hex.
std::string UrlEncode(std::string_view utf8);

// The inverse of UrlEncode ('+' -> ' ', "%XX" -> byte). Returns false on a malformed escape.
bool UrlDecode(std::string_view encoded, std::string* out);

// String.compareTo order (UTF-16 code units) of two UTF-8 strings: the order of a Java
// TreeMap<String, ...>. Equals byte order except for supplementary characters.
bool JavaStringLess(std::string_view a, std::string_view b);

// Appends the UTF-8 form of a code point (U+0000..U+10FFFF; lone surrogates are written
// as their 3-byte form, as Java's modified handling would keep them distinct).
void AppendUtf8(char32_t cp, std::string* out);

// Decodes the code point at s[*pos] and advances *pos past it. Strict UTF-8: false (and
// *pos advanced by one byte) on a malformed, overlong or truncated sequence, a surrogate,
// or a value above U+10FFFF.
bool DecodeUtf8(std::string_view s, size_t* pos, char32_t* cp);
bool IsValidUtf8(std::string_view s);
// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD (for text that
// must be valid, such as JSON output).
std::string ToValidUtf8(std::string_view s);

}  // namespace zkop::dubbo
