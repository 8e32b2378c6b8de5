// tests/support/real_monotonic.c
//
// A preload for the year-ahead test run (`./scripts/dev soak`, pass 4): waits
// against an absolute CLOCK_MONOTONIC deadline go straight to the kernel.
//
// Why: libfaketime 0.9.10 (Debian 12) shifts every absolute deadline by its
// fake offset, also a CLOCK_MONOTONIC one while FAKETIME_DONT_FAKE_MONOTONIC
// is set, turning it into a negative time that the kernel refuses (EINVAL):
//  - Boost.Asio arms an already-expired timer as "absolute 1 ns" on its
//    CLOCK_MONOTONIC timerfd, so hotfixd's event-loop timers (header and
//    request deadlines) stop firing;
//  - Python 3.11's time.sleep() is clock_nanosleep(CLOCK_MONOTONIC,
//    TIMER_ABSTIME), so every sleep raises OSError.
// Loaded before libfaketime, these functions win the symbol lookup.
// timerfd_settime() always goes to the kernel (nothing under test uses a
// CLOCK_REALTIME timerfd); clock_nanosleep() does so for the monotonic clocks
// and hands the others on to libfaketime.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                    struct itimerspec* old_value) {
  return (int)syscall(SYS_timerfd_settime, fd, flags, new_value, old_value);
}

int timerfd_gettime(int fd, struct itimerspec* curr_value) {
  return (int)syscall(SYS_timerfd_gettime, fd, curr_value);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec* request,
                    struct timespec* remain) {
  if (clock == CLOCK_MONOTONIC || clock == CLOCK_MONOTONIC_RAW ||
      clock == CLOCK_BOOTTIME) {
    // Returns the error number itself, as clock_nanosleep() does.
    return syscall(SYS_clock_nanosleep, clock, flags, request, remain) == 0
               ? 0
               : errno;
  }
  typedef int (*ClockNanosleep)(clockid_t, int, const struct timespec*,
                                struct timespec*);
  static ClockNanosleep next = NULL;
  if (next == NULL) next = (ClockNanosleep)dlsym(RTLD_NEXT, "clock_nanosleep");
  if (next == NULL) return ENOSYS;
  return next(clock, flags, request, remain);
}
