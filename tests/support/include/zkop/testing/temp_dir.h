// TempDir: a fresh private directory removed (recursively) on destruction.
//
//   zkop::testing::TempDir dir("zk-ensemble");      // /tmp/zkop-zk-ensemble-XXXXXX
//   std::string cfg = dir.Write("conf/zoo.cfg", text); // creates parents, returns the path
//   dir.Keep();                                      // leave it for post-mortem
//
// The base is $TMPDIR or /tmp. Construction throws std::runtime_error naming the path when
// the directory cannot be created (a setup error). Not thread-safe; a value type (movable).
#pragma once

#include <string>
#include <string_view>

namespace zkop::testing {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "tmp");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Path(std::string_view relative) const;
  // Creates a directory (and parents) below path(); returns its absolute path.
  std::string MakeDir(std::string_view relative) const;
  // Writes `content` to a file below path() (creating parents); returns its path. Throws
  // std::runtime_error naming the file on failure.
  std::string Write(std::string_view relative, std::string_view content) const;
  // Do not delete on destruction.
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Reads a whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);
// The last `lines` lines of a file.
std::string TailFile(const std::string& path, int lines);

}  // namespace zkop::testing
