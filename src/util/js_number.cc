// src/util/js_number.cc

#include "util/js_number.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>

namespace hotfix {
namespace internal {
namespace {

bool IsSpaceAt(std::string_view s, std::size_t i, std::size_t* len) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
      c == '\r') {
    *len = 1;
    return true;
  }
  if (c == 0xC2 && i + 1 < s.size() &&
      static_cast<unsigned char>(s[i + 1]) == 0xA0) {
    *len = 2;  // U+00A0
    return true;
  }
  if (c == 0xEF && i + 2 < s.size() &&
      static_cast<unsigned char>(s[i + 1]) == 0xBB &&
      static_cast<unsigned char>(s[i + 2]) == 0xBF) {
    *len = 3;  // U+FEFF
    return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  std::size_t n = 0;
  while (!s.empty() && IsSpaceAt(s, 0, &n)) s.remove_prefix(n);
  for (;;) {
    bool cut = false;
    for (std::size_t k = 1; k <= 3 && k <= s.size(); ++k) {
      if (IsSpaceAt(s, s.size() - k, &n) && n == k) {
        s.remove_suffix(k);
        cut = true;
        break;
      }
    }
    if (!cut) break;
  }
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

double ParseRadix(std::string_view digits, int radix) {
  if (digits.empty()) return std::numeric_limits<double>::quiet_NaN();
  double v = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'Z') {
      d = c - 'A' + 10;
    } else {
      return std::numeric_limits<double>::quiet_NaN();
    }
    if (d >= radix) return std::numeric_limits<double>::quiet_NaN();
    v = v * radix + d;
  }
  return v;
}

}  // namespace

std::size_t JsNumberToString(double d, char* out) noexcept {
  if (std::isnan(d)) {
    std::memcpy(out, "NaN", 3);
    return 3;
  }
  if (d == 0) {
    out[0] = '0';
    return 1;
  }
  std::size_t pos = 0;
  if (d < 0) {
    out[pos++] = '-';
    d = -d;
  }
  if (std::isinf(d)) {
    std::memcpy(out + pos, "Infinity", 8);
    return pos + 8;
  }
  // Shortest round-trip digits in scientific form: "d.ddde+XX".
  char sci[kJsNumberChars];
  const auto r =
      std::to_chars(sci, sci + sizeof(sci), d, std::chars_format::scientific);
  const char* e = static_cast<const char*>(
      std::memchr(sci, 'e', static_cast<std::size_t>(r.ptr - sci)));
  char digits[24];
  int k = 0;
  for (const char* p = sci; p < e; ++p) {
    if (*p != '.') digits[k++] = *p;
  }
  int exponent = 0;
  std::from_chars(e[1] == '+' ? e + 2 : e + 1, r.ptr, exponent);
  const int n = exponent + 1;  // value = 0.digits * 10^n
  if (k <= n && n <= 21) {
    std::memcpy(out + pos, digits, k);
    pos += k;
    for (int i = k; i < n; ++i) out[pos++] = '0';
  } else if (0 < n && n <= 21) {
    std::memcpy(out + pos, digits, n);
    pos += n;
    out[pos++] = '.';
    std::memcpy(out + pos, digits + n, k - n);
    pos += k - n;
  } else if (-6 < n && n <= 0) {
    out[pos++] = '0';
    out[pos++] = '.';
    for (int i = 0; i < -n; ++i) out[pos++] = '0';
    std::memcpy(out + pos, digits, k);
    pos += k;
  } else {
    out[pos++] = digits[0];
    if (k > 1) {
      out[pos++] = '.';
      std::memcpy(out + pos, digits + 1, k - 1);
      pos += k - 1;
    }
    out[pos++] = 'e';
    out[pos++] = n - 1 >= 0 ? '+' : '-';
    const auto w = std::to_chars(out + pos, out + kJsNumberChars,
                                 n - 1 >= 0 ? n - 1 : 1 - n);
    pos = static_cast<std::size_t>(w.ptr - out);
  }
  return pos;
}

double JsStringToNumber(std::string_view s) noexcept {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  s = Trim(s);
  if (s.empty()) return 0;
  if (s.size() > 2 && s[0] == '0') {
    const char p = s[1];
    if (p == 'x' || p == 'X') return ParseRadix(s.substr(2), 16);
    if (p == 'o' || p == 'O') return ParseRadix(s.substr(2), 8);
    if (p == 'b' || p == 'B') return ParseRadix(s.substr(2), 2);
  }
  bool negative = false;
  std::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "Infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  // StrUnsignedDecimalLiteral: digits [. digits] | . digits, then [eE][+-]d+.
  std::size_t i = 0;
  std::size_t int_digits = 0;
  while (i < body.size() && IsDigit(body[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && IsDigit(body[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return kNaN;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < body.size() && IsDigit(body[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return kNaN;
  }
  if (i != body.size()) return kNaN;
  // from_chars does not take "5." or ".5" in every libstdc++; rebuild the
  // literal as "<int>.<frac>e<exp>" with at least one digit on each side.
  if (body.size() + 4 > 512) {
    double v = 0;
    const auto r = std::from_chars(body.data(), body.data() + body.size(), v);
    if (r.ec == std::errc::result_out_of_range) {
      v = body[0] == '0' || body[0] == '.' ? 0 : HUGE_VAL;
    }
    return negative ? -v : v;
  }
  // "5." -> "5.0", ".5" -> "0.5", "5.e3" -> "5.0e3".
  char fixed[520];
  std::size_t m = 0;
  if (int_digits == 0) fixed[m++] = '0';
  for (std::size_t j = 0; j < body.size(); ++j) {
    fixed[m++] = body[j];
    if (body[j] == '.' && (j + 1 == body.size() || !IsDigit(body[j + 1]))) {
      fixed[m++] = '0';
    }
  }
  double v = 0;
  const auto r = std::from_chars(fixed, fixed + m, v);
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow gives Infinity, underflow 0, as in JavaScript.
    bool nonzero_mantissa = false;
    for (std::size_t j = 0; j < m && fixed[j] != 'e' && fixed[j] != 'E'; ++j) {
      if (fixed[j] >= '1' && fixed[j] <= '9') nonzero_mantissa = true;
    }
    const char* ep = static_cast<const char*>(std::memchr(fixed, 'e', m));
    if (ep == nullptr)
      ep = static_cast<const char*>(std::memchr(fixed, 'E', m));
    const bool negative_exponent = ep != nullptr && ep[1] == '-';
    v = (!nonzero_mantissa || negative_exponent)
            ? 0
            : std::numeric_limits<double>::infinity();
  }
  return negative ? -v : v;
}

}  // namespace internal
}  // namespace hotfix
