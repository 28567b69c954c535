#include "c_log.h"

#include <stdio.h>
#include <zookeeper/zookeeper.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace zkop::zk::internal {
namespace {

const log::Logger& Logger() {
  static const log::Logger logger("zk.c");
  return logger;
}

constexpr std::chrono::milliseconds kRefusedConnectPause(50);

// At most kBurst lines per kWindow; the number dropped is reported when the window ends.
constexpr int kBurst = 20;
constexpr std::chrono::seconds kWindow(10);
std::mutex g_rate_mu;
std::chrono::steady_clock::time_point g_window_start;
int g_in_window = 0;
long g_dropped = 0;

bool Admit() {
  std::lock_guard<std::mutex> lock(g_rate_mu);
  auto now = std::chrono::steady_clock::now();
  if (now - g_window_start >= kWindow) {
    if (g_dropped > 0) {
      Logger().Warn("suppressed C client log lines", {{"count", g_dropped}});
    }
    g_window_start = now;
    g_in_window = 0;
    g_dropped = 0;
  }
  if (g_in_window >= kBurst) {
    ++g_dropped;
    return false;
  }
  ++g_in_window;
  return true;
}

// A C client line: "<date> <time>,<ms>:<pid>(0x<tid>):ZOO_ERROR@<func>@<line>: <text>\n".
void Route(std::string_view line) {
  // The C client retries refused connections without pause (~3000 attempts per second, a
  // whole core, when no server listens). It logs each refusal on the handle's I/O thread,
  // which has no connection at that point, so pausing here paces the retries.
  if (line.find("errno=111(") != std::string_view::npos) {  // ECONNREFUSED
    std::this_thread::sleep_for(kRefusedConnectPause);
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return;
  log::Level level = log::Level::kDebug;
  std::string_view text = line;
  if (size_t at = line.find(":ZOO_"); at != std::string_view::npos) {
    std::string_view rest = line.substr(at + 5);
    if (rest.substr(0, 5) == "ERROR")
      level = log::Level::kWarn;
    else if (rest.substr(0, 4) == "WARN")
      level = log::Level::kInfo;
    size_t first_at = rest.find('@');
    if (first_at != std::string_view::npos) {
      std::string_view func_and_more = rest.substr(first_at + 1);
      size_t second_at = func_and_more.find('@');
      size_t colon = func_and_more.find(": ");
      if (second_at != std::string_view::npos && colon != std::string_view::npos) {
        text = func_and_more.substr(colon + 2);
        std::string func(func_and_more.substr(0, second_at));
        if (level < log::MinLevel() || !Admit()) return;
        log::Write(level, "zk.c", text, {{"func", func}});
        return;
      }
    }
  }
  if (level < log::MinLevel() || !Admit()) return;
  log::Write(level, "zk.c", text);
}

// A FILE* whose writes go to Route(): catches lines the C client logs without a handle.
ssize_t CookieWrite(void*, const char* buf, size_t size) {
  std::string_view chunk(buf, size);
  while (!chunk.empty()) {
    size_t nl = chunk.find('\n');
    Route(chunk.substr(0, nl));
    if (nl == std::string_view::npos) break;
    chunk.remove_prefix(nl + 1);
  }
  return static_cast<ssize_t>(size);
}

std::once_flag g_init;
bool g_level_set = false;

ZooLogLevel ToZoo(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return ZOO_LOG_LEVEL_DEBUG;
    case log::Level::kInfo:
      return ZOO_LOG_LEVEL_INFO;
    case log::Level::kWarn:
      return ZOO_LOG_LEVEL_WARN;
    case log::Level::kError:
      return ZOO_LOG_LEVEL_ERROR;
  }
  return ZOO_LOG_LEVEL_WARN;
}

}  // namespace

void InitCLogOnce() {
  std::call_once(g_init, [] {
    cookie_io_functions_t io{};
    io.write = &CookieWrite;
    if (FILE* stream = fopencookie(nullptr, "w", io); stream != nullptr) {
      setvbuf(stream, nullptr, _IOLBF, 0);
      zoo_set_log_stream(stream);  // lives for the whole process, like stderr
    }
    std::lock_guard<std::mutex> lock(g_rate_mu);
    if (!g_level_set) zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  });
}

void SetCLogLevel(log::Level level) {
  {
    std::lock_guard<std::mutex> lock(g_rate_mu);
    g_level_set = true;
  }
  zoo_set_debug_level(ToZoo(level));
}

void CLogCallback(const char* message) {
  if (message != nullptr) Route(message);
}

}  // namespace zkop::zk::internal
