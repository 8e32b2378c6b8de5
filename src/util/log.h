// src/util/log.h
//
// Library-internal logging into the sink installed by hotfix::SetLogSink.
//
// Thread-safe, and fork-safe: the sink is called without any lock held, and
// the lock that guards which sink is installed is held across fork().

#ifndef HOTFIX_SRC_UTIL_LOG_H_
#define HOTFIX_SRC_UTIL_LOG_H_

#include <string_view>

#include "hotfix/log.h"

namespace hotfix {
namespace internal {

// The public hotfix::Log (hotfix/log.h), under the name the library uses.
using ::hotfix::Log;

// True if a message at `level` would be delivered (to skip formatting).
bool LogEnabled(LogLevel level);

// EnsureLogForkSafe()
//
// Registers the log's pthread_atfork handlers now (they hold its lock across
// fork()). Code that registers fork handlers taking locks under which it
// logs calls this first: prepare handlers run in the reverse order of
// registration, so the log's lock, innermost in every lock order, is then
// taken last.
void EnsureLogForkSafe();

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_LOG_H_
