// tools/hotfixd/store/sql_args.h
//
// Statement arguments both stores understand: SqlArg, one typed value that
// each backend binds its own way (SQLite natively, PostgreSQL as text), and
// the wrappers for optional columns, an empty string or a zero that is
// stored as SQL NULL.
//
// Example:
//
//   SqlArgs args = {row.env, row.version, NullIfEmpty{row.patch_key}};
//
// Thread-safe: plain values.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_SQL_ARGS_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_SQL_ARGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

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

// One argument of a statement ($1, $2, ...): NULL, text, a signed or
// unsigned 64-bit integer, or a boolean (SQLite stores it as 0 or 1,
// PostgreSQL as a BOOLEAN). Converts implicitly from each of them, so a
// braced list of values is an SqlArgs.
class SqlArg {
 public:
  using Value = std::variant<std::monostate, std::string, std::int64_t,
                             std::uint64_t, bool>;

  SqlArg(std::string text) : value_(std::move(text)) {}
  SqlArg(const char* text) : value_(std::string(text)) {}
  SqlArg(std::int64_t v) : value_(v) {}
  SqlArg(int v) : value_(std::int64_t{v}) {}
  SqlArg(std::uint64_t v) : value_(v) {}
  SqlArg(bool v) : value_(v) {}
  SqlArg(NullIfEmpty v) {
    if (!v.text.empty()) value_ = v.text;
  }
  SqlArg(NullIfZero v) {
    if (v.value != 0) value_ = v.value;
  }
  SqlArg(const std::optional<std::string>& v) {
    if (v.has_value()) value_ = *v;
  }

  const Value& value() const { return value_; }

 private:
  Value value_;
};

using SqlArgs = std::vector<SqlArg>;

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_SQL_ARGS_H_
