// tools/common/json_util.h
//
// Small RapidJSON helpers shared by hotfixd and hotfixctl: parsing with an
// error that names what was being parsed and where it broke, serializing a
// value, and typed field accessors whose errors name the JSON path. This is
// the tools' own copy; the library's JSON code is private to src/.
//
// Thread-compatible: plain functions over caller-owned values.

#ifndef HOTFIX_TOOLS_COMMON_JSON_UTIL_H_
#define HOTFIX_TOOLS_COMMON_JSON_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace hotfix {
namespace tools {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// ParseJson()
//
// Parses `text` (which must be exactly one JSON value, valid UTF-8) into
// `doc`. On failure returns InvalidArgument
//   "<what>: invalid JSON at offset 17: Missing a comma or '}' after an
//    object member."
//
// Cost: one pass over `text`; allocates the DOM.
absl::Status ParseJson(std::string_view text, std::string_view what,
                       rapidjson::Document* doc);

// ToJson()
//
// Serializes `value` compactly. Cost: allocates the result.
std::string ToJson(const rapidjson::Value& value);

// Writes `s` as a JSON string value.
inline void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void WriteKey(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Returns `s` as a quoted, escaped JSON string literal.
std::string JsonQuote(std::string_view s);

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

// Returns InvalidArgument "<path>.<name>: unknown field" for the first member
// of `object` not in `allowed` (a null-terminated list).
absl::Status CheckKnownFields(const rapidjson::Value& object,
                              std::string_view path,
                              const char* const* allowed);

}  // namespace tools
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_COMMON_JSON_UTIL_H_
