#include "zkop/devkube/pods/volumes.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

namespace zkop::devkube::pods {
namespace fs = std::filesystem;
using web::json::value;

namespace {

std::string Str(const value& v, const std::string& key) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_string()) return "";
  return v.at(key).as_string();
}

std::optional<unsigned> Mode(const value& v, const std::string& key) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_integer()) return std::nullopt;
  return static_cast<unsigned>(v.at(key).as_integer()) & 0777;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// True when `dir`/..data holds exactly `files`.
bool SameContent(const fs::path& dir, const std::vector<ProjectedFile>& files) {
  std::error_code ec;
  const fs::path data = dir / "..data";
  if (!fs::is_symlink(fs::symlink_status(data, ec))) return false;
  size_t regular = 0;
  for (auto it = fs::recursive_directory_iterator(data, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) ++regular;
  }
  if (ec || regular != files.size()) return false;
  for (const auto& f : files) {
    const fs::path p = data / f.path;
    if (!fs::is_regular_file(p, ec) || ReadFile(p) != f.content) return false;
    if ((static_cast<unsigned>(fs::status(p, ec).permissions()) & 0777) != f.mode) return false;
  }
  return true;
}

}  // namespace

ProjectionResult FilesForVolume(const value& source, bool secret,
                                const std::optional<value>& object) {
  ProjectionResult result;
  const std::string name = Str(source, secret ? "secretName" : "name");
  const bool optional = source.has_field("optional") && source.at("optional").is_boolean() &&
                        source.at("optional").as_bool();
  const char* kind = secret ? "secret" : "configmap";
  if (!object) {
    if (optional) {
      result.skipped = true;
    } else {
      result.error = std::string(kind) + " \"" + name + "\" not found";
    }
    return result;
  }
  std::map<std::string, std::string> data;
  if (object->has_field("data") && object->at("data").is_object()) {
    for (const auto& [k, v] : object->at("data").as_object()) {
      if (!v.is_string()) continue;
      if (secret) {
        auto decoded = DecodeBase64(v.as_string());
        if (!decoded) {
          result.error = "secret \"" + name + "\" key " + k + " is not valid base64";
          return result;
        }
        data[k] = *decoded;
      } else {
        data[k] = v.as_string();
      }
    }
  }
  const unsigned default_mode = Mode(source, "defaultMode").value_or(secret ? 0600 : 0644);
  if (source.has_field("items") && source.at("items").is_array()) {
    for (const auto& item : source.at("items").as_array()) {
      const std::string key = Str(item, "key");
      auto it = data.find(key);
      if (it == data.end()) {
        if (optional) continue;
        result.error = std::string(kind) + " \"" + name + "\" has no key \"" + key + "\"";
        return result;
      }
      const std::string path = Str(item, "path").empty() ? key : Str(item, "path");
      if (path.front() == '/' || path.find("..") != std::string::npos) {
        result.error = std::string(kind) + " \"" + name + "\" item path \"" + path +
                       "\" must be relative and must not contain \"..\"";
        return result;
      }
      result.files.push_back({path, it->second, Mode(item, "mode").value_or(default_mode)});
    }
  } else {
    for (const auto& [k, v] : data) result.files.push_back({k, v, default_mode});
  }
  return result;
}

bool MakeDirs(const std::string& path, unsigned mode, std::string* error) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    *error = "cannot create directory " + path + ": " + ec.message();
    return false;
  }
  fs::permissions(path, static_cast<fs::perms>(mode), ec);
  return true;
}

bool RemoveTree(const std::string& path, std::string* error) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) {
    *error = "cannot remove " + path + ": " + ec.message();
    return false;
  }
  return true;
}

bool ProjectFiles(const std::string& dir_text, const std::vector<ProjectedFile>& files,
                  bool* changed, std::string* error) {
  const fs::path dir(dir_text);
  *changed = false;
  if (!MakeDirs(dir_text, 0755, error)) return false;
  if (SameContent(dir, files)) return true;
  std::error_code ec;
  // A fresh timestamped directory ("..<nanoseconds>") holds the new set.
  const std::string stamp =
      "..data_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const fs::path target = dir / stamp;
  for (const auto& f : files) {
    const fs::path p = target / f.path;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << f.content;
    out.close();
    if (!out) {
      *error = "cannot write " + p.string();
      return false;
    }
    fs::permissions(p, static_cast<fs::perms>(f.mode), ec);
  }
  fs::create_directories(target, ec);
  // Swap ..data atomically: a new link renamed over the old one.
  const fs::path data = dir / "..data";
  const fs::path tmp_link = dir / "..data_tmp";
  fs::remove(tmp_link, ec);
  fs::path old_target;
  if (fs::is_symlink(fs::symlink_status(data, ec))) old_target = dir / fs::read_symlink(data, ec);
  fs::create_symlink(stamp, tmp_link, ec);
  if (ec) {
    *error = "cannot link " + tmp_link.string() + ": " + ec.message();
    return false;
  }
  fs::rename(tmp_link, data, ec);
  if (ec) {
    *error = "cannot rename " + tmp_link.string() + " to " + data.string() + ": " + ec.message();
    return false;
  }
  // Top-level names: symlinks through ..data; stale ones go.
  std::map<std::string, bool> top;
  for (const auto& f : files) top[fs::path(f.path).begin()->string()] = true;
  for (const auto& [name, unused] : top) {
    const fs::path link = dir / name;
    if (!fs::is_symlink(fs::symlink_status(link, ec))) {
      fs::remove_all(link, ec);
      fs::create_symlink(fs::path("..data") / name, link, ec);
    }
  }
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("..", 0) == 0) continue;
    if (!top.count(name)) fs::remove_all(it->path(), ec);
  }
  if (!old_target.empty() && old_target.filename() != stamp) fs::remove_all(old_target, ec);
  *changed = true;
  return true;
}

}  // namespace zkop::devkube::pods
