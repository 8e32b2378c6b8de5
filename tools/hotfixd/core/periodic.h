// tools/hotfixd/core/periodic.h
//
// PeriodicTask runs a function every `period` on its own thread until
// stopped: hotfixd's housekeeping (expiring undecided change requests).
//
// Thread-safe. Stop() (also the destructor) waits for a run in progress.
// The period is measured on the steady clock, so a step of the wall clock
// (NTP, or a test's libfaketime) neither stalls nor hurries it.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_PERIODIC_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_PERIODIC_H_

#include <functional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "util/sync.h"

namespace hotfix {
namespace hotfixd {

class PeriodicTask {
 public:
  PeriodicTask(absl::Duration period, std::function<void()> run)
      : period_(period), run_(std::move(run)), thread_([this] { Loop(); }) {}
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Stop() {
    {
      internal::MutexLock lock(&mu_);
      stopping_ = true;
    }
    wake_.SignalAll();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    internal::MutexLock lock(&mu_);
    for (;;) {
      const internal::SteadyTime next = internal::DeadlineAfter(period_);
      while (!stopping_ && wake_.WaitUntil(&mu_, next)) {
      }
      if (stopping_) return;
      mu_.Unlock();
      run_();
      mu_.Lock();
    }
  }

  const absl::Duration period_;
  const std::function<void()> run_;
  internal::Mutex mu_;
  internal::CondVar wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_PERIODIC_H_
