// src/util/strings.h
//
// Bridges std::string_view (public API) and absl::string_view (Debian's
// Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so the two are
// distinct types): heterogeneous hash lookups and absl::StrCat need the latter.
// The one copy of this bridge, for the library and the tools (header-only).

#ifndef HOTFIX_SRC_UTIL_STRINGS_H_
#define HOTFIX_SRC_UTIL_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace hotfix {
namespace internal {

inline absl::string_view ToAbsl(std::string_view s) noexcept {
  return absl::string_view(s.data(), s.size());
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_STRINGS_H_
