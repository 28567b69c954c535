#include "zkop/agent/diagnose.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

namespace zkop::agent {

std::string_view StateText(ServiceState s) {
  switch (s) {
    case ServiceState::kRegister:
      return "would register";
    case ServiceState::kNotListening:
      return "not listening";
    case ServiceState::kConflict:
      return "conflict";
    case ServiceState::kConfigError:
      return "config error";
  }
  return "";
}

std::string_view StateLabel(ServiceState s) {
  switch (s) {
    case ServiceState::kRegister:
      return "registered";
    case ServiceState::kNotListening:
      return "not_listening";
    case ServiceState::kConflict:
      return "conflict";
    case ServiceState::kConfigError:
      return "config_error";
  }
  return "";
}

namespace {

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

bool ContainsWord(const std::string& text, const std::string& word) {
  if (word.empty()) return false;
  for (size_t pos = text.find(word); pos != std::string::npos; pos = text.find(word, pos + 1)) {
    bool left = pos == 0 || !NameChar(text[pos - 1]);
    size_t end = pos + word.size();
    bool right = end == text.size() || !NameChar(text[end]);
    if (left && right) return true;
  }
  return false;
}

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  return path.substr(0, slash);
}

std::string Who(const ProcessInfo& p) {
  std::string cmd = p.cmdline.size() > 120 ? p.cmdline.substr(0, 117) + "..." : p.cmdline;
  return "pid " + std::to_string(p.pid) + " (" + cmd + ")";
}

// "application orders (/app/dubbo.properties:3 dubbo.protocol.port)"
std::string Side(const Declared& d) {
  if (!d.source.empty() && d.port_origin.rfind(d.source, 0) == 0) {
    return "application " + d.application + " (" + d.port_origin + ")";
  }
  return d.OwnerName() + " [" + d.port_origin + "]";
}

// Why the visible holders of a port are not `d`'s provider, or "" when nothing shows it:
// a holder matches another declared provider (and not `d`), or `d` sets process: and no
// holder's command line contains it. A holder that merely does not look like `d`
// (`java -jar app.jar`) is no evidence.
std::string EvidenceAgainst(const Declared& d, const std::vector<ProcessInfo>& holders,
                            const std::vector<const Declared*>& providers) {
  if (!d.process.empty()) {
    return "its command line does not contain process: \"" + d.process.str() + "\"";
  }
  for (const ProcessInfo& p : holders) {
    for (const Declared* other : providers) {
      if (other->OwnerKey() == d.OwnerKey()) continue;
      if (ProcessMatches(*other, p)) return "it is the process of " + other->OwnerName();
    }
  }
  return "";
}

constexpr std::string_view kFix =
    "change dubbo.protocol.port of one provider, or set it to -1 so Dubbo picks a free port";

}  // namespace

bool ProcessMatches(const Declared& d, const ProcessInfo& p) {
  if (!d.process.empty()) return p.cmdline.find(d.process) != std::string::npos;
  if (ContainsWord(p.cmdline, d.application)) return true;
  if (d.source.empty()) return false;
  std::string dir = Dir(d.source);
  if (!p.cwd.empty() && p.cwd != "/" && d.source.str().rfind(p.cwd + "/", 0) == 0) return true;
  return !dir.empty() && p.cmdline.find(dir + "/") != std::string::npos;
}

Diagnosis Diagnose(const std::vector<Declared>& declared, const ListenTable& table,
                   PortProbe& probe) {
  Diagnosis out;
  out.decisions.resize(declared.size());
  std::map<int, std::optional<ProcessInfo>> described;
  auto describe = [&](int pid) -> const std::optional<ProcessInfo>& {
    auto it = described.find(pid);
    if (it == described.end()) it = described.emplace(pid, probe.Describe(pid)).first;
    return it->second;
  };
  // The visible processes holding `port`.
  auto holders = [&](int port) {
    std::vector<ProcessInfo> v;
    auto it = table.by_port.find(port);
    if (it == table.by_port.end()) return v;
    std::set<int> seen;
    for (const auto& l : it->second) {
      if (l.pid == 0 || !seen.insert(l.pid).second) continue;
      if (const auto& info = describe(l.pid)) v.push_back(*info);
    }
    return v;
  };
  auto holder_pid = [&](int port) {
    auto it = table.by_port.find(port);
    if (it == table.by_port.end()) return 0;
    for (const auto& l : it->second) {
      if (l.pid) return l.pid;
    }
    return 0;
  };

  // One service of each declared provider (the evidence that a holder is someone else's).
  std::vector<const Declared*> providers;
  {
    std::set<std::string> seen;
    for (const Declared& d : declared) {
      if (d.config_error.empty() && seen.insert(d.OwnerKey()).second) providers.push_back(&d);
    }
  }
  // Explicit ports claimed, by owner (so -1 resolution does not take someone else's port).
  std::map<int, std::set<std::string>> explicit_claims;
  for (size_t i = 0; i < declared.size(); ++i) {
    const Declared& d = declared[i];
    Decision& dec = out.decisions[i];
    if (!d.config_error.empty()) {
      dec.state = ServiceState::kConfigError;
      dec.reason = d.config_error;
      continue;
    }
    dec.bind_port = d.bind_port;
    if (d.bind_port > 0) explicit_claims[d.bind_port].insert(d.OwnerKey());
  }

  // Resolve -1 per owner, lowest owner first; a port taken by one auto owner is not reused.
  std::map<std::string, int> auto_port;  // owner -> resolved port (0 = unresolved)
  std::map<std::string, std::string> auto_reason;
  std::set<int> taken;
  for (size_t i = 0; i < declared.size(); ++i) {
    const Declared& d = declared[i];
    if (!d.config_error.empty() || d.bind_port != -1 || auto_port.count(d.OwnerKey())) continue;
    std::vector<int> mine, unknown;
    for (const auto& [port, listeners] : table.by_port) {
      if (port < d.default_port || taken.count(port)) continue;
      auto ec = explicit_claims.find(port);
      if (ec != explicit_claims.end() && !ec->second.count(d.OwnerKey())) continue;
      auto hs = holders(port);
      if (hs.empty()) {
        unknown.push_back(port);
      } else if (std::any_of(hs.begin(), hs.end(),
                             [&](const ProcessInfo& p) { return ProcessMatches(d, p); })) {
        mine.push_back(port);
      } else if (EvidenceAgainst(d, hs, providers).empty()) {
        unknown.push_back(port);  // a process that is nobody's as far as the agent can tell
      }
    }
    int chosen = 0;
    std::string reason;
    if (!mine.empty()) {
      chosen = mine.front();
    } else if (unknown.size() == 1) {
      chosen = unknown.front();
    } else if (unknown.empty()) {
      reason = "port -1 (" + d.port_origin + "): no port from " + std::to_string(d.default_port) +
               " upward is listening for " + d.OwnerName() + " yet";
    } else {
      std::string ports;
      for (int p : unknown) ports += (ports.empty() ? "" : ", ") + std::to_string(p);
      reason = "port -1 (" + d.port_origin + ") is ambiguous: ports " + ports +
               " listen and their processes are not visible to the agent; set an explicit "
               "dubbo.protocol.port, or set process: so the agent can tell its provider";
    }
    if (chosen) taken.insert(chosen);
    auto_port[d.OwnerKey()] = chosen;
    auto_reason[d.OwnerKey()] = reason;
  }

  // Group the remaining services by bind port.
  std::map<int, std::vector<size_t>> by_port;
  for (size_t i = 0; i < declared.size(); ++i) {
    const Declared& d = declared[i];
    Decision& dec = out.decisions[i];
    if (dec.state == ServiceState::kConfigError) continue;
    if (d.bind_port == -1) {
      dec.bind_port = auto_port[d.OwnerKey()];
      if (dec.bind_port == 0) {
        bool ambiguous = auto_reason[d.OwnerKey()].find("ambiguous") != std::string::npos;
        dec.state = ambiguous ? ServiceState::kConflict : ServiceState::kNotListening;
        dec.reason = auto_reason[d.OwnerKey()];
        if (ambiguous) out.conflicts.push_back(d.OwnerName() + ": " + dec.reason);
        continue;
      }
    }
    by_port[dec.bind_port].push_back(i);
  }

  for (const auto& [port, members] : by_port) {
    std::map<std::string, size_t> owners;  // owner key -> first service index
    for (size_t i : members) owners.emplace(declared[i].OwnerKey(), i);
    bool listening = table.Listening(port);
    auto hs = holders(port);
    auto matching = [&](size_t i) {
      return std::any_of(hs.begin(), hs.end(),
                         [&](const ProcessInfo& p) { return ProcessMatches(declared[i], p); });
    };
    std::string winner;  // owner key of the provider that holds the port
    // Evidence that the visible holder is not the lone claimant (issue 11): it matches
    // another declared provider, or the claimant's process: is set and does not match.
    std::string evidence;
    if (!hs.empty()) {
      for (const auto& [key, i] : owners) {
        if (matching(i)) winner = winner.empty() ? key : "\n\nambiguous";
      }
      if (winner == "\n\nambiguous") winner.clear();
      if (winner.empty() && owners.size() == 1 && listening) {
        const Declared& d = declared[owners.begin()->second];
        evidence = EvidenceAgainst(d, hs, providers);
        if (evidence.empty()) winner = owners.begin()->first;  // nothing says it is not
      }
    } else if (owners.size() == 1 && listening) {
      winner = owners.begin()->first;  // holder not visible: trust the one claimant
    }

    std::string message;
    if (owners.size() > 1) {
      std::string sides;
      for (const auto& [key, i] : owners)
        sides += (sides.empty() ? "" : " and ") + Side(declared[i]);
      message = "port " + std::to_string(port) + " is claimed by " + sides + "; ";
      if (!winner.empty()) {
        message += "only application " + declared[owners[winner]].application +
                   " could bind it: " + Who(hs.front()) +
                   " listens, the others are not registered; ";
      } else if (!listening) {
        message += "nothing listens there yet and at most one can bind it; ";
      } else {
        message += "the agent cannot tell which provider listens (" +
                   (hs.empty() ? std::string("process not visible") : Who(hs.front())) +
                   "), so none is registered; ";
      }
      message += "fix: " + std::string(kFix);
    } else if (listening && winner.empty()) {
      const Declared& d = declared[owners.begin()->second];
      message = "port " + std::to_string(port) + " of " + Side(d) + " is held by " +
                Who(hs.front()) + ", which is not " +
                (d.application.empty() ? "that provider" : d.application) + " (" + evidence +
                "); fix: " + std::string(kFix) +
                " (or, if that process is the provider, set process: to part of its command line)";
    }
    if (!message.empty()) out.conflicts.push_back(message);

    for (size_t i : members) {
      Decision& dec = out.decisions[i];
      const Declared& d = declared[i];
      dec.registry_port = d.registry_port ? d.registry_port : dec.bind_port;
      dec.pid = holder_pid(port);
      if (!hs.empty()) dec.holder = Who(hs.front());
      bool wins = !winner.empty() && winner == d.OwnerKey();
      if (owners.size() > 1 && !wins) {
        dec.state = ServiceState::kConflict;
        dec.reason = message;
      } else if (!listening) {
        dec.state = ServiceState::kNotListening;
        dec.reason = "nothing listens on port " + std::to_string(port) + " [" + d.port_origin + "]";
      } else if (!wins) {
        dec.state = ServiceState::kConflict;
        dec.reason = message;
      } else {
        dec.state = ServiceState::kRegister;
        dec.reason.clear();
      }
    }
  }
  return out;
}

}  // namespace zkop::agent
