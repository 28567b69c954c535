#include "zkop/testing/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "zkop/testing/temp_dir.h"

namespace zkop::testing {
namespace {

using std::chrono::milliseconds;

bool Alive(pid_t pid) { return kill(pid, 0) == 0; }

TEST(SubprocessTest, CapturesOutputAndExitCode) {
  TempDir dir("subprocess");
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "echo out; echo err >&2; echo $ZKOP_X; exit 3"};
  o.env = {"ZKOP_X=from-env"};
  o.output_file = dir.Path("out.log");
  Subprocess p(o);
  EXPECT_EQ(p.Wait(milliseconds(5000)), 3);
  EXPECT_EQ(ReadFile(dir.Path("out.log")), "out\nerr\nfrom-env\n");
}

TEST(SubprocessTest, MissingProgramIsASetupError) {
  try {
    Subprocess p(std::vector<std::string>{"/nonexistent/zkop-no-such-program"});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/zkop-no-such-program"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

TEST(SubprocessTest, KillReachesTheWholeProcessGroupAndReaps) {
  TempDir dir("subprocess");
  pid_t grandchild = 0;
  pid_t child = 0;
  {
    Subprocess p(std::vector<std::string>{
        "/bin/sh", "-c", "sleep 300 & echo $! > " + dir.Path("gc.pid") + "; wait"});
    child = p.pid();
    for (int i = 0; i < 200 && ReadFile(dir.Path("gc.pid")).empty(); ++i) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    grandchild = std::stoi(ReadFile(dir.Path("gc.pid")));
    EXPECT_TRUE(p.Running());
    EXPECT_TRUE(Alive(grandchild));
  }                            // destructor: SIGKILL to the group + reap
  EXPECT_FALSE(Alive(child));  // reaped: not even a zombie
  for (int i = 0; i < 200 && Alive(grandchild); ++i) std::this_thread::sleep_for(milliseconds(10));
  // The grandchild is reaped by init; it must at least be dead (a zombie at worst).
  std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
  std::string pid, comm, state;
  if (stat >> pid >> comm >> state) {
    EXPECT_EQ(state, "Z");
  }
}

TEST(SubprocessTest, TerminateStopsAPausedProcess) {
  Subprocess p(std::vector<std::string>{"/bin/sleep", "300"});
  ASSERT_TRUE(p.Signal(SIGSTOP));
  int status = p.Terminate(milliseconds(2000));
  EXPECT_EQ(status, -SIGTERM);
  EXPECT_FALSE(p.Running());
  EXPECT_FALSE(p.Signal(SIGTERM));
}

TEST(SubprocessTest, WaitTimesOut) {
  Subprocess p(std::vector<std::string>{"/bin/sleep", "300"});
  EXPECT_EQ(p.Wait(milliseconds(50)), std::nullopt);
  p.Kill();
  EXPECT_EQ(p.ExitStatus(), -SIGKILL);
}

}  // namespace
}  // namespace zkop::testing
