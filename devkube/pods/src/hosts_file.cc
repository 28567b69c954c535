#include "zkop/devkube/pods/hosts_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace zkop::devkube::pods {
namespace {

bool Selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

std::string RenderHostsFile(const std::vector<PodEndpoint>& pods,
                            const std::vector<ServiceRecord>& services, const PodEndpoint& self,
                            const std::string& cluster_domain,
                            const std::string& machine_hostname) {
  // (address, name) pairs; a set keeps the output sorted and free of duplicates.
  std::set<std::pair<std::string, std::string>> records;
  auto add_names = [&](const std::string& ip, const std::string& ns, const std::string& base) {
    records.insert({ip, base + "." + ns + ".svc." + cluster_domain});
    records.insert({ip, base + "." + ns + ".svc"});
    if (ns == self.ns) records.insert({ip, base});
  };
  for (const auto& pod : pods) {
    if (pod.ip.empty() || pod.subdomain.empty()) continue;
    add_names(pod.ip, pod.ns, pod.hostname + "." + pod.subdomain);
  }
  for (const auto& svc : services) {
    if (svc.selector.empty()) continue;
    for (const auto& pod : pods) {
      if (pod.ip.empty() || pod.ns != svc.ns || !Selects(svc.selector, pod.labels)) continue;
      if (!pod.ready && !svc.publish_not_ready) continue;
      add_names(pod.ip, svc.ns, svc.name);
      records.insert({pod.ip, svc.name + "." + svc.ns});
    }
  }
  // No comment lines: libnss_wrapper rejects a hosts file that has them.
  std::string out;
  if (!self.ip.empty()) {
    out += self.ip + " ";
    if (!self.subdomain.empty()) {
      out += self.hostname + "." + self.subdomain + "." + self.ns + ".svc." + cluster_domain + " ";
    }
    out += self.hostname + " localhost\n";
  }
  if (!machine_hostname.empty() && machine_hostname != self.hostname) {
    out += "127.0.0.1 " + machine_hostname + "\n";
  }
  for (const auto& [ip, name] : records) out += ip + " " + name + "\n";
  return out;
}

bool WriteFileAtomically(const std::string& path, const std::string& content, unsigned mode,
                         std::string* error) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace zkop::devkube::pods
