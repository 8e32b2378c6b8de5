// tools/hotfixd/core/diff.cc

#include "core/diff.h"

#include <algorithm>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/json_util.h"
#include "core/documents.h"

namespace hotfix {
namespace hotfixd {
namespace {

using rapidjson::Value;

absl::string_view A(const Value& s) {
  return absl::string_view(s.GetString(), s.GetStringLength());
}

std::string Join(const std::string& path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

// Appends every differing leaf of `a` vs `b` under `path`.
void DiffValues(const Value* a, const Value* b, const std::string& path,
                std::vector<FieldChange>* out) {
  if (a != nullptr && b != nullptr && *a == *b) return;
  if (a != nullptr && b != nullptr && a->IsObject() && b->IsObject()) {
    for (auto m = a->MemberBegin(); m != a->MemberEnd(); ++m) {
      const Value* other = tools::FindMember(
          *b, std::string_view(m->name.GetString(), m->name.GetStringLength()));
      DiffValues(&m->value, other, Join(path, A(m->name)), out);
    }
    for (auto m = b->MemberBegin(); m != b->MemberEnd(); ++m) {
      const std::string_view name(m->name.GetString(),
                                  m->name.GetStringLength());
      if (tools::FindMember(*a, name) == nullptr) {
        DiffValues(nullptr, &m->value, Join(path, A(m->name)), out);
      }
    }
    return;
  }
  if (a != nullptr && b != nullptr && a->IsArray() && b->IsArray() &&
      a->Size() == b->Size()) {
    for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
      DiffValues(&(*a)[i], &(*b)[i], absl::StrCat(path, "[", i, "]"), out);
    }
    return;
  }
  out->push_back({path, a != nullptr ? tools::ToJson(*a) : "",
                  b != nullptr ? tools::ToJson(*b) : ""});
}

const Value& Member(const Value& doc, const char* name) {
  static const Value kEmpty(rapidjson::kObjectType);
  const Value* v = tools::FindMember(doc, name);
  return v != nullptr && v->IsObject() ? *v : kEmpty;
}

}  // namespace

std::vector<std::string> DocumentDiff::removed_keys() const {
  std::vector<std::string> out;
  for (const FlagChange& f : flags) {
    if (f.kind == FlagChange::Kind::kRemoved) out.push_back(f.key);
  }
  return out;
}

DocumentDiff DiffDocuments(const Value& before, const Value& after) {
  DocumentDiff diff;
  const Value& old_flags = Member(before, "flags");
  const Value& new_flags = Member(after, "flags");
  absl::flat_hash_map<absl::string_view, const Value*> index;
  index.reserve(new_flags.MemberCount());
  for (auto m = new_flags.MemberBegin(); m != new_flags.MemberEnd(); ++m) {
    index.emplace(A(m->name), &m->value);
  }
  for (auto m = old_flags.MemberBegin(); m != old_flags.MemberEnd(); ++m) {
    FlagChange change;
    change.key = std::string(A(m->name));
    auto it = index.find(A(m->name));
    if (it == index.end()) {
      change.kind = FlagChange::Kind::kRemoved;
    } else {
      DiffValues(&m->value, it->second, "", &change.fields);
      index.erase(it);
      if (change.fields.empty()) continue;
    }
    diff.flags.push_back(std::move(change));
  }
  for (const auto& [key, value] : index) {
    FlagChange change;
    change.key = std::string(key);
    change.kind = FlagChange::Kind::kAdded;
    diff.flags.push_back(std::move(change));
  }
  std::sort(
      diff.flags.begin(), diff.flags.end(),
      [](const FlagChange& a, const FlagChange& b) { return a.key < b.key; });
  for (const FlagChange& f : diff.flags) diff.changed_keys.push_back(f.key);

  DiffValues(&Member(before, "segments"), &Member(after, "segments"), "",
             &diff.segments);
  if (before.IsObject() && after.IsObject()) {
    for (const Value* side : {&before, &after}) {
      const Value& other_side = side == &before ? after : before;
      for (auto m = side->MemberBegin(); m != side->MemberEnd(); ++m) {
        const absl::string_view name = A(m->name);
        if (name == "version" || name == "flags" || name == "segments")
          continue;
        const Value* other = tools::FindMember(
            other_side, std::string_view(name.data(), name.size()));
        if (side == &after && other != nullptr) continue;  // seen from before
        if (side == &before) {
          DiffValues(&m->value, other, std::string(name), &diff.other);
        } else {
          DiffValues(nullptr, &m->value, std::string(name), &diff.other);
        }
      }
    }
  }
  return diff;
}

const char* FlagChange::KindName(Kind kind) {
  switch (kind) {
    case Kind::kAdded:
      return "added";
    case Kind::kRemoved:
      return "removed";
    case Kind::kChanged:
      break;
  }
  return "changed";
}

std::string DescribeChange(const FlagChange& change, const Value* before_flag,
                           const Value* after_flag) {
  if (change.kind != FlagChange::Kind::kChanged) {
    return FlagChange::KindName(change.kind);
  }
  std::vector<std::string> parts;
  bool rollout = false;
  for (const FieldChange& f : change.fields) {
    if (f.path == "killed") {
      parts.push_back(f.after == "true" ? "killed" : "revived");
    } else if (f.path == "enabled") {
      parts.push_back(f.after == "false" ? "disabled" : "enabled");
    } else if (f.path.rfind("default", 0) == 0) {
      rollout = true;
    } else {
      const std::string field = f.path.substr(0, f.path.find_first_of(".["));
      if (std::find(parts.begin(), parts.end(), field) == parts.end()) {
        parts.push_back(field);
      }
    }
  }
  if (rollout) {
    const std::string from =
        before_flag != nullptr ? DescribeFallthrough(*before_flag) : "";
    const std::string to =
        after_flag != nullptr ? DescribeFallthrough(*after_flag) : "";
    parts.insert(parts.begin(), absl::StrCat(from, " → ", to));
  }
  return absl::StrJoin(parts, ", ");
}

std::vector<std::string> SummarizeDiff(const DocumentDiff& diff,
                                       const rapidjson::Value& before,
                                       const rapidjson::Value& after) {
  std::vector<std::string> lines;
  const rapidjson::Value* old_flags = tools::FindMember(before, "flags");
  const rapidjson::Value* new_flags = tools::FindMember(after, "flags");
  for (const FlagChange& change : diff.flags) {
    const rapidjson::Value* a = old_flags != nullptr
                                    ? tools::FindMember(*old_flags, change.key)
                                    : nullptr;
    const rapidjson::Value* b = new_flags != nullptr
                                    ? tools::FindMember(*new_flags, change.key)
                                    : nullptr;
    lines.push_back(
        absl::StrCat(change.key, ": ", DescribeChange(change, a, b)));
  }
  if (diff.segments_changed()) lines.push_back("segments changed");
  return lines;
}

}  // namespace hotfixd
}  // namespace hotfix
