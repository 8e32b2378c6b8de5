// include/hotfix/context.h
//
// Context describes who or what a flag is evaluated for: a key (user id,
// request id, tenant...) plus typed attributes that rules test. It is built on
// the stack per request and costs nothing to throw away.
//
// Context is a *view*: it stores std::string_view, never copies of the
// strings, so every string passed in must outlive the evaluations that use the
// Context. Passing a temporary std::string is rejected at compile time.
//
// Thread-compatible: build it in one thread, then share it read-only freely.
//
// Example:
//
//   hotfix::Context ctx("user-42");
//   ctx.Set("region", "eu").Set("app_version", "4.2.0").Set("age_days", 31);
//   if (flags.Enabled("fix-123", ctx)) { ... }

#ifndef HOTFIX_CONTEXT_H_
#define HOTFIX_CONTEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hotfix/export.h"

namespace hotfix {

// One attribute value. Numbers are doubles (integers up to 2^53 are exact).
struct AttributeValue {
  enum class Type : std::uint8_t { kString, kNumber, kBool };
  Type type = Type::kString;
  bool bool_value = false;
  double number_value = 0;
  std::string_view string_value;
};

class HOTFIX_EXPORT Context {
 public:
  // Attributes stored without allocating; more than this spill to the heap.
  static constexpr std::size_t kInlineAttributes = 8;

  // Cost: a handful of stores; the inline attribute storage is left
  // uninitialized (only the first size() entries are ever read).
  Context() noexcept {}
  explicit Context(std::string_view key) noexcept { set_key(key); }
  Context(const Context& other) = default;
  Context& operator=(const Context& other) = default;
  Context(Context&& other) = default;
  Context& operator=(Context&& other) = default;
  explicit Context(const char* key) noexcept : Context(std::string_view(key)) {}
  Context(std::string&&) = delete;  // would dangle: pass a longer-lived string

  // Set()
  //
  // Adds or replaces attribute `name`. The attribute named "key" is the
  // context key itself and is set with set_key() instead.
  //
  // Cost: a linear scan over the attributes; no allocation up to
  // kInlineAttributes attributes.
  Context& Set(std::string_view name, std::string_view value);
  Context& Set(std::string_view name, const char* value) {
    return Set(name, std::string_view(value));
  }
  Context& Set(std::string_view name, std::string&&) = delete;  // would dangle
  Context& Set(std::string_view name, bool value);
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T> &&
                                                    !std::is_same_v<T, bool>>>
  Context& Set(std::string_view name, T value) {
    return SetNumber(name, static_cast<double>(value));
  }
  Context& SetNumber(std::string_view name, double value);

  // Add()
  //
  // Appends attribute `name` without looking for an earlier one, for callers
  // whose names are distinct by construction (the keys of a map): building a
  // context of n attributes with Set() costs O(n^2) comparisons, with Add()
  // O(n). Adding a name that is already set keeps both entries, and Find()
  // returns the first. "key" sets the context key, as with Set().
  //
  // Cost: no scan; no allocation up to kInlineAttributes attributes.
  Context& Add(std::string_view name, std::string_view value);
  Context& Add(std::string_view name, const char* value) {
    return Add(name, std::string_view(value));
  }
  Context& Add(std::string_view name, std::string&&) = delete;  // would dangle
  Context& Add(std::string_view name, bool value);
  Context& AddNumber(std::string_view name, double value);

  void set_key(std::string_view key) noexcept {
    key_.string_value = key;
    has_key_ = true;
  }
  bool has_key() const noexcept { return has_key_; }
  std::string_view key() const noexcept { return key_.string_value; }

  // Find()
  //
  // Returns the attribute `name`, or nullptr. "key" finds the context key (as a
  // string) when one is set.
  //
  // Cost: a linear scan; no allocation.
  const AttributeValue* Find(std::string_view name) const noexcept;

  std::size_t size() const noexcept { return size_; }

 private:
  struct Attribute {
    std::string_view name;
    AttributeValue value;
  };
  // Stores `value` as attribute `name`; with `replace`, over an earlier
  // attribute of that name.
  Context& Put(std::string_view name, const AttributeValue& value,
               bool replace = true);

  AttributeValue key_;  // the context key, as a string attribute
  bool has_key_ = false;
  std::size_t size_ = 0;
  // Not value-initialized: building a Context on the stack must not zero
  // kInlineAttributes entries. Attribute is trivially copyable, so copies are
  // plain byte copies.
  union {
    Attribute inline_[kInlineAttributes];
  };
  std::vector<Attribute> overflow_;
};

}  // namespace hotfix

#endif  // HOTFIX_CONTEXT_H_
