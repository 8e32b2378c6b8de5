#include "util/log.h"

#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <utility>

#include "util/forced_unwind.h"
#include "util/sync.h"

namespace hotfix {
namespace {

// The installed sink. The lock guards only the pointer: a message is sent
// through a copy of it, after the lock is released, so a slow sink (syslog,
// Python's GIL) never holds a lock that another thread or fork() needs.
struct SinkState {
  internal::Mutex mu;
  std::shared_ptr<const LogSink> sink ABSL_GUARDED_BY(mu);
};

void PrepareFork();
void AfterFork();

SinkState& State() {
  static SinkState* const state = [] {
    auto* s = new SinkState;  // never destroyed
    // The lock is held across fork(), so the child never inherits it from a
    // thread that is gone (see EnsureLogForkSafe()).
    pthread_atfork(&PrepareFork, &AfterFork, &AfterFork);
    return s;
  }();
  return *state;
}

void PrepareFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { State().mu.Lock(); }
void AfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { State().mu.Unlock(); }

std::shared_ptr<const LogSink> CurrentSink() {
  SinkState& state = State();
  internal::MutexLock lock(&state.mu);
  return state.sink;
}

std::atomic<int> min_level{static_cast<int>(LogLevel::kWarning)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

}  // namespace

void SetLogSink(LogSink sink, LogLevel level) {
  std::shared_ptr<const LogSink> next;
  if (sink) next = std::make_shared<const LogSink>(std::move(sink));
  SinkState& state = State();
  {
    internal::MutexLock lock(&state.mu);
    state.sink.swap(next);
    min_level.store(static_cast<int>(level), std::memory_order_relaxed);
  }
  // `next` now holds the old sink: released outside the lock, and only once
  // no thread is still sending through it.
}

namespace internal {

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void EnsureLogForkSafe() { State(); }

}  // namespace internal

HOTFIX_LETS_FORCED_UNWIND_THROUGH
void Log(LogLevel level, std::string_view message) {
  if (!internal::LogEnabled(level)) return;
  const std::shared_ptr<const LogSink> sink = CurrentSink();
  if (sink != nullptr) {
    try {
      (*sink)(level, message);
    } catch (abi::__forced_unwind&) {
      throw;  // pthread_exit() or cancellation: the thread must end
    } catch (...) {
      // A throwing sink must not take the source thread down with it.
    }
    return;
  }
  std::fprintf(stderr, "hotfix %s: %.*s\n", LevelName(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace hotfix
