// src/util/sync.h
//
// The library's locks: Mutex, MutexLock and CondVar are std::mutex and
// std::condition_variable with Abseil's thread-safety annotations, timed waits
// that take steady-clock deadlines only, and what a forked child needs to keep
// using them. Every lock in src/ is one of these; hotfixd's threads that wait
// with a timeout use them too (header-only, so tools can).
//
// Why not absl::Mutex:
//  - fork(): absl::Mutex keeps its waiter queue in user space, so a thread
//    that was queued on a mutex when another thread forked stays queued in
//    the child, where it does not exist; the child's next Unlock() hands the
//    lock to that dead thread and everything after it hangs. A std::mutex is
//    one futex word: a pthread_atfork prepare handler can hold it across
//    fork() and both parent and child unlock it (the child has no waiters).
//  - time: Abseil 20220623 turns every timed wait into an absolute
//    CLOCK_REALTIME futex deadline, so a wall-clock step (NTP, or libfaketime)
//    stalls the wait by the size of the step. CondVar::WaitUntil takes only a
//    std::chrono::steady_clock deadline (CLOCK_MONOTONIC underneath).
//
// A condition variable cannot be held across fork(): glibc's records its
// waiters (and has an internal lock) in the object itself, and a thread that
// was waiting at the moment of the fork never signs off in the child, where
// destroying the condition variable then waits for it forever. A forked child
// therefore re-creates, with CondVar::ResetInChild(), every CondVar that
// another thread may have been waiting on, before anything else touches it.

// Thread-safe, except ResetInChild().
//
// Example:
//
//   Mutex mu;
//   CondVar cv;
//   bool done ABSL_GUARDED_BY(mu) = false;
//   ...
//   const SteadyTime deadline = DeadlineAfter(absl::Seconds(1));
//   MutexLock lock(&mu);
//   while (!done && cv.WaitUntil(&mu, deadline)) {
//   }
//   if (!done) { /* timed out */ }

#ifndef HOTFIX_SRC_UTIL_SYNC_H_
#define HOTFIX_SRC_UTIL_SYNC_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace hotfix {
namespace internal {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// DeadlineAfter()
//
// SteadyClock::now() + `timeout`: now for a negative timeout,
// SteadyTime::max() ("never") for absl::InfiniteDuration() or a timeout too
// long to represent.
//
// Cost: one clock read.
inline SteadyTime DeadlineAfter(absl::Duration timeout) {
  const SteadyTime now = SteadyClock::now();
  if (timeout <= absl::ZeroDuration()) return now;
  if (timeout == absl::InfiniteDuration() ||
      timeout >= absl::FromChrono(SteadyTime::max() - now)) {
    return SteadyTime::max();
  }
  return now + std::chrono::duration_cast<SteadyClock::duration>(
                   absl::ToChronoNanoseconds(timeout));
}

// SinceSteady()
//
// Time elapsed on the steady clock since `start` (for health and silence
// measurements, which must not jump with the wall clock either).
inline absl::Duration SinceSteady(SteadyTime start) {
  return absl::FromChrono(SteadyClock::now() - start);
}

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Wait()
  //
  // Releases `mu`, waits for SignalAll() (or a spurious wake-up), re-takes
  // `mu`. Callers re-check their condition in a loop.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held; the caller's lock owns it
  }

  // WaitUntil()
  //
  // As Wait(), at most until `deadline` on the steady clock
  // (SteadyTime::max(): no deadline). Returns false if the deadline has
  // passed, true otherwise.
  bool WaitUntil(Mutex* mu, SteadyTime deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (deadline == SteadyTime::max()) {
      Wait(mu);
      return true;
    }
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait_until(lock, deadline);
    lock.release();  // still held; the caller's lock owns it
    return SteadyClock::now() < deadline;
  }

  // Wakes every waiter.
  void SignalAll() { cv_.notify_all(); }

  // ResetInChild()
  //
  // In a forked child, before any thread of the child uses this CondVar:
  // forgets the waiters of the parent's threads (the old state is abandoned,
  // not destroyed, since destroying it would wait for them).
  void ResetInChild() { new (&cv_) std::condition_variable(); }

 private:
  std::condition_variable cv_;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_SYNC_H_
