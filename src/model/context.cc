#include "hotfix/context.h"

namespace hotfix {

Context& Context::Put(std::string_view name, const AttributeValue& value,
                      bool replace) {
  if (name == "key") {
    if (value.type == AttributeValue::Type::kString)
      set_key(value.string_value);
    return *this;  // a non-string key is ignored: keys are strings
  }
  for (std::size_t i = 0; replace && i < size_; ++i) {
    Attribute& a =
        i < kInlineAttributes ? inline_[i] : overflow_[i - kInlineAttributes];
    if (a.name == name) {
      a.value = value;
      return *this;
    }
  }
  if (size_ < kInlineAttributes) {
    inline_[size_] = Attribute{name, value};
  } else {
    overflow_.push_back(Attribute{name, value});
  }
  ++size_;
  return *this;
}

Context& Context::Set(std::string_view name, std::string_view value) {
  AttributeValue v;
  v.type = AttributeValue::Type::kString;
  v.string_value = value;
  return Put(name, v);
}

Context& Context::Set(std::string_view name, bool value) {
  AttributeValue v;
  v.type = AttributeValue::Type::kBool;
  v.bool_value = value;
  return Put(name, v);
}

Context& Context::SetNumber(std::string_view name, double value) {
  AttributeValue v;
  v.type = AttributeValue::Type::kNumber;
  v.number_value = value;
  return Put(name, v);
}

Context& Context::Add(std::string_view name, std::string_view value) {
  AttributeValue v;
  v.type = AttributeValue::Type::kString;
  v.string_value = value;
  return Put(name, v, /*replace=*/false);
}

Context& Context::Add(std::string_view name, bool value) {
  AttributeValue v;
  v.type = AttributeValue::Type::kBool;
  v.bool_value = value;
  return Put(name, v, /*replace=*/false);
}

Context& Context::AddNumber(std::string_view name, double value) {
  AttributeValue v;
  v.type = AttributeValue::Type::kNumber;
  v.number_value = value;
  return Put(name, v, /*replace=*/false);
}

const AttributeValue* Context::Find(std::string_view name) const noexcept {
  if (name.size() == 3 && name == "key") return has_key_ ? &key_ : nullptr;
  const std::size_t inline_count =
      size_ < kInlineAttributes ? size_ : kInlineAttributes;
  for (std::size_t i = 0; i < inline_count; ++i) {
    if (inline_[i].name == name) return &inline_[i].value;
  }
  for (const Attribute& a : overflow_) {
    if (a.name == name) return &a.value;
  }
  return nullptr;
}

}  // namespace hotfix
