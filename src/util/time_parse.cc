// src/util/time_parse.cc
//
// RFC 3339 timestamp parsing without allocation (see time_parse.h). A small
// hand-written scanner rather than absl::ParseTime, which allocates.

#include "util/time_parse.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hotfix {
namespace internal {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1000000;
constexpr std::int64_t kSecondsPerDay = 86400;

// Reads exactly `n` decimal digits at text[*pos]; advances *pos.
bool ReadDigits(std::string_view text, std::size_t* pos, int n,
                int* out) noexcept {
  if (text.size() - *pos < static_cast<std::size_t>(n)) return false;
  int value = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool Expect(std::string_view text, std::size_t* pos, char c) noexcept {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

constexpr bool IsLeapYear(int y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int DaysInMonth(int y, int m) noexcept {
  constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, for
// 0 <= y <= 9999. Counts from a calendar whose year starts on March 1 so the
// leap day is the last day of its year; 400-year cycles have 146097 days.
constexpr std::int64_t DaysSinceEpoch(int y, int m, int d) noexcept {
  // Shift Jan/Feb to the end of the previous (March-based) year. The shifted
  // year is >= -1, so add one whole cycle to keep the arithmetic
  // non-negative.
  const int march_year = (m <= 2 ? y - 1 : y) + 400;
  const int month_index = m <= 2 ? m + 9 : m - 3;  // March = 0 ... Feb = 11
  const int cycle = march_year / 400;
  const int year_of_cycle = march_year % 400;  // [0, 399]
  // Days from March 1 to the first of month_index: 153 days per five months
  // (31+30+31+30+31), rounded per month.
  const int day_of_year = (153 * month_index + 2) / 5 + d - 1;
  const int day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 -
                           year_of_cycle / 100 + day_of_year;
  // The +400 shift makes `cycle` one more than the true (floored) cycle
  // number; 719468 is the number of days from 0000-03-01 to 1970-01-01.
  constexpr std::int64_t kMarch1Year0ToEpoch = 719468;
  return static_cast<std::int64_t>(cycle - 1) * 146097 + day_of_cycle -
         kMarch1Year0ToEpoch;
}

static_assert(DaysSinceEpoch(1970, 1, 1) == 0);
static_assert(DaysSinceEpoch(1970, 1, 2) == 1);
static_assert(DaysSinceEpoch(1969, 12, 31) == -1);
static_assert(DaysSinceEpoch(2000, 3, 1) == 11017);
static_assert(DaysSinceEpoch(2024, 2, 29) == 19782);
static_assert(DaysSinceEpoch(0, 1, 1) == -719528);

// Parses "YYYY-MM-DD" at text[*pos]; validates ranges.
bool ParseDate(std::string_view text, std::size_t* pos,
               std::int64_t* days) noexcept {
  int y = 0, m = 0, d = 0;
  if (!ReadDigits(text, pos, 4, &y) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, &m) || !Expect(text, pos, '-') ||
      !ReadDigits(text, pos, 2, &d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  *days = DaysSinceEpoch(y, m, d);
  return true;
}

// Parses everything after the date: "THH:MM:SS[.frac](Z|±HH:MM)" to the end.
bool ParseTimeOfDay(std::string_view text, std::size_t* pos,
                    std::int64_t* micros_of_day) noexcept {
  if (*pos >= text.size()) return false;
  const char sep = text[*pos];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  ++*pos;

  int hh = 0, mm = 0, ss = 0;
  if (!ReadDigits(text, pos, 2, &hh) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, &mm) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, &ss)) {
    return false;
  }
  if (hh > 23 || mm > 59 || ss > 60) return false;
  if (ss == 60) ss = 59;  // leap second

  std::int64_t frac_micros = 0;
  if (*pos < text.size() && text[*pos] == '.') {
    ++*pos;
    const std::size_t start = *pos;
    std::int64_t scale = 100000;
    while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
      frac_micros += (text[*pos] - '0') * scale;  // digits past 6: scale == 0
      scale /= 10;
      ++*pos;
    }
    if (*pos == start) return false;  // "." needs at least one digit
  }

  if (*pos >= text.size()) return false;  // the offset is required
  std::int64_t offset_seconds = 0;
  const char z = text[*pos];
  if (z == 'Z' || z == 'z') {
    ++*pos;
  } else if (z == '+' || z == '-') {
    ++*pos;
    int oh = 0, om = 0;
    if (!ReadDigits(text, pos, 2, &oh) || !Expect(text, pos, ':') ||
        !ReadDigits(text, pos, 2, &om)) {
      return false;
    }
    if (oh > 23 || om > 59) return false;
    offset_seconds = (oh * 3600 + om * 60) * (z == '-' ? -1 : 1);
  } else {
    return false;
  }
  if (*pos != text.size()) return false;

  // Local time minus the offset is UTC.
  const std::int64_t seconds = hh * 3600 + mm * 60 + ss - offset_seconds;
  *micros_of_day = seconds * kMicrosPerSecond + frac_micros;
  return true;
}

bool Parse(std::string_view text, bool allow_bare_date,
           std::int64_t* unix_micros) noexcept {
  std::size_t pos = 0;
  std::int64_t days;
  if (!ParseDate(text, &pos, &days)) return false;
  std::int64_t micros_of_day = 0;
  if (!(allow_bare_date && pos == text.size()) &&
      !ParseTimeOfDay(text, &pos, &micros_of_day)) {
    return false;
  }
  *unix_micros = days * kSecondsPerDay * kMicrosPerSecond + micros_of_day;
  return true;
}

}  // namespace

bool ParseRfc3339(std::string_view text, std::int64_t* unix_micros) noexcept {
  return Parse(text, /*allow_bare_date=*/false, unix_micros);
}

bool ParseDateOrRfc3339(std::string_view text,
                        std::int64_t* unix_micros) noexcept {
  return Parse(text, /*allow_bare_date=*/true, unix_micros);
}

}  // namespace internal
}  // namespace hotfix
