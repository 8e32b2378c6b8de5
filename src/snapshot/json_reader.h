// src/snapshot/json_reader.h
//
// Strict reading of a parsed JSON document for the compilers (the native
// format, and other formats that compile into the same model): a JSON path
// built as a chain of stack frames and rendered only when an error is
// reported, and typed field readers whose errors are InvalidArgument
// "<json path>: <problem>", e.g.
//   flags.fix-123.rules[2].if[0].op: unknown operator "betwen"
//
// Thread-compatible: plain functions over caller-owned values.

#ifndef HOTFIX_SRC_SNAPSHOT_JSON_READER_H_
#define HOTFIX_SRC_SNAPSHOT_JSON_READER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rapidjson/document.h"
#include "util/status_macros.h"

namespace hotfix {
namespace internal {

using Json = rapidjson::Value;

inline std::string_view View(const Json& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// Returns `s` in double quotes with JSON escapes, cut (at a UTF-8 character
// boundary, with "...") after 128 bytes: an offending value in a message.
std::string Quote(std::string_view s);

// A JSON path as a chain of stack frames: `Path child(parent, "rules")`,
// `Path item(child, 2)`. Costs two stores to build; rendered only on error.
// A Path must not outlive its parent.
class Path {
 public:
  Path() = default;  // the document root
  Path(const Path& parent, std::string_view key)
      : parent_(&parent), key_(key) {}
  Path(const Path& parent, std::size_t index)
      : parent_(&parent), index_(index), is_index_(true) {}

  // Renders e.g. `flags.fix-123.rules[2].if[0].op`. Keys outside
  // [A-Za-z0-9_$-] are written quoted: `flags["a.b"].default`.
  std::string ToString() const;

 private:
  const Path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = 0;
  bool is_index_ = false;
};

// InvalidArgument "<path>: <problem>".
absl::Status Error(const Path& path, std::string_view problem);
// "<parent>.<field>: required field is missing".
absl::Status Missing(const Path& parent, std::string_view field);
// "<parent>.<key>: duplicate key \"<key>\"".
absl::Status DuplicateKey(const Path& parent, std::string_view key);

// `$schema` and `x-*`: members ignored in objects with a fixed set of fields.
bool IsExtension(std::string_view name);

// ParseDocument()
//
// Parses untrusted text with util/json_parse.h's strict parser (depth limit
// kMaxJsonDepth); the error names line, column and offset.
absl::Status ParseDocument(std::string_view json, rapidjson::Document* doc);

// Rejects an object with two members of the same name.
absl::Status CheckDuplicateMembers(const Json& obj, const Path& path);

// Validates free-form JSON (variant values, extensions): no duplicate member
// names at any level. Recursion is bounded by the parser's depth limit.
absl::Status CheckFreeJson(const Json& v, const Path& path);

// ReadObject()
//
// Checks that `v` is an object whose members are among `names` (each at most
// once) or extensions, and stores a pointer to each present field's value in
// `out` (nullptr when absent).
template <std::size_t N>
absl::Status ReadObject(const Json& v, const Path& path,
                        const std::string_view (&names)[N],
                        const Json* (&out)[N]) {
  if (!v.IsObject()) return Error(path, "expected an object");
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view name = View(m->name);
    std::size_t i = 0;
    while (i < N && names[i] != name) ++i;
    if (i < N) {
      if (out[i] != nullptr) return DuplicateKey(path, name);
      out[i] = &m->value;
      continue;
    }
    if (!IsExtension(name)) {
      return Error(Path(path, name),
                   absl::StrCat("unknown field ", Quote(name)));
    }
    for (auto prev = v.MemberBegin(); prev != m; ++prev) {
      if (View(prev->name) == name) return DuplicateKey(path, name);
    }
    HOTFIX_RETURN_IF_ERROR(CheckFreeJson(m->value, Path(path, name)));
  }
  return absl::OkStatus();
}

// ReadObject() for an object whose fields are all required: the first of
// `names` that is absent is the error (see Missing()).
template <std::size_t N>
absl::Status ReadRequiredObject(const Json& v, const Path& path,
                                const std::string_view (&names)[N],
                                const Json* (&out)[N]) {
  HOTFIX_RETURN_IF_ERROR(ReadObject(v, path, names, out));
  for (std::size_t i = 0; i < N; ++i) {
    if (out[i] == nullptr) return Missing(path, names[i]);
  }
  return absl::OkStatus();
}

absl::Status ReadString(const Json& v, const Path& path, std::string_view* out);
absl::Status ReadNonEmptyString(const Json& v, const Path& path,
                                std::string_view* out);
absl::Status ReadBool(const Json& v, const Path& path, bool* out);
absl::Status ReadArray(const Json& v, const Path& path);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SNAPSHOT_JSON_READER_H_
