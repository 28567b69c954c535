// Many threads resolve names and IP literals while the hosts file is replaced underneath
// them, as the pod runtime does when Pods come and go. Run with LD_PRELOAD set to what the
// runtime preloads (ctest pod_runtime.NssLookupsSurviveHostsFileReplacement); with
// libnss_wrapper alone it dies of heap corruption within a few hundred replacements.
// Usage: nss_lookup_stress HOSTS_FILE REPLACEMENTS
#include <netdb.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: nss_lookup_stress HOSTS_FILE REPLACEMENTS\n");
    return 2;
  }
  const std::string hosts = argv[1];
  const int replacements = std::atoi(argv[2]);
  auto write_hosts = [&](int members) {
    const std::string tmp = hosts + ".tmp";
    {
      std::ofstream f(tmp);
      f << "127.0.0.1 localhost\n";
      for (int k = 1; k <= members; ++k) {
        f << "127.42.0." << k << " demo-" << k << ".demo-headless.default.svc.cluster.local demo-"
          << k << "\n";
      }
    }
    std::rename(tmp.c_str(), hosts.c_str());
  };
  write_hosts(1);
  std::atomic<bool> stop{false};
  std::atomic<long> resolved{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const char* name = t % 2 ? "127.42.0.1" : "demo-1.demo-headless.default.svc.cluster.local";
      while (!stop) {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* result = nullptr;
        if (getaddrinfo(name, "2181", &hints, &result) == 0) {
          freeaddrinfo(result);
          ++resolved;
        }
      }
    });
  }
  for (int i = 0; i < replacements; ++i) {
    write_hosts(1 + i % 7);
    usleep(1000);
  }
  stop = true;
  for (auto& t : threads) t.join();
  std::printf("%d replacements, %ld lookups\n", replacements, resolved.load());
  return resolved > 0 ? 0 : 1;
}
