// zkop-agent-fuzz: a bounded, seeded mutation runner for the agent's input readers — the
// agent config (YamlReader + ParseConfig), dubbo.properties, Spring Boot application.yml —
// and the `check --json` report built from them.
//
//   agent_fuzz --corpus tests/agent/fuzz_corpus --iterations 2000 --seed 1     (ctest)
//   agent_fuzz --corpus tests/agent/fuzz_corpus --seconds 600 --seed $RANDOM   (by hand)
//
// Corpus: agent configs (agent-*.yaml; "@DIR@" stands for the directory the provider files
// are written to), provider files (dubbo.properties, *.yml) and anything else (mutated as
// any of them). Each iteration mutates one agent config and one provider file, writes them,
// and runs LoadConfigFile -> Resolve -> RunCheck(json) in process. Checks: only the
// documented errors (ConfigError) are thrown, nothing crashes, every input is done within
// --input-timeout (SIGALRM aborts with the input saved), memory stays under --memory-mb
// (RLIMIT_AS: an allocation failure is a finding), and the JSON report — or the JSON error
// document when the config does not load — is valid UTF-8 and valid JSON. A finding is
// saved as <out>/finding-<n>-{agent.yaml,provider} and the exit status is 1.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "zkop/agent/check.h"
#include "zkop/agent/config.h"
#include "zkop/agent/resolve.h"
#include "zkop/dubbo/url_encode.h"
// cpprest defines a macro U; include it last.
#include <cpprest/json.h>

namespace fs = std::filesystem;

namespace {

// Ports 20880-20890 listen; pids are not visible (every rule path is reachable).
class FuzzProbe : public zkop::agent::PortProbe {
 public:
  zkop::agent::ListenTable Probe() override {
    zkop::agent::ListenTable t;
    for (int p = 20880; p <= 20890; ++p) t.by_port[p].push_back({"0.0.0.0", p, 0, p % 3 ? 0 : 7});
    return t;
  }
  std::optional<zkop::agent::ProcessInfo> Describe(int pid) override {
    return zkop::agent::ProcessInfo{pid, "java -jar app.jar", "/"};
  }
};

const char* g_current = "";  // what is being run, for the alarm handler
void OnAlarm(int) {
  const char msg[] = "agent_fuzz: HANG: an input took longer than --input-timeout: ";
  (void)!write(2, msg, sizeof msg - 1);
  (void)!write(2, g_current, std::strlen(g_current));
  (void)!write(2, "\n", 1);
  _exit(3);
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Write(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

// Mutations that reach the readers' corners: YAML and Properties syntax, aliases, deep
// nesting, invalid UTF-8, huge numbers, duplicated lines.
std::string Mutate(std::string s, const std::vector<std::string>& others, std::mt19937_64& rng) {
  static const std::vector<std::string> kTokens = {"&a ",
                                                   "*a",
                                                   "<<: *a",
                                                   "[",
                                                   "]",
                                                   "{",
                                                   "}",
                                                   ": ",
                                                   ":",
                                                   "- ",
                                                   "\n",
                                                   "\n  ",
                                                   "#",
                                                   "!",
                                                   "\\",
                                                   "\\u",
                                                   "\\u12",
                                                   "\"",
                                                   "'",
                                                   "---\n",
                                                   "...\n",
                                                   "?",
                                                   "|",
                                                   ">",
                                                   "\t",
                                                   "\xff",
                                                   "\xc3",
                                                   "\xed\xa0\x80",
                                                   "\xe2\x80\xa8",
                                                   "0.0.0.0",
                                                   "localhost",
                                                   "::",
                                                   "999.1.1.1",
                                                   "-1",
                                                   "0",
                                                   "65536",
                                                   "99999999999999999999",
                                                   "/dev/zero",
                                                   ",,,",
                                                   "%",
                                                   "&",
                                                   "=",
                                                   "null",
                                                   "~",
                                                   "true",
                                                   "spring.profiles",
                                                   "dubbo.protocol.port",
                                                   "dubbo.protocol.name=dubb",
                                                   "interface",
                                                   "methods",
                                                   "port",
                                                   "class",
                                                   std::string(70, '['),
                                                   "\x00"};
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  int rounds = 1 + static_cast<int>(pick(4));
  for (int r = 0; r < rounds; ++r) {
    size_t at = pick(s.size() + 1);
    switch (pick(8)) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1:
      case 2:  // insert a token
        s.insert(at, kTokens[pick(kTokens.size())]);
        break;
      case 3:  // delete a range
        if (!s.empty()) s.erase(at, 1 + pick(16));
        break;
      case 4: {  // duplicate a line
        size_t b = s.rfind('\n', at);
        b = b == std::string::npos ? 0 : b + 1;
        size_t e = s.find('\n', at);
        std::string line = s.substr(b, e == std::string::npos ? e : e - b + 1);
        s.insert(b, line);
        break;
      }
      case 5: {  // splice from another corpus file
        const std::string& o = others[pick(others.size())];
        size_t from = pick(o.size() + 1);
        s.insert(at, o.substr(from, 1 + pick(64)));
        break;
      }
      case 6:  // repeat a piece (size, nesting)
        if (!s.empty()) {
          std::string piece = s.substr(at == s.size() ? 0 : at, 1 + pick(8));
          for (size_t k = pick(64); k > 0; --k) s.insert(at, piece);
        }
        break;
      default:  // a random byte
        s.insert(at, 1, static_cast<char>(rng()));
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus, out = "";
  uint64_t seed = 1;
  long iterations = 1000, seconds = 0, input_timeout = 10, memory_mb = 2048;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--corpus")
      corpus = v;
    else if (k == "--seed")
      seed = std::stoull(v);
    else if (k == "--iterations")
      iterations = std::stol(v);
    else if (k == "--seconds")
      seconds = std::stol(v);
    else if (k == "--input-timeout")
      input_timeout = std::stol(v);
    else if (k == "--memory-mb")
      memory_mb = std::stol(v);
    else if (k == "--out")
      out = v;
    else {
      std::cerr << "agent_fuzz: unknown flag " << k << "\n";
      return 2;
    }
  }
  if (corpus.empty()) {
    std::cerr << "usage: agent_fuzz --corpus DIR [--seed N] [--iterations N | --seconds N] "
                 "[--input-timeout S] [--memory-mb M] [--out DIR]\n";
    return 2;
  }
  std::vector<std::string> configs, providers, all;
  std::vector<std::string> provider_names;
  for (const auto& e : fs::directory_iterator(corpus)) {
    std::string name = e.path().filename();
    std::string text = Read(e.path());
    all.push_back(text);
    if (name.rfind("agent-", 0) == 0) {
      configs.push_back(text);
    } else {
      providers.push_back(text);
      provider_names.push_back(name);
    }
  }
  if (configs.empty() || providers.empty()) {
    std::cerr << "agent_fuzz: the corpus needs agent-*.yaml and provider files\n";
    return 2;
  }
  char tmpl[] = "/tmp/zkop-fuzz-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  if (out.empty()) out = dir;
  rlimit as{static_cast<rlim_t>(memory_mb) << 20, static_cast<rlim_t>(memory_mb) << 20};
  setrlimit(RLIMIT_AS, &as);
  signal(SIGALRM, OnAlarm);
  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  long done = 0, loaded = 0, findings = 0;
  std::string current;
  for (long it = 0;; ++it) {
    if (seconds > 0 ? std::chrono::steady_clock::now() - start > std::chrono::seconds(seconds)
                    : it >= iterations)
      break;
    std::string config = configs[rng() % configs.size()];
    size_t pi = rng() % providers.size();
    std::string provider = providers[pi];
    bool mutate_config = rng() % 2 == 0;
    if (mutate_config) config = Mutate(config, all, rng);
    if (!mutate_config || rng() % 3 == 0) provider = Mutate(provider, all, rng);
    // The sources point at the provider file under both names.
    for (size_t p; (p = config.find("@DIR@")) != std::string::npos;) config.replace(p, 5, dir);
    Write(dir / "agent.yaml", config);
    Write(dir / "dubbo.properties", provider_names[pi] == "dubbo.properties" ? provider : provider);
    Write(dir / "application.yml", provider);
    current = "seed " + std::to_string(seed) + " iteration " + std::to_string(it) + " (" +
              (dir / "agent.yaml").string() + ")";
    g_current = current.c_str();
    alarm(static_cast<unsigned>(input_timeout));
    std::string report, failure;
    try {
      try {
        zkop::agent::AgentConfig c = zkop::agent::LoadConfigFile(dir / "agent.yaml");
        auto declared = zkop::agent::Resolve(
            c, [](const std::string&) { return std::nullopt; },
            [] { return std::vector<std::string>{"10.9.8.7"}; });
        FuzzProbe probe;
        std::ostringstream json;
        zkop::agent::RunCheck(c, declared, probe, true, json);
        report = json.str();
        ++loaded;
      } catch (const zkop::config::ConfigError& e) {
        std::ostringstream json;
        zkop::agent::PrintCheckError(e.what(), true, json);
        report = json.str();
      }
      if (!zkop::dubbo::IsValidUtf8(report)) {
        failure = "the JSON report is not valid UTF-8";
      } else {
        try {
          web::json::value::parse(report);
        } catch (const std::exception& e) {
          failure = std::string("the JSON report does not parse: ") + e.what();
        }
      }
    } catch (const std::bad_alloc&) {
      failure = "out of memory (over --memory-mb)";
    } catch (const std::exception& e) {
      failure = std::string("unexpected exception: ") + e.what();
    }
    alarm(0);
    ++done;
    if (!failure.empty()) {
      ++findings;
      fs::path f = fs::path(out) / ("finding-" + std::to_string(findings));
      Write(f.string() + "-agent.yaml", config);
      Write(f.string() + "-provider", provider);
      std::cerr << "agent_fuzz: FINDING at " << current << ": " << failure << "\n  saved as "
                << f.string() << "-{agent.yaml,provider}\n";
      if (findings >= 10) break;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "agent_fuzz: seed " << seed << ": " << done << " inputs (" << loaded
            << " loaded, the rest refused with a message) in " << secs << " s, " << findings
            << " findings\n";
  if (findings == 0 && out == dir.string()) fs::remove_all(dir);
  return findings == 0 ? 0 : 1;
}
