// tools/common/text.h
//
// Text helpers hotfixd and hotfixctl share: shared immutable text (documents
// and serialized events handed to many readers), RFC 3339 times, and log-safe
// rendering of user-supplied strings.
//
// Thread-safe: pure functions.

#ifndef HOTFIX_TOOLS_COMMON_TEXT_H_
#define HOTFIX_TOOLS_COMMON_TEXT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hotfix {
namespace tools {

// Immutable text shared by many readers (a flag-set document, an SSE event).
using SharedText = std::shared_ptr<const std::string>;

inline SharedText MakeShared(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// Unix microseconds as RFC 3339 UTC with millisecond precision:
// "2026-03-02T14:05:09.114Z".
std::string FormatTime(std::int64_t unix_micros);

// `text` with control characters (and DEL) escaped as \xNN, so a reason or an
// actor name cannot forge a log line.
std::string SanitizeForLog(std::string_view text);

// `value` in the shortest decimal form that reads back as the same double
// ("12.34567", "25", "1e-07"): what error messages and audit details echo.
std::string FormatNumber(double value);

// The number of Unicode characters in UTF-8 `text` (invalid bytes count one
// each): what limits stated "in characters" count.
std::size_t CountCharacters(std::string_view text);

}  // namespace tools
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_COMMON_TEXT_H_
