#include "zkop/devkube/pods/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::pods {
namespace {

using std::chrono::milliseconds;

// Live (non-zombie) processes of process group `pgid`, from /proc.
int LiveMembers(int pgid) {
  int live = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string stat = zkop::testing::ReadFile(entry.path().string() + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    int ppid, pgrp;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z') ++live;
  }
  return live;
}

std::optional<ExitStatus> WaitExit(ProcessLauncher& l, int pid) {
  for (int i = 0; i < 500; ++i) {
    if (auto e = l.Poll(pid)) return e;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return std::nullopt;
}

TEST(ProcessTest, RunsWithEnvCwdAndLogThenReportsExit) {
  zkop::testing::TempDir tmp("pod-process-test");
  auto launcher = MakeSystemLauncher();
  LaunchSpec spec;
  spec.argv = {"sh", "-c", "echo \"$GREETING from $(pwd)\"; echo oops >&2; exit 7"};
  spec.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  spec.cwd = tmp.path();
  spec.log_path = tmp.Path("out.log");
  std::string error;
  auto pid = launcher->Start(spec, &error);
  ASSERT_TRUE(pid) << error;
  auto exit = WaitExit(*launcher, *pid);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 7);
  EXPECT_EQ(zkop::testing::ReadFile(spec.log_path), "hello from " + tmp.path() + "\noops\n");
}

TEST(ProcessTest, SignalsReachTheWholeGroup) {
  auto launcher = MakeSystemLauncher();
  LaunchSpec spec;
  // The shell's child keeps running unless the signal reaches the group.
  spec.argv = {"sh", "-c", "sleep 30 & wait"};
  spec.env = {"PATH=/usr/bin:/bin"};
  std::string error;
  auto pid = launcher->Start(spec, &error);
  ASSERT_TRUE(pid) << error;
  std::this_thread::sleep_for(milliseconds(100));
  launcher->Signal(*pid, SIGTERM);
  auto exit = WaitExit(*launcher, *pid);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->signal, SIGTERM);
  EXPECT_EQ(exit->exit_code, 128 + SIGTERM);
  for (int i = 0; i < 100 && LiveMembers(*pid) > 0; ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(LiveMembers(*pid), 0);  // nothing of the group is left
}

TEST(ProcessTest, ExecFailureIsAnErrorNotAProcess) {
  auto launcher = MakeSystemLauncher();
  LaunchSpec spec;
  spec.argv = {"/nonexistent/program"};
  std::string error;
  EXPECT_FALSE(launcher->Start(spec, &error));
  EXPECT_EQ(error, "exec /nonexistent/program: No such file or directory");
  spec.argv = {"true"};
  spec.cwd = "/nonexistent-dir";
  EXPECT_FALSE(launcher->Start(spec, &error));
  EXPECT_EQ(error, "chdir /nonexistent-dir: No such file or directory");
}

TEST(ProcessTest, RunWithTimeoutKillsSlowCommands) {
  auto launcher = MakeSystemLauncher();
  LaunchSpec spec;
  spec.argv = {"sleep", "10"};
  spec.env = {"PATH=/usr/bin:/bin"};
  std::string error;
  EXPECT_FALSE(RunWithTimeout(*launcher, spec, milliseconds(100), &error));
  EXPECT_EQ(error, "timed out after 100ms");
  spec.argv = {"true"};
  auto exit = RunWithTimeout(*launcher, spec, milliseconds(2000), &error);
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->exit_code, 0);
}

}  // namespace
}  // namespace zkop::devkube::pods

namespace zkop::devkube::pods {
namespace {

// Run by ReaperKillsGrandchildrenWhenTheOwnerIsKilled in a child process: starts a shell
// whose background sleep is a grandchild, reports its pid, then waits to be SIGKILLed.
TEST(ProcessTest, ReaperHelper) {
  const char* out = std::getenv("ZKOP_REAPER_HELPER_OUT");
  if (!out) GTEST_SKIP() << "helper of ReaperKillsGrandchildrenWhenTheOwnerIsKilled";
  auto launcher = MakeSystemLauncher();
  LaunchSpec spec;
  spec.argv = {
      "sh", "-c",
      std::string("sleep 300 & echo $! > ") + out + ".tmp; mv " + out + ".tmp " + out + "; wait"};
  spec.env = {"PATH=/usr/bin:/bin"};
  std::string error;
  ASSERT_TRUE(launcher->Start(spec, &error)) << error;
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

TEST(ProcessTest, ReaperKillsGrandchildrenWhenTheOwnerIsKilled) {
  zkop::testing::TempDir tmp("pod-reaper-test");
  const std::string out = tmp.Path("grandchild.pid");
  auto launcher = MakeSystemLauncher();
  LaunchSpec spec;
  spec.argv = {"/proc/self/exe", "--gtest_filter=ProcessTest.ReaperHelper"};
  spec.env = {"PATH=/usr/bin:/bin", "ZKOP_REAPER_HELPER_OUT=" + out};
  spec.log_path = tmp.Path("helper.log");
  std::string error;
  // /proc/self/exe is resolved by the child: the test binary itself.
  auto owner = launcher->Start(spec, &error);
  ASSERT_TRUE(owner) << error;
  int grandchild = 0;
  for (int i = 0; i < 500 && grandchild == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    const std::string text = zkop::testing::ReadFile(out);
    if (!text.empty()) grandchild = std::stoi(text);
  }
  ASSERT_GT(grandchild, 0) << zkop::testing::ReadFile(spec.log_path);
  ASSERT_EQ(::kill(grandchild, 0), 0);  // alive while its owner lives
  // SIGKILL to the owner alone (not its group): no destructor, no atexit runs.
  ::kill(*owner, SIGKILL);
  ASSERT_TRUE(WaitExit(*launcher, *owner));
  // Gone: no /proc entry, or a zombie waiting for init.
  auto alive = [](int pid) {
    const std::string stat = zkop::testing::ReadFile("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
  };
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    gone = !alive(grandchild);
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived its owner";
}

}  // namespace
}  // namespace zkop::devkube::pods
