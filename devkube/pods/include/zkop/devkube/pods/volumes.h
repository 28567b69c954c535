// Pod volumes as host directories. Processes are not in a mount namespace, so a volumeMount is
// a host path the runtime hands to the process (see container.h for how).
//  - configMap / secret volumes are projected like the kubelet's atomic writer: the files live
//    in a timestamped directory "..<n>", the symlink "..data" points at it, and each top-level
//    name is a symlink through "..data". An update writes a new directory and renames a new
//    "..data" link over the old one, so a reader sees the whole old or the whole new set.
//  - persistentVolumeClaim volumes are directories per claim (keyed by the claim's uid) under
//    the runtime's state directory: they outlive Pods and go when the claim is deleted.
//  - emptyDir volumes are directories in the Pod's directory, removed with the Pod.
//
// Contract: pure functions plus the filesystem; thread-safe for distinct directories. Errors
// come back as messages in the kubelet's words ("configmap \"x\" not found").
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "zkop/devkube/pods/env.h"

namespace zkop::devkube::pods {

struct ProjectedFile {
  std::string path;  // relative, may contain '/'
  std::string content;
  unsigned mode = 0644;
};

// The files a configMap or secret volume source shows for `object` (nullopt when the object
// does not exist). Honours items (key, path, mode), defaultMode and optional. Secrets default
// to mode 0600 (files here are owned by the runtime's user).
struct ProjectionResult {
  std::vector<ProjectedFile> files;
  std::string error;     // non-empty: the volume cannot be set up
  bool skipped = false;  // optional source that does not exist: an empty volume
};
ProjectionResult FilesForVolume(const web::json::value& source, bool secret,
                                const std::optional<web::json::value>& object);

// Writes `files` into `dir` atomically (see above). Unchanged content is not rewritten; true
// when something changed. False + *error when the filesystem refuses.
bool ProjectFiles(const std::string& dir, const std::vector<ProjectedFile>& files, bool* changed,
                  std::string* error);

// Recursive removal; missing paths are fine. False + *error on failure.
bool RemoveTree(const std::string& path, std::string* error);
// mkdir -p. False + *error on failure.
bool MakeDirs(const std::string& path, unsigned mode, std::string* error);

}  // namespace zkop::devkube::pods
