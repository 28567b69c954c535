// Raw deflate (zlib) with a preset dictionary, for many small texts that resemble one another:
// the informer keeps each cached object's JSON text this way, with the text of the first object
// it stored as the dictionary (objects of one kind written by one operator are near-identical,
// so most of each text becomes back-references into the dictionary).
//
// Contract:
//  - Settings: raw deflate (no header or checksum: the caller keeps the text's size), a 4 KiB
//    window (windowBits 12), memLevel 5, level 6. Each call allocates its own zlib stream
//    (deflate ~32 KiB, inflate ~11 KiB) and frees it before returning: no state is kept between
//    calls, so one deflater serves any number of threads at once.
//  - The dictionary is the last kWindowBytes of the text given (what zlib would use of a longer
//    one); it is fixed for the deflater's lifetime, and only text deflated by a deflater with
//    the same dictionary inflates. A dictionary unlike the texts costs ratio, never correctness.
//  - Inflate is given data this process deflated: data that does not inflate to exactly
//    `text_size` bytes is a programming error, reported as std::logic_error naming `what`.
//    Allocation failure is std::bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zkop::kube {

class DictionaryDeflater {
 public:
  static constexpr size_t kWindowBytes = 4096;

  explicit DictionaryDeflater(std::string_view dictionary);

  std::string Deflate(std::string_view text) const;
  // The text `deflated` came from, which was `text_size` bytes long; `what` names it in errors
  // (e.g. "pods default/demo-1").
  std::string Inflate(std::string_view deflated, size_t text_size, std::string_view what) const;

  const std::string& dictionary() const { return dictionary_; }

 private:
  std::string dictionary_;
};

}  // namespace zkop::kube
