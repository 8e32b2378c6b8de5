// tools/hotfixd/core/periodic.h
//
// PeriodicTask runs a function every `period` on its own thread until
// stopped: hotfixd's housekeeping (expiring undecided change requests).
//
// Thread-safe. Stop() (also the destructor) waits for a run in progress.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_PERIODIC_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_PERIODIC_H_

#include <functional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

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
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), period_);
      if (stopping_) return;
      mu_.Unlock();
      run_();
      mu_.Lock();
    }
  }

  const absl::Duration period_;
  const std::function<void()> run_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_PERIODIC_H_
