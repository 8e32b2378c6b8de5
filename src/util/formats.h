// src/util/formats.h
//
// How a flag-set document says which format it is written in, for the
// compiler and for the tools that edit documents (header-only).
//
// Thread-safe (pure functions).

#ifndef HOTFIX_SRC_UTIL_FORMATS_H_
#define HOTFIX_SRC_UTIL_FORMATS_H_

#include <string_view>

namespace hotfix {
namespace internal {

// IsFlagdSchema()
//
// True for a "$schema" that names flagd's flag-definition schema, e.g.
// "https://flagd.dev/schema/v0/flags.json".
inline bool IsFlagdSchema(std::string_view schema) {
  return schema.find("flagd.dev/schema/") != std::string_view::npos;
}

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_UTIL_FORMATS_H_
