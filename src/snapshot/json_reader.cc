// src/snapshot/json_reader.cc

#include "snapshot/json_reader.h"

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "util/json_parse.h"
#include "util/json_string.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {
namespace {

// Offending values longer than this are cut in error messages.
constexpr std::size_t kMaxQuotedBytes = 128;

bool IsPlain(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '$';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string Quote(std::string_view s) {
  bool cut = false;
  if (s.size() > kMaxQuotedBytes) {
    std::size_t n = kMaxQuotedBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out;
  AppendJsonString(&out, s);
  if (cut) out += "...";
  return out;
}

std::string Path::ToString() const {
  std::vector<const Path*> chain;
  for (const Path* p = this; p->parent_ != nullptr; p = p->parent_) {
    chain.push_back(p);
  }
  if (chain.empty()) return "(root)";
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Path& p = **it;
    if (p.is_index_) {
      absl::StrAppend(&out, "[", p.index_, "]");
    } else if (IsPlain(p.key_)) {
      if (!out.empty()) out.push_back('.');
      out.append(p.key_);
    } else {
      absl::StrAppend(&out, "[", Quote(p.key_), "]");
    }
  }
  return out;
}

absl::Status Error(const Path& path, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(path.ToString(), ": ", ToAbsl(problem)));
}

absl::Status Missing(const Path& parent, std::string_view field) {
  return Error(Path(parent, field), "required field is missing");
}

absl::Status DuplicateKey(const Path& parent, std::string_view key) {
  return Error(Path(parent, key), absl::StrCat("duplicate key ", Quote(key)));
}

bool IsExtension(std::string_view name) {
  return name == "$schema" ||
         (name.size() >= 2 && name[0] == 'x' && name[1] == '-');
}

absl::Status ParseDocument(std::string_view json, rapidjson::Document* doc) {
  return ParseJsonStrict(json, doc);
}

// Rejects an object with two members of the same name.
absl::Status CheckDuplicateMembers(const Json& obj, const Path& path) {
  const auto begin = obj.MemberBegin();
  const auto end = obj.MemberEnd();
  if (obj.MemberCount() <= 16) {
    for (auto a = begin; a != end; ++a) {
      for (auto b = begin; b != a; ++b) {
        if (a->name.GetStringLength() == b->name.GetStringLength() &&
            View(a->name) == View(b->name)) {
          return DuplicateKey(path, View(a->name));
        }
      }
    }
    return absl::OkStatus();
  }
  absl::flat_hash_set<absl::string_view> seen;
  seen.reserve(obj.MemberCount());
  for (auto m = begin; m != end; ++m) {
    if (!seen.insert(ToAbsl(View(m->name))).second) {
      return DuplicateKey(path, View(m->name));
    }
  }
  return absl::OkStatus();
}

// Validates free-form JSON (variant values, extensions): no duplicate member
// names at any level. Recursion is bounded by kMaxJsonDepth.
absl::Status CheckFreeJson(const Json& v, const Path& path) {
  if (v.IsObject()) {
    HOTFIX_RETURN_IF_ERROR(CheckDuplicateMembers(v, path));
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      if (m->value.IsObject() || m->value.IsArray()) {
        HOTFIX_RETURN_IF_ERROR(
            CheckFreeJson(m->value, Path(path, View(m->name))));
      }
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (v[i].IsObject() || v[i].IsArray()) {
        HOTFIX_RETURN_IF_ERROR(CheckFreeJson(v[i], Path(path, std::size_t{i})));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ReadString(const Json& v, const Path& path,
                        std::string_view* out) {
  if (!v.IsString()) return Error(path, "expected a string");
  *out = View(v);
  return absl::OkStatus();
}

absl::Status ReadNonEmptyString(const Json& v, const Path& path,
                                std::string_view* out) {
  HOTFIX_RETURN_IF_ERROR(ReadString(v, path, out));
  if (out->empty()) return Error(path, "expected a non-empty string");
  return absl::OkStatus();
}

absl::Status ReadBool(const Json& v, const Path& path, bool* out) {
  if (!v.IsBool()) return Error(path, "expected true or false");
  *out = v.GetBool();
  return absl::OkStatus();
}

absl::Status ReadArray(const Json& v, const Path& path) {
  if (!v.IsArray()) return Error(path, "expected an array");
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace hotfix
