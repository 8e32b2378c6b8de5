// src/util/js_number.h
//
// JavaScript's conversions between numbers and strings, for flagd targeting
// (json-logic-engine runs in JavaScript): String(n) (ECMAScript
// Number::toString, shortest round-trip digits) and Number(s)
// (StringToNumber: trimmed, "" is 0, hex/octal/binary prefixes, Infinity).
//
// Thread-safe (pure functions); no allocation.

#ifndef HOTFIX_SRC_UTIL_JS_NUMBER_H_
#define HOTFIX_SRC_UTIL_JS_NUMBER_H_

#include <cstddef>
#include <string_view>

namespace hotfix {
namespace internal {

// Enough for every double's JavaScript string form.
inline constexpr std::size_t kJsNumberChars = 32;

// JsNumberToString()
//
// Writes String(d) as JavaScript would ("1", "1.5", "1e+21", "-0" as "0",
// "NaN", "Infinity") into `out` (at least kJsNumberChars bytes) and returns
// its length.
std::size_t JsNumberToString(double d, char* out) noexcept;

// JsStringToNumber()
//
// Number(s) as JavaScript computes it: NaN when `s` is not a numeric
// literal. Whitespace handled: ASCII, U+00A0, U+FEFF.
double JsStringToNumber(std::string_view s) noexcept;

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_JS_NUMBER_H_
