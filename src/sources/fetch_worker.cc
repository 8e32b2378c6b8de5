// src/sources/fetch_worker.cc

#include "sources/fetch_worker.h"

namespace hotfix {
namespace internal {
namespace {

// How often StopAndJoin() re-aborts the worker's request while waiting for it
// to exit (a request that began just after one abort is caught by the next).
constexpr absl::Duration kStopRetry = absl::Milliseconds(10);

}  // namespace

void StopAndJoin(FetchWorker* worker, absl::Duration grace) {
  const SteadyTime grace_end = DeadlineAfter(grace);
  worker->mu.Lock();
  worker->stop = true;
  worker->cv.SignalAll();
  if (grace > absl::ZeroDuration()) {
    while (!worker->done && worker->cv.WaitUntil(&worker->mu, grace_end)) {
    }
  }
  while (!worker->done) {
    worker->mu.Unlock();
    if (worker->fetcher != nullptr) worker->fetcher->Cancel();
    worker->mu.Lock();
    const SteadyTime retry = DeadlineAfter(kStopRetry);
    while (!worker->done && worker->cv.WaitUntil(&worker->mu, retry)) {
    }
  }
  worker->mu.Unlock();
  worker->thread.join();
}

}  // namespace internal
}  // namespace hotfix
