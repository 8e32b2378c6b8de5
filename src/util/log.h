// src/util/log.h
//
// Library-internal logging into the sink installed by hotfix::SetLogSink.
//
// Thread-safe.

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

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_LOG_H_
