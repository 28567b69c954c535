#include "zkop/agent/probe.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace zkop::agent {

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  *out = buf.str();
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// /proc/net/tcp addresses are the kernel's 32-bit words in host (little-endian) order.
bool DecodeAddress(const std::string& hex, bool v6, std::string* out) {
  size_t n = v6 ? 32 : 8;
  if (hex.size() != n) return false;
  unsigned char bytes[16];
  for (size_t w = 0; w < n / 8; ++w) {
    for (int b = 0; b < 4; ++b) {
      int hi = Hex(hex[w * 8 + (3 - b) * 2]);
      int lo = Hex(hex[w * 8 + (3 - b) * 2 + 1]);
      if (hi < 0 || lo < 0) return false;
      bytes[w * 4 + b] = static_cast<unsigned char>(hi * 16 + lo);
    }
  }
  char buf[64];
  if (!v6) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
    *out = buf;
    return true;
  }
  bool zero = true;
  for (unsigned char b : bytes) zero = zero && b == 0;
  if (zero) {
    *out = "::";
    return true;
  }
  std::string s;
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%x", i ? ":" : "", (bytes[i] << 8) | bytes[i + 1]);
    s += buf;
  }
  *out = s;
  return true;
}

}  // namespace

ProcProbe::ProcProbe(std::string proc_root) : root_(std::move(proc_root)) {}

bool ProcProbe::ParseNetTcp(const std::string& text, bool v6, std::vector<Listener>* out) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
    if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode)) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      return false;
    }
    if (state != "0A") continue;
    size_t colon = local.find(':');
    if (colon == std::string::npos) return false;
    Listener l;
    if (!DecodeAddress(local.substr(0, colon), v6, &l.address)) return false;
    l.port = static_cast<int>(std::strtol(local.c_str() + colon + 1, nullptr, 16));
    l.inode = std::strtoull(inode.c_str(), nullptr, 10);
    out->push_back(std::move(l));
  }
  return true;
}

void ProcProbe::RefreshInodes() {
  inode_pid_.clear();
  DIR* proc = opendir(root_.c_str());
  if (proc == nullptr) return;
  while (struct dirent* e = readdir(proc)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::string fd_dir = root_ + "/" + e->d_name + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;  // not visible (other user, or gone)
    while (struct dirent* fe = readdir(fds)) {
      if (fe->d_name[0] == '.') continue;
      char target[128];
      std::string link = fd_dir + "/" + fe->d_name;
      ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      unsigned long long inode = 0;
      if (std::sscanf(target, "socket:[%llu]", &inode) == 1) inode_pid_.emplace(inode, pid);
    }
    closedir(fds);
  }
  closedir(proc);
}

ListenTable ProcProbe::Probe() {
  ListenTable table;
  std::vector<Listener> all;
  for (bool v6 : {false, true}) {
    std::string path = root_ + (v6 ? "/net/tcp6" : "/net/tcp");
    std::string text;
    if (!ReadFile(path, &text)) {
      if (!v6) table.error = "cannot read " + path + ": " + std::strerror(errno);
      continue;  // no IPv6 in this namespace is normal
    }
    if (!ParseNetTcp(text, v6, &all)) table.error = "malformed " + path;
  }
  bool missing = false;
  for (const auto& l : all) {
    missing = missing || (l.inode != 0 && !inode_pid_.count(l.inode) && !unknown_.count(l.inode));
  }
  if (missing) {
    RefreshInodes();
    unknown_.clear();
    for (const auto& l : all) {
      if (!inode_pid_.count(l.inode)) unknown_.insert(l.inode);
    }
  }
  for (auto& l : all) {
    auto it = inode_pid_.find(l.inode);
    l.pid = it == inode_pid_.end() ? 0 : it->second;
    table.by_port[l.port].push_back(l);
  }
  return table;
}

std::optional<ProcessInfo> ProcProbe::Describe(int pid) {
  ProcessInfo info;
  info.pid = pid;
  std::string base = root_ + "/" + std::to_string(pid);
  std::string cmd;
  if (!ReadFile(base + "/cmdline", &cmd)) return std::nullopt;
  while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
  for (auto& c : cmd) {
    if (c == '\0') c = ' ';
  }
  info.cmdline = cmd;
  char buf[4096];
  ssize_t n = readlink((base + "/cwd").c_str(), buf, sizeof buf - 1);
  if (n > 0) info.cwd.assign(buf, static_cast<size_t>(n));
  return info;
}

}  // namespace zkop::agent
