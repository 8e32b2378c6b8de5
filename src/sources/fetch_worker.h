// src/sources/fetch_worker.h
//
// FetchWorker is what a background thread that talks to the server (a
// PollSource's, a StreamSource's, the client's telemetry) shares with its
// owner: the stop handshake, the fetcher and the thread. The owner ends it
// with StopAndJoin(), or, in a forked child where the thread did not survive
// fork(), with AbandonInForkedChild(). Each source derives its Worker from it
// and adds its own state.
//
// A worker is replaced, never reused, after fork(): the old one may be
// locked by a thread that no longer exists.
//
// Thread-safe as annotated; `fetcher`, `thread` and `pid` are set by the owner
// before the thread starts.

#ifndef HOTFIX_SRC_SOURCES_FETCH_WORKER_H_
#define HOTFIX_SRC_SOURCES_FETCH_WORKER_H_

#include <unistd.h>

#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "sources/http_fetcher.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

struct FetchWorker {
  Mutex mu;
  CondVar cv;
  bool stop ABSL_GUARDED_BY(mu) = false;  // set by the owner
  bool done ABSL_GUARDED_BY(mu) = false;  // set by the thread as it exits
  std::unique_ptr<HttpFetcher> fetcher;   // may be null (telemetry only)
  std::thread thread;
  // The process that created the worker (see InForkedChild()).
  const int pid = ::getpid();
};

// The thread's last act, with `worker->mu` held: marks it done and wakes
// StopAndJoin().
inline void MarkDone(FetchWorker* worker)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(worker->mu) {
  worker->done = true;
  worker->cv.SignalAll();
}

// True in a forked child that did not restart `worker`: its thread is the
// parent's, and does not exist here.
inline bool InForkedChild(const FetchWorker& worker) {
  return worker.pid != ::getpid();
}

// StopAndJoin()
//
// Sets `stop`, lets the thread finish for up to `grace`, then aborts its
// request in flight (if it has a fetcher) until it is done, and joins it.
// The thread must be joinable and this process's.
void StopAndJoin(FetchWorker* worker,
                 absl::Duration grace = absl::ZeroDuration());

// AbandonInForkedChild()
//
// Forgets `*worker` (if any) in a forked child: its lock and connection must
// not be touched (see HttpFetcher::AbandonInForkedChild), and the rest is
// deliberately leaked.
template <typename Worker>
void AbandonInForkedChild(std::unique_ptr<Worker>* worker) {
  if (*worker == nullptr) return;
  HttpFetcher::AbandonInForkedChild(std::move((*worker)->fetcher));
  worker->release();  // NOLINT: deliberately leaked
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_FETCH_WORKER_H_
