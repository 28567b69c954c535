#include "zkop/kube/dictionary_deflater.h"

#include <zlib.h>

#include <limits>
#include <new>
#include <stdexcept>

namespace zkop::kube {

namespace {

constexpr int kWindowBits = 12;  // 2^12 = DictionaryDeflater::kWindowBytes
constexpr int kMemLevel = 5;
constexpr int kLevel = 6;
static_assert(DictionaryDeflater::kWindowBytes == size_t{1} << kWindowBits);

Bytef* In(std::string_view s) {
  // zlib's next_in is not const-qualified but is only read.
  return reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
}

uInt Size(std::string_view s, std::string_view what) {
  if (s.size() > std::numeric_limits<uInt>::max()) {
    throw std::logic_error(std::string(what) + ": " + std::to_string(s.size()) +
                           " bytes is more than zlib takes in one call");
  }
  return static_cast<uInt>(s.size());
}

// Frees a stream however the call that owns it ends.
struct DeflateStream {
  z_stream z{};
  ~DeflateStream() { deflateEnd(&z); }
};
struct InflateStream {
  z_stream z{};
  ~InflateStream() { inflateEnd(&z); }
};

[[noreturn]] void Fail(int rc, std::string_view what, std::string_view step, const z_stream& z) {
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  std::string reason = z.msg != nullptr ? z.msg : "zlib status " + std::to_string(rc);
  throw std::logic_error(std::string(what) + ": " + std::string(step) + " failed (" + reason +
                         "); the data was deflated by this process, so this is a bug");
}

}  // namespace

DictionaryDeflater::DictionaryDeflater(std::string_view dictionary)
    : dictionary_(dictionary.size() > kWindowBytes
                      ? dictionary.substr(dictionary.size() - kWindowBytes)
                      : dictionary) {}

std::string DictionaryDeflater::Deflate(std::string_view text) const {
  constexpr std::string_view what = "DictionaryDeflater::Deflate";
  DeflateStream s;
  int rc = deflateInit2(&s.z, kLevel, Z_DEFLATED, -kWindowBits, kMemLevel, Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) Fail(rc, what, "deflateInit2", s.z);
  if (!dictionary_.empty()) {
    rc = deflateSetDictionary(&s.z, In(dictionary_), Size(dictionary_, what));
    if (rc != Z_OK) Fail(rc, what, "deflateSetDictionary", s.z);
  }
  std::string out(deflateBound(&s.z, Size(text, what)), '\0');
  s.z.next_in = In(text);
  s.z.avail_in = Size(text, what);
  s.z.next_out = reinterpret_cast<Bytef*>(out.data());
  s.z.avail_out = static_cast<uInt>(out.size());
  rc = deflate(&s.z, Z_FINISH);  // the bound fits everything: one call ends the stream
  if (rc != Z_STREAM_END) Fail(rc, what, "deflate", s.z);
  out.resize(s.z.total_out);
  return out;
}

std::string DictionaryDeflater::Inflate(std::string_view deflated, size_t text_size,
                                        std::string_view what) const {
  InflateStream s;
  int rc = inflateInit2(&s.z, -kWindowBits);
  if (rc != Z_OK) Fail(rc, what, "inflateInit2", s.z);
  if (!dictionary_.empty()) {
    rc = inflateSetDictionary(&s.z, In(dictionary_), Size(dictionary_, what));
    if (rc != Z_OK) Fail(rc, what, "inflateSetDictionary", s.z);
  }
  std::string out(text_size, '\0');
  s.z.next_in = In(deflated);
  s.z.avail_in = Size(deflated, what);
  s.z.next_out = reinterpret_cast<Bytef*>(out.data());
  s.z.avail_out = Size(out, what);
  rc = inflate(&s.z, Z_FINISH);
  if (rc == Z_STREAM_END && s.z.avail_out == 0 && s.z.avail_in == 0) return out;
  if (rc == Z_STREAM_END || rc == Z_OK || rc == Z_BUF_ERROR) {
    // The stream and the recorded size disagree: it ended early, ran on, or was cut short.
    throw std::logic_error(std::string(what) + ": inflate gave " +
                           std::to_string(text_size - s.z.avail_out) + " bytes" +
                           (rc == Z_STREAM_END ? " and ended" : " without ending") + ", " +
                           std::to_string(s.z.avail_in) + " deflated bytes left over, where " +
                           std::to_string(text_size) +
                           " were recorded; the data was deflated by this process, so this is a "
                           "bug");
  }
  Fail(rc, what, "inflate", s.z);
}

}  // namespace zkop::kube
