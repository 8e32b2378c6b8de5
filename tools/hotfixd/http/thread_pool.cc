// tools/hotfixd/http/thread_pool.cc

#include "http/thread_pool.h"

#include <cstdio>
#include <system_error>
#include <utility>

namespace hotfix {
namespace hotfixd {

ElasticThreadPool::ElasticThreadPool(std::size_t max_threads)
    : max_threads_(max_threads < 1 ? 1 : max_threads) {}

ElasticThreadPool::~ElasticThreadPool() { shutdown(); }

void ElasticThreadPool::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mu_);
  jobs_.push_back(std::move(fn));
  if (!shutdown_ && jobs_.size() > idle_ && threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { Work(); });
    } catch (const std::system_error& e) {
      // Out of threads (ulimit -u, memory): the task waits for a free one.
      std::fprintf(stderr,
                   "hotfixd: warning: cannot start a thread (%s); "
                   "%zu running\n",
                   e.what(), threads_.size());
    }
  }
  lock.unlock();
  cv_.notify_one();
}

void ElasticThreadPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (std::thread& t : threads) {
    if (t.joinable()) t.join();
  }
}

std::size_t ElasticThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

void ElasticThreadPool::Work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++idle_;
      cv_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // shutting down, nothing left
      fn = std::move(jobs_.front());
      jobs_.pop_front();
    }
    fn();
  }
}

}  // namespace hotfixd
}  // namespace hotfix
