// tests/support/child_thread.h
//
// ChildThread is a thread for a child process forked from a multi-threaded
// test. glibc hands a new thread the cached stack of a thread that existed in
// the parent (and so that thread's id); ThreadSanitizer's thread registry
// still lists the parent's threads in the child and aborts on such a
// "duplicate" thread. A ChildThread asks for a stack larger than any a
// default thread uses, which no cached stack satisfies.
//
// Thread-compatible: start and join from the same thread.

#ifndef HOTFIX_TESTS_SUPPORT_CHILD_THREAD_H_
#define HOTFIX_TESTS_SUPPORT_CHILD_THREAD_H_

#include <pthread.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>

namespace hotfix {
namespace testing_support {

class ChildThread {
 public:
  explicit ChildThread(std::function<void()> body) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, std::size_t{32} << 20);
    auto* owned = new std::function<void()>(std::move(body));
    if (pthread_create(&thread_, &attr, &Run, owned) != 0) std::abort();
    pthread_attr_destroy(&attr);
  }
  ~ChildThread() { Join(); }
  ChildThread(const ChildThread&) = delete;
  ChildThread& operator=(const ChildThread&) = delete;

  void Join() {
    if (joined_) return;
    pthread_join(thread_, nullptr);
    joined_ = true;
  }

 private:
  static void* Run(void* arg) {
    std::unique_ptr<std::function<void()>> body(
        static_cast<std::function<void()>*>(arg));
    (*body)();
    return nullptr;
  }

  pthread_t thread_;
  bool joined_ = false;
};

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_CHILD_THREAD_H_
