// tools/hotfixd/http/worker_pool.h
//
// WorkerPool runs the requests that may block (admin writes wait for an
// fsync; history and audit read the database) on a fixed set of threads, so
// the event loops never wait. The queue is bounded: past it, TrySubmit
// refuses and the front answers 503 + Retry-After instead of buffering
// without end.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_WORKER_POOL_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_WORKER_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hotfix {
namespace hotfixd {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t max_queued);
  // Runs what is queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // TrySubmit()
  //
  // Queues `job`; false (and `job` dropped) when max_queued jobs wait.
  //
  // Cost: a lock and a notify.
  bool TrySubmit(std::function<void()> job);

  // Jobs waiting or running.
  std::size_t load() const;

 private:
  void Work();

  const std::size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  std::size_t running_ = 0;                 // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_WORKER_POOL_H_
