// tools/hotfixd/store/sql_args.h
//
// Statement arguments both stores understand: an empty string or a zero that
// is stored as SQL NULL (optional columns).
//
// Thread-safe: plain values.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_SQL_ARGS_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_SQL_ARGS_H_

#include <cstdint>
#include <string>

namespace hotfix {
namespace hotfixd {

// Binds NULL for an empty string, else the text.
struct NullIfEmpty {
  const std::string& text;
};
// Binds NULL for 0, else the number.
struct NullIfZero {
  std::uint64_t value;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_SQL_ARGS_H_
