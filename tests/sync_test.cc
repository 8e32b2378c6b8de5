// The library's locks (src/util/sync.h): deadlines on the steady clock that
// saturate instead of overflowing, timed waits that end at their deadline,
// and a condition variable that a forked child can still use and destroy
// after a parent thread was waiting on it at the fork.

#include "util/sync.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>
#include <type_traits>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "support/child_thread.h"

extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }

namespace hotfix {
namespace internal {
namespace {

// Timed waits accept nothing but a steady-clock deadline: a wall-clock time
// point does not even compile.
static_assert(std::is_invocable_v<decltype(&CondVar::WaitUntil), CondVar&,
                                  Mutex*, SteadyTime>);
static_assert(
    !std::is_invocable_v<decltype(&CondVar::WaitUntil), CondVar&, Mutex*,
                         std::chrono::system_clock::time_point>);

TEST(DeadlineTest, InfiniteAndHugeTimeoutsMeanNever) {
  EXPECT_EQ(DeadlineAfter(absl::InfiniteDuration()), SteadyTime::max());
  EXPECT_EQ(DeadlineAfter(absl::Hours(24 * 365 * 1000)), SteadyTime::max());
}

TEST(DeadlineTest, FiniteTimeoutsAreOffsetsFromNowOnTheSteadyClock) {
  const SteadyTime before = SteadyClock::now();
  const SteadyTime deadline = DeadlineAfter(absl::Seconds(10));
  const SteadyTime after = SteadyClock::now();
  EXPECT_GE(deadline, before + std::chrono::seconds(10));
  EXPECT_LE(deadline, after + std::chrono::seconds(10));
  // Zero and negative timeouts: already due.
  const SteadyTime zero = DeadlineAfter(absl::ZeroDuration());
  const SteadyTime negative = DeadlineAfter(-absl::Seconds(5));
  const SteadyTime now = SteadyClock::now();
  EXPECT_LE(zero, now);
  EXPECT_LE(negative, now);
}

TEST(CondVarTest, WaitUntilAPastDeadlineReturnsFalse) {
  Mutex mu;
  CondVar cv;
  MutexLock lock(&mu);
  EXPECT_FALSE(cv.WaitUntil(&mu, SteadyClock::now()));
  EXPECT_FALSE(cv.WaitUntil(&mu, DeadlineAfter(-absl::Seconds(1))));
}

TEST(CondVarTest, SignalWakesAWaiterWithoutADeadline) {
  Mutex mu;
  CondVar cv;
  bool ready = false;
  std::thread signaller([&] {
    MutexLock lock(&mu);
    ready = true;
    cv.SignalAll();
  });
  {
    MutexLock lock(&mu);
    while (!ready) cv.WaitUntil(&mu, SteadyTime::max());
  }
  signaller.join();
  EXPECT_TRUE(ready);
}

TEST(CondVarTest,
     ForkedChildUsesAndDestroysAConditionVariableWithAParentWaiter) {
  struct Shared {
    Mutex mu;
    CondVar cv;
    bool release = false;
  };
  auto shared = std::make_unique<Shared>();
  std::thread waiter([&] {
    MutexLock lock(&shared->mu);
    while (!shared->release) shared->cv.Wait(&shared->mu);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it wait
  shared->mu.Lock();  // held across fork(), as a prepare handler does
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);  // a hang ends as SIGALRM, a failure of the test
    shared->cv.ResetInChild();
    shared->mu.Unlock();
    testing_support::ChildThread child_waiter([&] {
      MutexLock lock(&shared->mu);
      shared->cv.WaitUntil(&shared->mu, DeadlineAfter(absl::Milliseconds(20)));
    });
    shared->cv.SignalAll();
    child_waiter.Join();
    shared.reset();  // destroys the condition variable
    _exit(0);
  }
  shared->release = true;
  shared->cv.SignalAll();
  shared->mu.Unlock();
  waiter.join();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << (WIFSIGNALED(status) ? "child killed by signal " : "child status ")
      << (WIFSIGNALED(status) ? WTERMSIG(status) : status);
}

}  // namespace
}  // namespace internal
}  // namespace hotfix
