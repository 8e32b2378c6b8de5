// src/util/json_string.h
//
// AppendJsonString(): a string as a JSON string literal (quoted, with `"`,
// `\` and control characters escaped; other bytes, UTF-8 included, copied
// as they are). The one copy, for compile errors that quote a document's
// text and for the bodies the SDK writes itself (telemetry). Header-only.

#ifndef HOTFIX_SRC_UTIL_JSON_STRING_H_
#define HOTFIX_SRC_UTIL_JSON_STRING_H_

#include <string>
#include <string_view>

namespace hotfix {
namespace internal {

// Cost: one pass over `s`; appends to `out` in place.
inline void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_JSON_STRING_H_
