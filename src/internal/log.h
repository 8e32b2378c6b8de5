// src/internal/log.h
//
// Library-internal logging into the sink installed by hotfix::SetLogSink.
//
// Thread-safe.

#ifndef HOTFIX_SRC_INTERNAL_LOG_H_
#define HOTFIX_SRC_INTERNAL_LOG_H_

#include <string_view>

#include "hotfix/log.h"

namespace hotfix {
namespace internal {

// Log()
//
// Sends `message` to the sink if `level` passes the sink's threshold.
// Cost: an atomic load when filtered out; else a lock and the sink's cost.
void Log(LogLevel level, std::string_view message);

// True if a message at `level` would be delivered (to skip formatting).
bool LogEnabled(LogLevel level);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_INTERNAL_LOG_H_
