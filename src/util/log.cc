#include "util/log.h"

#include <cxxabi.h>

#include <atomic>
#include <cstdio>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace hotfix {
namespace {

struct SinkState {
  absl::Mutex mu;
  LogSink sink ABSL_GUARDED_BY(mu);
};

SinkState& State() {
  static SinkState* const state = new SinkState;  // never destroyed
  return *state;
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
  SinkState& state = State();
  absl::MutexLock lock(&state.mu);
  state.sink = std::move(sink);
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

namespace internal {

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

}  // namespace internal

void Log(LogLevel level, std::string_view message) {
  if (!internal::LogEnabled(level)) return;
  SinkState& state = State();
  absl::MutexLock lock(&state.mu);
  if (state.sink) {
    try {
      state.sink(level, message);
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
