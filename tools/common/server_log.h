// tools/common/server_log.h
//
// The server's log: one line per event on stderr, each stamped with an RFC
// 3339 UTC time, as text
//
//   2026-12-06T18:22:01.123Z hotfixd: production v3 flag.kill by alice ...
//
// or, with SetLogFormat(kJson) (hotfixd --log-format json), as one JSON
// object per line for log collectors:
//
//   {"time":"2026-12-06T18:22:01.123Z","level":"info","msg":"...","env":...}
//
// Messages and field values are user-influenced (reasons, actor names, paths):
// text lines escape control characters, JSON lines are JSON. Never log a
// token.
//
// Thread-safe: lines from different threads never interleave.

#ifndef HOTFIX_TOOLS_COMMON_SERVER_LOG_H_
#define HOTFIX_TOOLS_COMMON_SERVER_LOG_H_

#include <initializer_list>
#include <string_view>
#include <utility>

namespace hotfix {
namespace tools {

enum class LogFormat { kText, kJson };
enum class LogSeverity { kInfo, kWarning, kError };

// Default: kText. Set once at start-up.
void SetLogFormat(LogFormat format);

using LogField = std::pair<std::string_view, std::string_view>;

// ServerLog()
//
// Writes one line. In text form the fields follow the message as
// " key=value"; in JSON they are members.
//
// Cost: formats and writes one line under a lock.
void ServerLog(LogSeverity severity, std::string_view message,
               std::initializer_list<LogField> fields = {});

inline void LogInfo(std::string_view message,
                    std::initializer_list<LogField> fields = {}) {
  ServerLog(LogSeverity::kInfo, message, fields);
}
inline void LogWarning(std::string_view message,
                       std::initializer_list<LogField> fields = {}) {
  ServerLog(LogSeverity::kWarning, message, fields);
}
inline void LogError(std::string_view message,
                     std::initializer_list<LogField> fields = {}) {
  ServerLog(LogSeverity::kError, message, fields);
}

}  // namespace tools
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_COMMON_SERVER_LOG_H_
