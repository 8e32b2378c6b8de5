// tools/hotfixd/http/thread_pool.h
//
// ElasticThreadPool is the cpp-httplib task queue hotfixd installs. The
// server runs one connection per task, for the connection's whole life (an
// SSE stream holds its thread until the client leaves), so the pool must be
// able to hold --max-streams streams plus --workers other connections at
// once. cpp-httplib's own ThreadPool starts all its threads up front; this
// one starts a thread only when a task finds none idle, up to `max_threads`,
// and keeps it for later tasks. Beyond `max_threads` tasks wait in a queue.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_THREAD_POOL_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace hotfix {
namespace hotfixd {

class ElasticThreadPool : public httplib::TaskQueue {
 public:
  explicit ElasticThreadPool(std::size_t max_threads);
  ~ElasticThreadPool() override;

  // Cost: a lock; starts a thread when none is idle (about 20 µs).
  void enqueue(std::function<void()> fn) override;
  // Runs the queued tasks to completion, then joins every thread.
  void shutdown() override;

  std::size_t threads() const;

 private:
  void Work();

  const std::size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_THREAD_POOL_H_
