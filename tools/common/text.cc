// tools/common/text.cc

#include "common/text.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace hotfix {
namespace tools {

std::string FormatTime(std::int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                          absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

std::string FormatNumber(double value) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return absl::StrCat(value);
  return std::string(buf, end);
}

std::string SanitizeForLog(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      absl::StrAppend(
          &out, "\\x",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out;
}

std::size_t CountCharacters(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    // Continuation bytes (10xxxxxx) do not start a character.
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace tools
}  // namespace hotfix
