// src/util/semver.cc
//
// Semantic Versioning 2.0.0 parsing and precedence (see semver.h).

#include "util/semver.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace hotfix {
namespace internal {
namespace {

constexpr bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr bool IsIdentifierChar(char c) noexcept {
  return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         c == '-';
}

bool AllDigits(std::string_view s) noexcept {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Parses a numeric version part (no leading zeros except "0", fits in
// uint64) starting at text[*pos]; advances *pos past it.
bool ParseNumber(std::string_view text, std::size_t* pos,
                 std::uint64_t* out) noexcept {
  std::size_t i = *pos;
  const std::size_t start = i;
  std::uint64_t value = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  while (i < text.size() && IsDigit(text[i])) {
    const std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (kMax - digit) / 10) return false;  // overflow
    value = value * 10 + digit;
    ++i;
  }
  if (i == start) return false;                           // empty
  if (i - start > 1 && text[start] == '0') return false;  // leading zero
  *pos = i;
  *out = value;
  return true;
}

// Validates a dot-separated identifier list: every identifier non-empty and
// made of [0-9A-Za-z-]; with `numeric_no_leading_zeros`, all-digit identifiers
// other than "0" may not start with '0' (pre-release rule; build metadata
// allows leading zeros).
bool ValidIdentifiers(std::string_view list,
                      bool numeric_no_leading_zeros) noexcept {
  if (list.empty()) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t end = list.find('.', start);
    if (end == std::string_view::npos) end = list.size();
    const std::string_view id = list.substr(start, end - start);
    if (id.empty()) return false;
    for (char c : id) {
      if (!IsIdentifierChar(c)) return false;
    }
    if (numeric_no_leading_zeros && id.size() > 1 && id[0] == '0' &&
        AllDigits(id)) {
      return false;
    }
    if (end == list.size()) return true;
    start = end + 1;
  }
}

// Splits off the next identifier of a dot-separated list; `rest` becomes what
// follows the dot (empty at the end).
std::string_view NextIdentifier(std::string_view* rest) noexcept {
  const std::size_t dot = rest->find('.');
  if (dot == std::string_view::npos) {
    const std::string_view id = *rest;
    *rest = std::string_view();
    return id;
  }
  const std::string_view id = rest->substr(0, dot);
  rest->remove_prefix(dot + 1);
  return id;
}

int Sign(int v) noexcept { return (v > 0) - (v < 0); }

template <typename T>
int ThreeWay(T a, T b) noexcept {
  return (a > b) - (a < b);
}

// Compares two valid pre-release identifiers by SemVer rules.
int CompareIdentifier(std::string_view a, std::string_view b) noexcept {
  const bool a_numeric = AllDigits(a);
  const bool b_numeric = AllDigits(b);
  if (a_numeric && b_numeric) {
    // No leading zeros, so a longer digit string is a larger number; this
    // also handles values that do not fit in any integer type.
    if (a.size() != b.size()) return ThreeWay(a.size(), b.size());
    return Sign(a.compare(b));
  }
  if (a_numeric) return -1;  // numeric identifiers sort below alphanumeric
  if (b_numeric) return 1;
  return Sign(a.compare(b));  // ASCII order
}

}  // namespace

bool ParseSemVer(std::string_view text, SemVer* out) noexcept {
  std::size_t pos = 0;
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) pos = 1;

  SemVer v;
  if (!ParseNumber(text, &pos, &v.major)) return false;
  if (pos >= text.size() || text[pos] != '.') return false;
  ++pos;
  if (!ParseNumber(text, &pos, &v.minor)) return false;
  if (pos >= text.size() || text[pos] != '.') return false;
  ++pos;
  if (!ParseNumber(text, &pos, &v.patch)) return false;

  std::string_view rest = text.substr(pos);
  if (!rest.empty() && rest[0] == '-') {
    rest.remove_prefix(1);
    std::size_t plus = rest.find('+');
    if (plus == std::string_view::npos) plus = rest.size();
    const std::string_view prerelease = rest.substr(0, plus);
    if (!ValidIdentifiers(prerelease, /*numeric_no_leading_zeros=*/true)) {
      return false;
    }
    v.prerelease = prerelease;
    rest.remove_prefix(plus);
  }
  if (!rest.empty() && rest[0] == '+') {
    rest.remove_prefix(1);
    if (!ValidIdentifiers(rest, /*numeric_no_leading_zeros=*/false)) {
      return false;
    }
    rest = std::string_view();
  }
  if (!rest.empty()) return false;
  *out = v;
  return true;
}

int CompareSemVer(const SemVer& a, const SemVer& b) noexcept {
  if (a.major != b.major) return ThreeWay(a.major, b.major);
  if (a.minor != b.minor) return ThreeWay(a.minor, b.minor);
  if (a.patch != b.patch) return ThreeWay(a.patch, b.patch);

  // A release has higher precedence than any of its pre-releases.
  if (a.prerelease.empty() || b.prerelease.empty()) {
    return ThreeWay(a.prerelease.empty(), b.prerelease.empty());
  }
  std::string_view ra = a.prerelease;
  std::string_view rb = b.prerelease;
  while (!ra.empty() && !rb.empty()) {
    const int c = CompareIdentifier(NextIdentifier(&ra), NextIdentifier(&rb));
    if (c != 0) return c;
  }
  // A shorter list of identifiers sorts first when all else ties.
  return ThreeWay(!ra.empty(), !rb.empty());
}

}  // namespace internal
}  // namespace hotfix
