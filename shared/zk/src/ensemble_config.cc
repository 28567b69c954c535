#include "zkop/zk/ensemble_config.h"

#include <algorithm>
#include <charconv>

namespace zkop::zk {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ParseInt(std::string_view s, int base, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParsePort(std::string_view s, int* out) {
  int64_t v = 0;
  if (!ParseInt(s, 10, &v) || v <= 0 || v > 65535) return false;
  *out = static_cast<int>(v);
  return true;
}

// "host:port" or "port" (host defaults to 0.0.0.0); IPv6 hosts in brackets.
bool ParseClient(std::string_view s, std::string* host, int* port) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    *host = "0.0.0.0";
    return ParsePort(s, port);
  }
  *host = std::string(s.substr(0, colon));
  return !host->empty() && ParsePort(s.substr(colon + 1), port);
}

// "<host>:<quorum>:<election>[:<role>]".
bool ParseServer(std::string_view s, Member* m) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  // The host may be an IPv6 literal in brackets.
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    m->host = std::string(s.substr(0, close + 1));
    start = close + 1;
    if (start >= s.size() || s[start] != ':') return false;
    ++start;
  } else {
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) return false;
    m->host = std::string(s.substr(0, colon));
    start = colon + 1;
  }
  while (start <= s.size()) {
    size_t colon = s.find(':', start);
    if (colon == std::string_view::npos) colon = s.size();
    parts.push_back(s.substr(start, colon - start));
    start = colon + 1;
  }
  if (m->host.empty() || parts.size() < 2 || parts.size() > 3) return false;
  if (!ParsePort(parts[0], &m->quorum_port) || !ParsePort(parts[1], &m->election_port)) {
    return false;
  }
  if (parts.size() == 3) {
    if (parts[2] != "participant" && parts[2] != "observer") return false;
    m->role = std::string(parts[2]);
  }
  return true;
}

}  // namespace

std::string Member::ServerLine() const {
  std::string out = "server." + std::to_string(id) + "=" + host + ":" +
                    std::to_string(quorum_port) + ":" + std::to_string(election_port) + ":" + role;
  if (client_port != 0) out += ";" + ClientAddress();
  return out;
}

std::string Member::ClientAddress() const {
  if (client_port == 0) return "";
  return client_host + ":" + std::to_string(client_port);
}

const Member* EnsembleConfig::Find(int id) const {
  for (const Member& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::string EnsembleConfig::ConnectString() const {
  std::string out;
  for (const Member& m : members) {
    if (m.client_port == 0) continue;
    if (!out.empty()) out.push_back(',');
    out += m.ClientAddress();
  }
  return out;
}

Status ParseEnsembleConfig(std::string_view text, EnsembleConfig* out) {
  EnsembleConfig cfg;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.empty() || line == "membership:" || line.front() == '#') continue;
    auto fail = [&](std::string_view expected) {
      return Status(Error::kParseError, "line " + std::to_string(line_no) + ": expected " +
                                            std::string(expected) + ", found \"" +
                                            std::string(line) + "\"");
    };
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail("key=value");
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key == "version") {
      if (!ParseInt(value, 16, &cfg.version)) return fail("version=<hex zxid>");
      continue;
    }
    if (key.substr(0, 7) != "server.") continue;  // other keys of a static config
    Member m;
    int64_t id = 0;
    if (!ParseInt(key.substr(7), 10, &id) || id <= 0 || id > 255 * 255) {
      return fail("server.<id> with a positive id");
    }
    m.id = static_cast<int>(id);
    std::string_view server = value;
    std::string_view client;
    if (size_t semi = value.find(';'); semi != std::string_view::npos) {
      server = Trim(value.substr(0, semi));
      client = Trim(value.substr(semi + 1));
    }
    if (!ParseServer(server, &m)) {
      return fail("server.<id>=<host>:<quorum port>:<election port>[:participant|observer]");
    }
    if (!client.empty() && !ParseClient(client, &m.client_host, &m.client_port)) {
      return fail("a client address \"[<host>:]<port>\" after ';'");
    }
    if (cfg.Find(m.id) != nullptr) return fail("each server id once");
    cfg.members.push_back(std::move(m));
  }
  std::sort(cfg.members.begin(), cfg.members.end(),
            [](const Member& a, const Member& b) { return a.id < b.id; });
  *out = std::move(cfg);
  return Status();
}

}  // namespace zkop::zk
