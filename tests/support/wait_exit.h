// tests/support/wait_exit.h
//
// WaitExit() reaps a child process (a forked test child, a spawned hotfixd)
// within a deadline, so that a child that hangs fails the test instead of
// hanging it.
//
// Thread-safe.

#ifndef HOTFIX_TESTS_SUPPORT_WAIT_EXIT_H_
#define HOTFIX_TESTS_SUPPORT_WAIT_EXIT_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace hotfix {
namespace testing_support {

// Waits for `pid` at most `timeout`; returns its exit code, or -1 after a
// SIGKILL when it did not exit in time (or died of a signal, or is not a
// child of this process).
inline int WaitExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_WAIT_EXIT_H_
