// tools/common/json_util.h
//
// Small RapidJSON helpers shared by hotfixd and hotfixctl: parsing untrusted
// text (the library's strict, depth-limited parser, util/json_parse.h) with an
// error that names what was being parsed and where it broke, serializing a
// value, a builder for JSON output, and typed field accessors whose errors
// name the JSON path.
//
// Thread-compatible: plain functions over caller-owned values.

#ifndef HOTFIX_TOOLS_COMMON_JSON_UTIL_H_
#define HOTFIX_TOOLS_COMMON_JSON_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hotfix/value.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace hotfix {
namespace tools {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// ParseJson()
//
// Parses `text` (which must be exactly one JSON value, valid UTF-8, nested at
// most 128 levels) into `doc`. On failure returns InvalidArgument
//   "<what>: invalid JSON at line 1, column 18 (offset 17): Missing a comma
//    or '}' after an object member."
// Hostile nesting fails while parsing, without recursion.
//
// Cost: one pass over `text`; allocates the DOM.
absl::Status ParseJson(std::string_view text, std::string_view what,
                       rapidjson::Document* doc);

// ToJson()
//
// Serializes `value` compactly. Cost: allocates the result.
std::string ToJson(const rapidjson::Value& value);

// WithErrorList() / ErrorListJson()
//
// A status that carries, besides its message, a list of messages: every
// independent compile error of a rejected flag set (the message is the first
// of them). hotfixd's error replies add it to the error object as
// `"errors": [...]` and `"error_count": N` (docs/admin-api.md). `total` may
// exceed messages.size() when the list was cut at a limit. ErrorListJson()
// returns `{"errors":[...],"error_count":N}`, or nullopt when `status`
// carries no list.
absl::Status WithErrorList(absl::Status status,
                           const std::vector<std::string>& messages,
                           std::size_t total);
std::optional<std::string> ErrorListJson(const absl::Status& status);

// Writes `s` as a JSON string value.
inline void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void WriteKey(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Returns `s` as a quoted, escaped JSON string literal.
std::string JsonQuote(std::string_view s);

// ValueJson()
//
// An evaluated value as JSON text: true or false; a number (an integral one
// within +-9e15 without a fraction, as OFREP clients expect); a quoted
// string; the object or array as stored; "null" for ValueType::kNone.
std::string ValueJson(const Value& value);

// Returns a rapidjson string value referencing `s` (no copy; `s` must
// outlive the value) or copying it into `alloc`.
inline rapidjson::Value StringRef(std::string_view s) {
  return rapidjson::Value(rapidjson::StringRef(
      s.data(), static_cast<rapidjson::SizeType>(s.size())));
}
inline rapidjson::Value StringCopy(std::string_view s,
                                   rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()),
                          alloc);
}

// Member lookup by std::string_view key; nullptr when absent.
const rapidjson::Value* FindMember(const rapidjson::Value& object,
                                   std::string_view key);
rapidjson::Value* FindMember(rapidjson::Value& object, std::string_view key);

// Field accessors. `path` names the object ("body", "flags.fix-123"); errors
// are InvalidArgument "<path>.<field>: <problem>". Absent optional fields
// yield std::nullopt.
absl::StatusOr<std::optional<std::string>> GetOptionalString(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path);
absl::StatusOr<std::string> GetRequiredString(const rapidjson::Value& object,
                                              std::string_view field,
                                              std::string_view path);
absl::StatusOr<std::optional<std::uint64_t>> GetOptionalUint(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path);
absl::StatusOr<std::optional<double>> GetOptionalNumber(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path);
absl::StatusOr<std::optional<bool>> GetOptionalBool(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path);

// Returns InvalidArgument "<path>.<name>: unknown field" for the first member
// of `object` not in `allowed` (a null-terminated list).
absl::Status CheckKnownFields(const rapidjson::Value& object,
                              std::string_view path,
                              const char* const* allowed);

// JsonOut builds compact JSON text. Named adders write "key": value inside
// the current object; the unnamed ones write array elements.
//
//   JsonOut out;
//   out.Begin().Str("env", name).U64("version", 7).Strings("keys", keys);
//   out.BeginArray("tokens").Objects(rows, WriteToken).EndArray();
//   std::string json = out.End().Take();
//
// Thread-compatible.
class JsonOut {
 public:
  JsonOut() : writer_(buffer_) {}
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  JsonOut& Begin();  // an object (the root, or an array element)
  JsonOut& Begin(std::string_view key);
  JsonOut& End();
  JsonOut& BeginArray(std::string_view key);
  JsonOut& BeginArray();
  JsonOut& EndArray();

  JsonOut& Str(std::string_view key, std::string_view value);
  JsonOut& U64(std::string_view key, std::uint64_t value);
  JsonOut& I64(std::string_view key, std::int64_t value);
  JsonOut& Num(std::string_view key, double value);
  JsonOut& Bool(std::string_view key, bool value);
  JsonOut& Null(std::string_view key);
  // A string, or null when `value` is empty.
  JsonOut& StrOrNull(std::string_view key, std::string_view value);
  // An unsigned integer, or null when `value` is 0.
  JsonOut& U64OrNull(std::string_view key, std::uint64_t value);
  // An array of strings.
  JsonOut& Strings(std::string_view key, const std::vector<std::string>& v);
  // `json` (already valid JSON text) as the member's value.
  JsonOut& Raw(std::string_view key, std::string_view json);
  JsonOut& Value(std::string_view key, const rapidjson::Value& value);

  JsonOut& Str(std::string_view value);  // array elements
  JsonOut& Raw(std::string_view json);
  // One object element per item of `items`, its members written by
  // `write(out, item)`:
  //   out.BeginArray("tokens").Objects(rows, WriteToken).EndArray();
  template <typename Items, typename Write>
  JsonOut& Objects(const Items& items, Write write) {
    for (const auto& item : items) {
      Begin();
      write(*this, item);
      End();
    }
    return *this;
  }

  // The text so far (complete once every Begin has its End).
  std::string Take() const;

 private:
  rapidjson::StringBuffer buffer_;
  JsonWriter writer_;
};

}  // namespace tools
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_COMMON_JSON_UTIL_H_
