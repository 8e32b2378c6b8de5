// src/eval/json_logic.cc
//
// JSON Logic evaluation with json-logic-engine 5.0.7's compiled-mode
// semantics and flagd-core 4.0.1's custom operators. Each rule below cites
// the JavaScript it reproduces; tests/flagd_test.cc and the differential test
// against @openfeature/flagd-core (tests/openfeature/) hold them to it.

#include "eval/json_logic.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "util/js_number.h"
#include "util/murmur3.h"
#include "util/semver.h"

namespace hotfix {
namespace internal {
namespace {

using Kind = JlValue::Kind;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Largest integer JavaScript represents exactly (semver's MAX_SAFE_INTEGER).
constexpr double kMaxSafeInteger = 9007199254740991.0;

bool IsObjectLike(const JlValue& v) {
  return v.kind == Kind::kArray || v.kind == Kind::kObject;
}

// +v for a primitive (null → 0, booleans → 0/1, strings → Number(s)).
double ToNumber(const JlValue& v) {
  switch (v.kind) {
    case Kind::kNull:
      return 0;
    case Kind::kBool:
      return v.boolean ? 1 : 0;
    case Kind::kNumber:
      return v.number;
    case Kind::kString:
      return JsStringToNumber(v.string);
    default:
      return kNaN;
  }
}

// JavaScript's loose `a op b` for primitives where at most one side is
// null (op is one of ==, !=, <, <=, >, >=).
bool LooseOp(JlOp op, const JlValue& a, const JlValue& b) {
  if (op == JlOp::kEq || op == JlOp::kNe) {
    bool eq;
    if (a.kind == Kind::kNull || b.kind == Kind::kNull) {
      eq = a.kind == b.kind;
    } else if (a.kind == Kind::kString && b.kind == Kind::kString) {
      eq = a.string == b.string;
    } else {
      eq = ToNumber(a) == ToNumber(b);
    }
    return op == JlOp::kEq ? eq : !eq;
  }
  int c;
  if (a.kind == Kind::kString && b.kind == Kind::kString) {
    c = a.string.compare(b.string);
  } else {
    const double x = ToNumber(a);
    const double y = ToNumber(b);
    if (std::isnan(x) || std::isnan(y)) return false;
    c = x < y ? -1 : (x > y ? 1 : 0);
  }
  switch (op) {
    case JlOp::kLt:
      return c < 0;
    case JlOp::kLte:
      return c <= 0;
    case JlOp::kGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

bool StrictEqual(const JlValue& a, const JlValue& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.boolean == b.boolean;
    case Kind::kNumber:
      return a.number == b.number;
    case Kind::kString:
      return a.string == b.string;
    default:
      // Arrays and objects: identity.
      return a.items == b.items && a.node == b.node && a.size == b.size &&
             (a.items != nullptr || a.node >= 0);
  }
}

// SameValueZero, as Array.prototype.includes compares.
bool SameValueZero(const JlValue& a, const JlValue& b) {
  if (a.kind == Kind::kNumber && b.kind == Kind::kNumber &&
      std::isnan(a.number) && std::isnan(b.number)) {
    return true;
  }
  return StrictEqual(a, b);
}

// JavaScript's ToIntegerOrInfinity.
double ToInteger(double d) {
  if (std::isnan(d)) return 0;
  return std::trunc(d);
}

// semver's normalizeVersion in flagd-core: strip one leading v/V, then a
// strict SemVer 2.0 parse of the trimmed text; else "1" / "1.2" coerced.
bool NormalizeVersion(std::string_view s, SemVer* out) {
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  std::string_view t = s;
  while (!t.empty() &&
         (t.front() == ' ' || t.front() == '\t' || t.front() == '\n' ||
          t.front() == '\r' || t.front() == '\f' || t.front() == '\v')) {
    t.remove_prefix(1);
  }
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' ||
          t.back() == '\r' || t.back() == '\f' || t.back() == '\v')) {
    t.remove_suffix(1);
  }
  // node-semver accepts a lower-case "v" prefix only, and at most 256
  // characters.
  if (t.size() <= 256 && !(!t.empty() && t[0] == 'V') && ParseSemVer(t, out) &&
      static_cast<double>(out->major) <= kMaxSafeInteger &&
      static_cast<double>(out->minor) <= kMaxSafeInteger &&
      static_cast<double>(out->patch) <= kMaxSafeInteger) {
    return true;
  }
  // /^\d+(\.\d+)?$/ then semver.coerce (components of at most 16 digits).
  std::uint64_t values[2] = {0, 0};
  int part = 0;
  std::size_t digits = 0;
  if (s.empty()) return false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (++digits > 16) return false;
      values[part] = values[part] * 10 + static_cast<std::uint64_t>(c - '0');
    } else if (c == '.' && part == 0 && digits > 0) {
      part = 1;
      digits = 0;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  if (static_cast<double>(values[0]) > kMaxSafeInteger ||
      static_cast<double>(values[1]) > kMaxSafeInteger) {
    return false;
  }
  *out = SemVer();
  out->major = values[0];
  out->minor = values[1];
  return true;
}

}  // namespace

bool SemVerHolds(JlSemVerOp op, const SemVer& x, const SemVer& y) noexcept {
  const int c = CompareSemVer(x, y);
  switch (op) {
    case kSemVerEq:
      return c == 0;
    case kSemVerNe:
      return c != 0;
    case kSemVerLt:
      return c < 0;
    case kSemVerLte:
      return c <= 0;
    case kSemVerGt:
      return c > 0;
    case kSemVerGte:
      return c >= 0;
    case kSemVerCaret:
      return x.major == y.major;
    case kSemVerTilde:
      return x.major == y.major && x.minor == y.minor;
    default:
      return false;
  }
}

bool JsNormalizeSemVer(std::string_view text, SemVer* out) noexcept {
  return NormalizeVersion(text, out);
}

JlSemVerOp SemVerOpCode(std::string_view op) noexcept {
  if (op == "=") return kSemVerEq;
  if (op == "!=") return kSemVerNe;
  if (op == "<") return kSemVerLt;
  if (op == "<=") return kSemVerLte;
  if (op == ">") return kSemVerGt;
  if (op == ">=") return kSemVerGte;
  if (op == "^") return kSemVerCaret;
  if (op == "~") return kSemVerTilde;
  return kSemVerInvalid;
}

bool JsTruthy(const JlValue& v) noexcept {
  switch (v.kind) {
    case Kind::kNull:
      return false;
    case Kind::kBool:
      return v.boolean;
    case Kind::kNumber:
      return v.number != 0 && !std::isnan(v.number);
    case Kind::kString:
      return !v.string.empty();
    case Kind::kArray:
    case Kind::kObject:
      return v.size > 0;
  }
  return false;
}

bool JlEvaluator::Element(const JlValue& array, std::uint32_t i,
                          JlValue* out) noexcept {
  if (array.node >= 0) {
    const JlNode& n = p_.nodes[static_cast<std::uint32_t>(array.node)];
    return Child(n, i, out);
  }
  *out = array.items[i];
  return true;
}

bool JlEvaluator::AppendString(const JlValue& v, char* buffer,
                               std::size_t capacity, std::size_t* used,
                               bool null_as_empty) noexcept {
  auto put = [&](std::string_view s) {
    if (s.size() > capacity - *used) return false;
    if (!s.empty()) std::memcpy(buffer + *used, s.data(), s.size());
    *used += s.size();
    return true;
  };
  switch (v.kind) {
    case Kind::kNull:
      return null_as_empty ? true : put("null");
    case Kind::kBool:
      return put(v.boolean ? "true" : "false");
    case Kind::kNumber: {
      char digits[kJsNumberChars];
      return put(std::string_view(digits, JsNumberToString(v.number, digits)));
    }
    case Kind::kString:
      return put(v.string);
    case Kind::kObject:
      return put("[object Object]");
    case Kind::kArray:
      // Array.prototype.join(","): null elements are empty.
      for (std::uint32_t i = 0; i < v.size; ++i) {
        if (i > 0 && !put(",")) return false;
        JlValue e;
        if (!Element(v, i, &e)) return false;
        if (!AppendString(e, buffer, capacity, used, /*null_as_empty=*/true)) {
          return false;
        }
      }
      return true;
  }
  return false;
}

bool JlEvaluator::ToString(const JlValue& v, std::string_view* out) noexcept {
  if (v.kind == Kind::kString) {
    *out = v.string;
    return true;
  }
  if (v.kind == Kind::kBool) {
    *out = v.boolean ? "true" : "false";
    return true;
  }
  if (v.kind == Kind::kNull) {
    *out = "null";
    return true;
  }
  if (v.kind == Kind::kObject) {
    *out = "[object Object]";
    return true;
  }
  // Numbers and arrays are built in the scratch space.
  const std::size_t capacity =
      v.kind == Kind::kNumber ? kJsNumberChars : JlScratch::kTextBytes / 2;
  char* buffer = scratch_.AllocText(capacity);
  if (buffer == nullptr) return false;
  std::size_t used = 0;
  if (!AppendString(v, buffer, capacity, &used, false)) return false;
  scratch_.ShrinkText(buffer, used);
  *out = std::string_view(buffer, used);
  return true;
}

bool JlEvaluator::Has(std::string_view name) const noexcept {
  if (name == "targetingKey") {
    return context_.has_key() || context_.Find(name) != nullptr;
  }
  if (name == "$flagd" || name == "$flagd.flagKey" ||
      name == "$flagd.timestamp") {
    return true;
  }
  return context_.Find(name) != nullptr;
}

bool JlEvaluator::Eval(std::uint32_t index, JlValue* out) noexcept {
  const JlNode& n = p_.nodes[index];
  switch (n.op) {
    case JlOp::kConst:
      *out = n.value;
      return true;
    case JlOp::kArrayLit:
      *out = JlValue();
      out->kind = Kind::kArray;
      out->items = nullptr;
      out->size = n.child_count;
      out->node = static_cast<std::int32_t>(index);
      return true;
    case JlOp::kVar:
    case JlOp::kContextKey: {
      const AttributeValue* a = nullptr;
      AttributeValue key;
      if (n.op == JlOp::kContextKey && context_.has_key()) {
        key.type = AttributeValue::Type::kString;
        key.string_value = context_.key();
        a = &key;
      } else {
        a = context_.Find(n.name);
      }
      if (a == nullptr) {
        if (n.child_count > 0) {
          if (!Child(n, 0, out)) return false;
        } else {
          *out = JlValue::Null();
        }
        if (track_prev_) prev_ = *out;
        return true;
      }
      switch (a->type) {
        case AttributeValue::Type::kString:
          *out = JlValue::String(a->string_value);
          break;
        case AttributeValue::Type::kNumber:
          *out = JlValue::Number(a->number_value);
          break;
        case AttributeValue::Type::kBool:
          *out = JlValue::Bool(a->bool_value);
          break;
      }
      if (track_prev_) prev_ = *out;
      return true;
    }
    case JlOp::kFlagKey:
      *out = JlValue::String(p_.flag_key);
      if (track_prev_) prev_ = *out;
      return true;
    case JlOp::kTimestamp:
      // Math.floor(Date.now() / 1000)
      *out = JlValue::Number(static_cast<double>(
          std::floor(static_cast<double>(clock_.NowMicros()) / 1e6)));
      if (track_prev_) prev_ = *out;
      return true;
    case JlOp::kMissing:
    case JlOp::kMissingSome:
      return Missing(n, out);
    case JlOp::kIf: {
      // [c1, v1, c2, v2, ..., else]; [] → null; [x] → x; even: else null.
      const std::uint32_t count = n.child_count;
      if (count == 0) {
        *out = JlValue::Null();
        return true;
      }
      if (count == 1) return Child(n, 0, out);
      std::uint32_t i = 0;
      for (; i + 1 < count; i += 2) {
        JlValue test;
        if (!Child(n, i, &test)) return false;
        if (JsTruthy(test)) return Child(n, i + 1, out);
      }
      if (i < count) return Child(n, i, out);
      *out = JlValue::Null();
      return true;
    }
    case JlOp::kAnd:
    case JlOp::kOr: {
      // The first falsy (and) / truthy (or) operand, else the last; [] null.
      *out = JlValue::Null();
      for (std::uint32_t i = 0; i < n.child_count; ++i) {
        if (!Child(n, i, out)) return false;
        if (track_prev_) prev_ = *out;
        const bool t = JsTruthy(*out);
        if (n.op == JlOp::kAnd ? !t : t) return true;
      }
      return true;
    }
    case JlOp::kNot:
    case JlOp::kNotNot: {
      JlValue v;
      if (n.child_count > 0 && !Child(n, 0, &v)) return false;
      const bool t = JsTruthy(v);
      *out = JlValue::Bool(n.op == JlOp::kNot ? !t : t);
      return true;
    }
    case JlOp::kCoalesce: {
      *out = JlValue::Null();
      for (std::uint32_t i = 0; i < n.child_count; ++i) {
        if (!Child(n, i, out)) return false;
        if (out->kind != Kind::kNull) return true;
      }
      return true;
    }
    case JlOp::kEq:
    case JlOp::kNe:
    case JlOp::kStrictEq:
    case JlOp::kStrictNe:
    case JlOp::kLt:
    case JlOp::kLte:
    case JlOp::kGt:
    case JlOp::kGte:
      return Compare(n, out);
    case JlOp::kIn:
      return In(n, out);
    case JlOp::kCat:
      return Cat(n, out);
    case JlOp::kSubstr:
      return Substr(n, out);
    case JlOp::kAdd:
    case JlOp::kSub:
    case JlOp::kMul:
    case JlOp::kDiv:
    case JlOp::kMod:
      return Arithmetic(n, out);
    case JlOp::kMax:
    case JlOp::kMin:
      return MaxMin(n, out);
    case JlOp::kMerge:
      return Merge(n, out);
    case JlOp::kStartsWith:
    case JlOp::kEndsWith:
      return StringTest(n, out);
    case JlOp::kSemVer:
      return SemVerOp(n, out);
    case JlOp::kFractional:
      return Fractional(n, out);
  }
  return false;
}

// compareCheck() and the compiled comparison of json-logic-engine:
//   ((prev = a) OP compareCheck(b, prev, strict))             two operands
//   (((prev = a) OP (prev = compareCheck(b, prev, strict)))
//       && prev OP (prev = compareCheck(c, prev, strict)) ...)  more
// where compareCheck(item, prev) returns item, except: not both string or
// null → an object/array or NaN item (unless prev is null) or prev throws;
// null prev with a falsy item → null; null item with a falsy prev → 0.
bool JlEvaluator::Compare(const JlNode& n, JlValue* out) noexcept {
  if (n.interpreted) return CompareInterpreted(n, out);
  const bool strict = n.op == JlOp::kStrictEq || n.op == JlOp::kStrictNe;
  const bool chained = n.child_count > 2;
  JlValue left;
  if (!Child(n, 0, &left)) return false;
  prev_ = left;
  for (std::uint32_t i = 1; i < n.child_count; ++i) {
    JlValue item;
    if (!Child(n, i, &item)) return false;
    const JlValue prev = prev_;  // possibly assigned by the item's code
    JlValue checked = item;
    bool result;
    if (strict) {
      const bool eq = StrictEqual(left, item);
      result = n.op == JlOp::kStrictEq ? eq : !eq;
    } else {
      const bool item_plain =
          item.kind == Kind::kString || item.kind == Kind::kNull;
      const bool prev_plain =
          prev.kind == Kind::kString || prev.kind == Kind::kNull;
      if (!(item_plain && prev_plain)) {
        if (IsObjectLike(item)) return false;
        if (std::isnan(ToNumber(item)) && prev.kind != Kind::kNull) {
          return false;
        }
        if (IsObjectLike(prev) || std::isnan(ToNumber(prev))) return false;
        if (prev.kind == Kind::kNull && !JsTruthy(item)) {
          checked = JlValue::Null();
        } else if (item.kind == Kind::kNull && !JsTruthy(prev)) {
          checked = JlValue::Number(0);
        }
      }
      if (IsObjectLike(left) || IsObjectLike(checked)) {
        // JavaScript would compare the objects' string forms; only reachable
        // with a constant array or object on the left.
        return false;
      }
      result = LooseOp(n.op, left, checked);
    }
    if (chained) prev_ = checked;
    if (!result) {
      *out = JlValue::Bool(false);
      return true;
    }
    left = checked;
  }
  *out = JlValue::Bool(true);
  return true;
}

// The interpreter's comparison (createComparator().method):
//   two operands: both string or null (or strict) → a OP b; else a must be
//   numeric, b numeric unless a is null → +a OP +b.
//   more: for each step, both plain (or strict) → prev OP cur must hold, and
//   then (also for plain ones) cur numeric unless prev is null, the first
//   prev numeric, +prev OP +cur must hold.
bool JlEvaluator::CompareInterpreted(const JlNode& n, JlValue* out) noexcept {
  const bool strict = n.op == JlOp::kStrictEq || n.op == JlOp::kStrictNe;
  auto plain = [](const JlValue& v) {
    return v.kind == Kind::kString || v.kind == Kind::kNull;
  };
  auto op = [&](const JlValue& a, const JlValue& b) {
    if (strict) {
      const bool eq = StrictEqual(a, b);
      return n.op == JlOp::kStrictEq ? eq : !eq;
    }
    return LooseOp(n.op, a, b);
  };
  auto numeric = [](const JlValue& v) { return JlValue::Number(ToNumber(v)); };
  JlValue prev;
  if (!Child(n, 0, &prev)) return false;
  *out = JlValue::Bool(false);
  if (n.child_count == 2) {
    JlValue b;
    if (!Child(n, 1, &b)) return false;
    if (strict || (plain(prev) && plain(b))) {
      *out = JlValue::Bool(op(prev, b));
      return true;
    }
    if (IsObjectLike(prev) || std::isnan(ToNumber(prev))) return false;
    if (IsObjectLike(b)) return false;
    if (std::isnan(ToNumber(b)) && prev.kind != Kind::kNull) return false;
    *out = JlValue::Bool(op(numeric(prev), numeric(b)));
    return true;
  }
  for (std::uint32_t i = 1; i < n.child_count; ++i) {
    JlValue cur;
    if (!Child(n, i, &cur)) return false;
    if (strict || (plain(cur) && plain(prev))) {
      if (!op(prev, cur)) return true;
    }
    if (IsObjectLike(cur)) return false;
    if (std::isnan(ToNumber(cur)) && prev.kind != Kind::kNull) return false;
    if (i == 1 && (IsObjectLike(prev) || std::isnan(ToNumber(prev)))) {
      return false;
    }
    if (!op(numeric(prev), numeric(cur))) return true;
    prev = cur;
  }
  *out = JlValue::Bool(true);
  return true;
}

// (haystack || []).includes(needle)
bool JlEvaluator::In(const JlNode& n, JlValue* out) noexcept {
  JlValue needle;
  JlValue haystack;
  // Compiled as (haystack || []).includes(needle): the haystack runs first.
  if (n.child_count > 1 && !Child(n, 1, &haystack)) return false;
  if (n.child_count > 0 && !Child(n, 0, &needle)) return false;
  if (!JsTruthy(haystack) && haystack.kind != Kind::kArray &&
      haystack.kind != Kind::kObject) {
    *out = JlValue::Bool(false);
    return true;
  }
  if (haystack.kind == Kind::kString) {
    std::string_view s;
    if (!ToString(needle, &s)) return false;
    *out = JlValue::Bool(haystack.string.find(s) != std::string_view::npos);
    return true;
  }
  if (haystack.kind == Kind::kArray) {
    for (std::uint32_t i = 0; i < haystack.size; ++i) {
      JlValue e;
      if (!Element(haystack, i, &e)) return false;
      if (SameValueZero(e, needle)) {
        *out = JlValue::Bool(true);
        return true;
      }
    }
    *out = JlValue::Bool(false);
    return true;
  }
  return false;  // a number, true or an object has no includes()
}

bool JlEvaluator::Cat(const JlNode& n, JlValue* out) noexcept {
  if (n.unary_form) {
    // cat.method(x): a string is itself, else x.toString() (null throws).
    JlValue v;
    if (!Child(n, 0, &v)) return false;
    if (v.kind == Kind::kNull) return false;
    if (v.kind != Kind::kArray) {
      std::string_view s;
      if (!ToString(v, &s)) return false;
      *out = JlValue::String(s);
      return true;
    }
  }
  char* buffer = scratch_.AllocText(JlScratch::kTextBytes / 2);
  if (buffer == nullptr) return false;
  std::size_t used = 0;
  for (std::uint32_t i = 0; i < n.child_count; ++i) {
    JlValue v;
    if (!Child(n, i, &v)) return false;
    if (n.unary_form && v.kind == Kind::kArray) {
      // cat.method(array): elements, skipping null.
      for (std::uint32_t j = 0; j < v.size; ++j) {
        JlValue e;
        if (!Element(v, j, &e)) return false;
        if (e.kind == Kind::kNull) continue;
        if (!AppendString(e, buffer, JlScratch::kTextBytes / 2, &used, false))
          return false;
      }
      continue;
    }
    // Compiled: '' + a + b (null → "null"); the interpreter (folding at
    // build time, or below an operator that is not compiled) skips null.
    if ((folding_ || n.interpreted) && v.kind == Kind::kNull) continue;
    if (!AppendString(v, buffer, JlScratch::kTextBytes / 2, &used, false)) {
      return false;
    }
  }
  scratch_.ShrinkText(buffer, used);
  *out = JlValue::String(std::string_view(buffer, used));
  return true;
}

// substr: [s, from, len]; JavaScript's String.prototype.substr, with a
// negative len dropping that many characters from the end.
bool JlEvaluator::Substr(const JlNode& n, JlValue* out) noexcept {
  JlValue s, from, len;
  if (n.child_count > 0 && !Child(n, 0, &s)) return false;
  if (n.child_count > 1 && !Child(n, 1, &from)) return false;
  const bool has_len = n.child_count > 2;
  if (has_len && !Child(n, 2, &len)) return false;
  if (s.kind != Kind::kString) return false;  // s.substr is not a function
  auto js_substr = [&](std::string_view text, double start, bool with_len,
                       double length) {
    const double sz = static_cast<double>(text.size());
    double st = ToInteger(start);
    if (st < 0) st = std::max(sz + st, 0.0);
    st = std::min(st, sz);
    double ln = with_len ? ToInteger(length) : sz - st;
    ln = std::min(std::max(ln, 0.0), sz - st);
    return text.substr(static_cast<std::size_t>(st),
                       static_cast<std::size_t>(ln));
  };
  if (IsObjectLike(from) || (has_len && IsObjectLike(len))) {
    // ToNumber of an array/object: NaN (→ 0) unless a one-element array.
    // Rare enough to refuse rather than approximate.
    return false;
  }
  const double f = n.child_count > 1 ? ToNumber(from) : 0;
  const double l = has_len ? ToNumber(len) : 0;
  if (has_len && l < 0) {
    std::string_view rest = js_substr(s.string, f, false, 0);
    *out = JlValue::String(
        js_substr(rest, 0, true, static_cast<double>(rest.size()) + l));
    return true;
  }
  *out = JlValue::String(js_substr(s.string, f, has_len, l));
  return true;
}

// +, -, *, /, %: each operand to a number (objects and arrays throw), NaN
// throws; / by a falsy number throws.
bool JlEvaluator::Arithmetic(const JlNode& n, JlValue* out) noexcept {
  double acc = 0;
  const std::uint32_t count = n.child_count;
  if (count == 0) {
    *out = JlValue::Number(n.op == JlOp::kMul ? 1 : 0);
    return true;  // "-", "/" and "%" without operands are compile errors
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    JlValue v;
    if (!Child(n, i, &v)) return false;
    if (n.unary_form && track_prev_) prev_ = v;  // Array.isArray(prev = x)
    if (IsObjectLike(v)) return false;
    const double x = ToNumber(v);
    if (std::isnan(x)) return false;
    if (i == 0) {
      switch (n.op) {
        case JlOp::kSub:
          acc = count == 1 ? -x : x;
          break;
        case JlOp::kDiv:
          if (count == 1) {
            if (x == 0) return false;
            acc = 1 / x;
          } else {
            acc = x;
          }
          break;
        default:
          acc = x;
          break;
      }
      continue;
    }
    switch (n.op) {
      case JlOp::kAdd:
        acc += x;
        break;
      case JlOp::kSub:
        acc -= x;
        break;
      case JlOp::kMul:
        acc *= x;
        break;
      case JlOp::kDiv:
        if (x == 0) return false;
        acc /= x;
        break;
      default:
        acc = std::fmod(acc, x);
        break;
    }
  }
  if (std::isnan(acc)) return false;
  *out = JlValue::Number(acc);
  return true;
}

bool JlEvaluator::MaxMin(const JlNode& n, JlValue* out) noexcept {
  if (n.child_count == 0) return false;
  double best = 0;
  for (std::uint32_t i = 0; i < n.child_count; ++i) {
    JlValue v;
    if (!Child(n, i, &v)) return false;
    if (v.kind != Kind::kNumber) return false;
    if (i == 0 || (n.op == JlOp::kMax ? v.number > best : v.number < best)) {
      best = v.number;
    }
  }
  *out = JlValue::Number(best);
  return true;
}

bool JlEvaluator::Merge(const JlNode& n, JlValue* out) noexcept {
  std::uint32_t total = 0;
  for (std::uint32_t i = 0; i < n.child_count; ++i) {
    JlValue v;
    if (!Child(n, i, &v)) return false;
    total += v.kind == Kind::kArray ? v.size : 1;
  }
  JlValue* items = scratch_.AllocItems(total);
  if (items == nullptr && total > 0) return false;
  std::uint32_t k = 0;
  for (std::uint32_t i = 0; i < n.child_count; ++i) {
    JlValue v;
    if (!Child(n, i, &v)) return false;
    if (v.kind == Kind::kArray) {
      for (std::uint32_t j = 0; j < v.size; ++j) {
        if (!Element(v, j, &items[k++])) return false;
      }
    } else {
      items[k++] = v;
    }
  }
  *out = JlValue();
  out->kind = Kind::kArray;
  out->items = items;
  out->size = total;
  return true;
}

bool JlEvaluator::Missing(const JlNode& n, JlValue* out) noexcept {
  std::uint32_t missing = 0;
  for (std::uint32_t i = 0; i < n.name_count; ++i) {
    if (!Has(p_.names[n.first_name + i])) ++missing;
  }
  *out = JlValue();
  out->kind = Kind::kArray;
  out->items = nullptr;
  if (n.op == JlOp::kMissingSome && n.name_count - missing >= n.need) {
    return true;  // [] (prev keeps the missing list, which is not read)
  }
  if (missing == 0) {
    if (n.op == JlOp::kMissingSome && track_prev_) prev_ = *out;
    return true;
  }
  JlValue* items = scratch_.AllocItems(missing);
  if (items == nullptr) return false;
  std::uint32_t k = 0;
  for (std::uint32_t i = 0; i < n.name_count; ++i) {
    if (!Has(p_.names[n.first_name + i])) {
      items[k++] = p_.name_values[n.first_name + i];
    }
  }
  out->items = items;
  out->size = missing;
  if (n.op == JlOp::kMissingSome && track_prev_) prev_ = *out;
  return true;
}

// flagd's starts_with / ends_with: exactly two strings, else null.
bool JlEvaluator::StringTest(const JlNode& n, JlValue* out) noexcept {
  *out = JlValue::Null();
  if (n.unary_form || n.child_count != 2) {
    for (std::uint32_t i = 0; i < n.child_count; ++i) {
      JlValue ignored;
      if (!Child(n, i, &ignored)) return false;
    }
    return true;
  }
  JlValue a, b;
  if (!Child(n, 0, &a) || !Child(n, 1, &b)) return false;
  if (a.kind != Kind::kString || b.kind != Kind::kString) return true;
  const std::string_view s = a.string;
  const std::string_view t = b.string;
  bool hit;
  if (n.op == JlOp::kStartsWith) {
    hit = s.size() >= t.size() && s.compare(0, t.size(), t) == 0;
  } else {
    hit = s.size() >= t.size() &&
          s.compare(s.size() - t.size(), t.size(), t) == 0;
  }
  *out = JlValue::Bool(hit);
  return true;
}

// flagd's sem_ver: [version, operator, target]; null when the arguments are
// not three or a version does not parse.
bool JlEvaluator::SemVerOp(const JlNode& n, JlValue* out) noexcept {
  *out = JlValue::Null();
  if (n.semver_constant) {
    // Operator and target parsed at compile time.
    JlValue version;
    if (!Child(n, 0, &version)) return false;
    std::string_view a;
    if (!ToString(version, &a)) return false;
    SemVer x;
    if (!NormalizeVersion(a, &x)) return true;
    *out = JlValue::Bool(
        SemVerHolds(static_cast<JlSemVerOp>(n.semver_op), x, n.semver_target));
    return true;
  }
  JlValue args[3];
  for (std::uint32_t i = 0; i < n.child_count; ++i) {
    JlValue v;
    if (!Child(n, i, &v)) return false;
    if (i < 3) args[i] = v;
  }
  if (n.unary_form || n.child_count != 3) return true;
  std::string_view a, op, b;
  if (!ToString(args[0], &a) || !ToString(args[1], &op) ||
      !ToString(args[2], &b)) {
    return false;
  }
  SemVer x, y;
  if (!NormalizeVersion(a, &x)) return true;
  if (!NormalizeVersion(b, &y)) return true;
  const JlSemVerOp code = SemVerOpCode(op);
  if (code == kSemVerInvalid) return true;
  *out = JlValue::Bool(SemVerHolds(code, x, y));
  return true;
}

// flagd's fractional (flagd-core >= 3.0, flagd >= 0.15):
//   [bucketBy?, [variant, weight?]...]; bucketBy defaults to
//   flagKey + targetingKey; MurmurHash3 x86_32 (seed 0);
//   bucket = (hash * totalWeight) >> 32; the first entry whose cumulative
//   weight exceeds the bucket wins. Any malformed entry yields null.
bool JlEvaluator::Fractional(const JlNode& n, JlValue* out) noexcept {
  *out = JlValue::Null();
  if (n.child_count == 0) return true;
  JlValue first;
  if (!Child(n, 0, &first)) return false;
  std::string_view bucket_by;
  std::uint32_t start = 0;
  const bool explicit_key = first.kind == Kind::kString;
  if (explicit_key) {
    bucket_by = first.string;
    start = 1;
  } else {
    JlValue tk;
    const AttributeValue* key = nullptr;
    if (context_.has_key()) {
      tk = JlValue::String(context_.key());
    } else if ((key = context_.Find("targetingKey")) != nullptr) {
      if (key->type == AttributeValue::Type::kString) {
        tk = JlValue::String(key->string_value);
      } else if (key->type == AttributeValue::Type::kNumber) {
        tk = JlValue::Number(key->number_value);
      } else {
        tk = JlValue::Bool(key->bool_value);
      }
    }
    if (!JsTruthy(tk)) return true;
    if (!ToString(tk, &bucket_by)) return false;
  }
  // Pass 1: validate and sum.
  double total = 0;
  for (std::uint32_t i = start; i < n.child_count; ++i) {
    JlValue entry;
    if (i == 0) {
      entry = first;
    } else if (!Child(n, i, &entry)) {
      return false;
    }
    if (entry.kind != Kind::kArray || entry.size < 1 || entry.size > 2) {
      return true;
    }
    JlValue variant;
    if (!Element(entry, 0, &variant)) return false;
    if (IsObjectLike(variant)) return true;
    double weight = 1;
    if (entry.size == 2) {
      JlValue w;
      if (!Element(entry, 1, &w)) return false;
      if (w.kind != Kind::kNumber || !std::isfinite(w.number) ||
          std::floor(w.number) != w.number) {
        return true;
      }
      weight = std::max(0.0, w.number);
    }
    total += weight;
  }
  if (total > kMaxFractionalWeight || total == 0) return true;
  const std::uint32_t hash = explicit_key
                                 ? Murmur3X86_32(bucket_by)
                                 : Murmur3X86_32(p_.flag_key, bucket_by);
  const std::uint32_t bucket =
      FractionalBucket(hash, static_cast<std::uint32_t>(total));
  double sum = 0;
  for (std::uint32_t i = start; i < n.child_count; ++i) {
    JlValue entry;
    if (i == 0) {
      entry = first;
    } else if (!Child(n, i, &entry)) {
      return false;
    }
    double weight = 1;
    if (entry.size == 2) {
      JlValue w;
      if (!Element(entry, 1, &w)) return false;
      weight = std::max(0.0, w.number);
    }
    sum += weight;
    if (sum > bucket) return Element(entry, 0, out);
  }
  return true;
}

JlRuleResult EvaluateJsonLogicRule(const CompiledFlag& flag,
                                   const JlProgram& program,
                                   const Context& context, EvalClock& clock,
                                   std::int32_t* variant) noexcept {
  JlScratch scratch;
  JlEvaluator evaluator(program, context, clock, scratch, /*folding=*/false);
  JlValue result;
  if (!evaluator.Eval(program.root, &result)) return JlRuleResult::kError;
  if (result.kind == Kind::kNull) return JlRuleResult::kNoMatch;
  if (result.variant >= -1) {
    *variant = result.variant;
    return result.variant >= 0 ? JlRuleResult::kVariant : JlRuleResult::kError;
  }
  std::string_view name;
  if (!evaluator.ToString(result, &name)) return JlRuleResult::kError;
  for (std::size_t i = 0; i < flag.variants.size(); ++i) {
    if (flag.variants[i].name == name) {
      *variant = static_cast<std::int32_t>(i);
      return JlRuleResult::kVariant;
    }
  }
  return JlRuleResult::kError;
}

}  // namespace internal
}  // namespace hotfix
