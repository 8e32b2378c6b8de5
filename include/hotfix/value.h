// include/hotfix/value.h
//
// Value is the result of evaluating a flag: a boolean, a string, a number or a
// JSON document (as its serialized text). It is a small trivially-copyable
// view; string data it points at is owned by the Snapshot or Client that
// produced it.
//
// Thread-compatible (a plain value type).

#ifndef HOTFIX_VALUE_H_
#define HOTFIX_VALUE_H_

#include <cstdint>
#include <string_view>

#include "hotfix/export.h"

namespace hotfix {

// The type of a flag's variants. The numeric values are frozen (C ABI).
enum class ValueType : std::uint8_t {
  kNone = 0,  // no value: the caller's default applies
  kBool = 1,
  kString = 2,
  kNumber = 3,
  kJson = 4,  // object or array, carried as serialized JSON text
};

// Returns "none", "bool", "string", "number" or "json".
HOTFIX_EXPORT std::string_view ValueTypeName(ValueType type) noexcept;

struct Value {
  ValueType type = ValueType::kNone;
  bool bool_value = false;
  double number_value = 0;
  // kString: the string; kJson: the serialized document.
  std::string_view string_value;

  static constexpr Value Bool(bool b) noexcept {
    Value v;
    v.type = ValueType::kBool;
    v.bool_value = b;
    return v;
  }
  static constexpr Value Number(double d) noexcept {
    Value v;
    v.type = ValueType::kNumber;
    v.number_value = d;
    return v;
  }
  static constexpr Value String(std::string_view s) noexcept {
    Value v;
    v.type = ValueType::kString;
    v.string_value = s;
    return v;
  }
  static constexpr Value Json(std::string_view s) noexcept {
    Value v;
    v.type = ValueType::kJson;
    v.string_value = s;
    return v;
  }
};

}  // namespace hotfix

#endif  // HOTFIX_VALUE_H_
