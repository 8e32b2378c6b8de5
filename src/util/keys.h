// src/util/keys.h
//
// What a flag, segment or environment key may be (docs/flag-format.md): 1-256
// bytes of [A-Za-z0-9._-], but not "." or ".." (proxies normalise those out
// of URL paths, so such a flag could not be killed through one). Shared by
// the compiler and hotfixd. Header-only.

#ifndef HOTFIX_SRC_UTIL_KEYS_H_
#define HOTFIX_SRC_UTIL_KEYS_H_

#include <cstddef>
#include <string_view>

namespace hotfix {
namespace internal {

inline constexpr std::size_t kMaxKeyBytes = 256;

inline bool IsValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  if (key == "." || key == "..") return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_KEYS_H_
