// restart_process: the program really is replaced (same pid), with its new arguments and the added
// environment variable. The test binary restarts itself; the restarted copy exits at start-up.
#include "core/reexec.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace slidesparse {
namespace {

constexpr const char* kVariable = "SLIDESPARSE_TEST_RESTARTED_AS";

// The restarted process stops here, before any test runs, with the exit code the parent passed.
[[maybe_unused]] const bool kRestartedChildExits = [] {
  if (const char* code = std::getenv(kVariable)) std::_Exit(std::atoi(code));
  return false;
}();

TEST(RestartProcess, ReplacesTheProgramKeepingThePid) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      restart_process({"--gtest_list_tests"}, kVariable, "37");
    } catch (...) {
    }
    std::_Exit(1);  // only if exec failed
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);  // the pid we forked is the one that exits 37
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 37);
}

}  // namespace
}  // namespace slidesparse
