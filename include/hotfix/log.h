// include/hotfix/log.h
//
// The library's only output channel. hotfix never writes to stdout; by default
// warnings and errors go to stderr. Install a sink to route them to your
// logger.
//
// Thread-safe: SetLogSink may race with logging threads. The sink is called
// without the log's own lock held, possibly from several threads at once
// (and a sink just replaced by SetLogSink may still receive a message in
// flight), so it must itself be thread-safe; it must not call back into
// hotfix. A thread inside the sink when another thread calls fork() does not
// block the child's logging.

#ifndef HOTFIX_LOG_H_
#define HOTFIX_LOG_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "hotfix/export.h"

namespace hotfix {

enum class LogLevel : std::uint8_t {
  kDebug = 0,
  kInfo = 1,
  kWarning = 2,
  kError = 3
};

using LogSink = std::function<void(LogLevel level, std::string_view message)>;

// Replaces the process-wide sink; an empty function restores the default
// (stderr). Messages below `min_level` are dropped. Default: kWarning.
HOTFIX_EXPORT void SetLogSink(LogSink sink,
                              LogLevel min_level = LogLevel::kWarning);

// Log()
//
// Sends `message` through the installed sink (or to stderr) if `level` passes
// its threshold: the library's own messages, and those of code built on it
// (the C and Python bindings report misuse this way).
//
// Cost: an atomic load when filtered out; else a short lock (to copy the
// sink's pointer) and the sink's cost.
HOTFIX_EXPORT void Log(LogLevel level, std::string_view message);

}  // namespace hotfix

#endif  // HOTFIX_LOG_H_
