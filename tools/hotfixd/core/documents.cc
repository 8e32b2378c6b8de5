// tools/hotfixd/core/documents.cc

#include "core/documents.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/json_util.h"
#include "common/text.h"
#include "util/formats.h"
#include "util/keys.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

using rapidjson::Value;

using internal::ToAbsl;

absl::string_view A(const Value& s) {
  return absl::string_view(s.GetString(), s.GetStringLength());
}

Value& Flags(rapidjson::Document& doc) { return doc["flags"]; }

Value* FindFlag(rapidjson::Document& doc, std::string_view key) {
  return tools::FindMember(Flags(doc), key);
}

absl::Status FlagNotFound(std::string_view key) {
  return absl::NotFoundError(
      absl::StrCat("flags.", ToAbsl(key), ": no such flag"));
}

// Sets object[name] = value (adding the member if absent).
void SetMember(Value& object, const char* name, Value value,
               rapidjson::Document::AllocatorType& alloc) {
  auto it = object.FindMember(name);
  if (it != object.MemberEnd()) {
    it->value = std::move(value);
  } else {
    object.AddMember(Value(name, alloc), std::move(value), alloc);
  }
}

// A document in flagd's format (its "$schema" says so): flags are killed
// through "state" and split through a "fractional" targeting.
bool IsFlagd(const Value& doc) {
  const Value* schema = tools::FindMember(doc, "$schema");
  return schema != nullptr && schema->IsString() &&
         internal::IsFlagdSchema(
             std::string_view(schema->GetString(), schema->GetStringLength()));
}

bool SetKilledOn(Value& flag, bool killed, bool flagd,
                 rapidjson::Document::AllocatorType& alloc) {
  if (!flag.IsObject()) return false;
  const Value before(flag, alloc);
  if (flagd) {
    SetMember(flag, "state", Value(killed ? "DISABLED" : "ENABLED", alloc),
              alloc);
    return before != flag;
  }
  SetMember(flag, "killed", Value(killed), alloc);
  if (!killed) {
    auto it = flag.FindMember("enabled");
    if (it != flag.MemberEnd() && it->value.IsFalse()) it->value.SetBool(true);
  }
  return before != flag;
}

Value Weight(std::int64_t milli) {
  if (milli % 1000 == 0) return Value(static_cast<std::int64_t>(milli / 1000));
  return Value(static_cast<double>(milli) / 1000.0);
}

std::string FormatWeight(const Value& w) {
  if (!w.IsNumber()) return "?";
  const double d = w.GetDouble();
  if (std::floor(d) == d) return absl::StrCat(static_cast<std::int64_t>(d));
  return absl::StrCat(d);
}

// The two [variant, weight] entries of a flagd targeting that is exactly
// {"fractional": [[a, w], [b, w]]}, or null.
Value* TwoWayFractional(Value& flag) {
  Value* targeting = tools::FindMember(flag, "targeting");
  if (targeting == nullptr || !targeting->IsObject() ||
      targeting->MemberCount() != 1) {
    return nullptr;
  }
  Value* fractional = tools::FindMember(*targeting, "fractional");
  if (fractional == nullptr || !fractional->IsArray() ||
      fractional->Size() != 2) {
    return nullptr;
  }
  for (const Value& e : fractional->GetArray()) {
    if (!e.IsArray() || e.Size() < 1 || e.Size() > 2 || !e[0].IsString()) {
      return nullptr;
    }
  }
  return fractional;
}

// flagd: the first entry of a two-way fractional gets `milli` of 100000
// (flagd's integer weights; its bucket (hash * 100000) >> 32 only grows the
// first range as `milli` grows), or a boolean flag without targeting gets
// one.
absl::Status SetFlagdRollout(Value& flag, const std::string& path,
                             std::int64_t milli,
                             rapidjson::Document::AllocatorType& alloc) {
  auto entry = [&](std::string_view variant, std::int64_t weight) {
    Value e(rapidjson::kArrayType);
    e.PushBack(tools::StringCopy(variant, alloc), alloc);
    e.PushBack(Value(static_cast<std::int64_t>(weight)), alloc);
    return e;
  };
  if (Value* fractional = TwoWayFractional(flag)) {
    const std::string first((*fractional)[0][0].GetString(),
                            (*fractional)[0][0].GetStringLength());
    const std::string second((*fractional)[1][0].GetString(),
                             (*fractional)[1][0].GetStringLength());
    (*fractional)[0] = entry(first, milli);
    (*fractional)[1] = entry(second, 100000 - milli);
    return absl::OkStatus();
  }
  Value* targeting = tools::FindMember(flag, "targeting");
  const bool untargeted =
      targeting == nullptr || targeting->IsNull() ||
      (targeting->IsObject() && targeting->MemberCount() == 0);
  const Value* variants = tools::FindMember(flag, "variants");
  std::string on_name;
  std::string off_name;
  int others = 0;
  if (variants != nullptr && variants->IsObject()) {
    for (auto m = variants->MemberBegin(); m != variants->MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      if (m->value.IsTrue() && on_name.empty()) {
        on_name = name;
      } else if (m->value.IsFalse() && off_name.empty()) {
        off_name = name;
      } else {
        ++others;
      }
    }
  }
  if (!untargeted || on_name.empty() || off_name.empty() || others != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ".targeting: a flagd flag takes a rollout percentage when its "
        "targeting is exactly {\"fractional\": [[a, w], [b, w]]}, or when it "
        "is a boolean flag (one true, one false variant) without targeting; "
        "edit the targeting for anything else"));
  }
  Value fractional(rapidjson::kArrayType);
  fractional.PushBack(entry(on_name, milli), alloc);
  fractional.PushBack(entry(off_name, 100000 - milli), alloc);
  Value new_targeting(rapidjson::kObjectType);
  new_targeting.AddMember("fractional", std::move(fractional), alloc);
  SetMember(flag, "targeting", std::move(new_targeting), alloc);
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckShape(const Value& doc, std::string_view what) {
  if (!doc.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), ": a flag set must be a JSON object"));
  }
  const Value* flags = tools::FindMember(doc, "flags");
  if (flags == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), ".flags: required"));
  }
  if (!flags->IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), ".flags: must be an object"));
  }
  return absl::OkStatus();
}

void SetVersion(rapidjson::Document& doc, std::uint64_t version) {
  auto it = doc.FindMember("version");
  if (it != doc.MemberEnd()) {
    it->value.SetUint64(version);
    return;
  }
  // Keep "version" first, as the format's examples write it.
  Value copy(rapidjson::kObjectType);
  copy.AddMember("version", Value(static_cast<std::uint64_t>(version)),
                 doc.GetAllocator());
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    copy.AddMember(std::move(m->name), std::move(m->value), doc.GetAllocator());
  }
  static_cast<Value&>(doc) = std::move(copy);
}

bool HasFlag(const Value& doc, std::string_view key) {
  const Value* flags = tools::FindMember(doc, "flags");
  return flags != nullptr && tools::FindMember(*flags, key) != nullptr;
}

absl::Status PutFlag(rapidjson::Document& doc, std::string_view key,
                     const Value& flag) {
  if (!internal::IsValidKey(key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "flags.", ToAbsl(key),
        ": a flag key is 1-256 characters of [A-Za-z0-9._-], not \".\" or "
        "\"..\""));
  }
  auto& alloc = doc.GetAllocator();
  Value copy(flag, alloc);
  Value* existing = FindFlag(doc, key);
  if (existing != nullptr) {
    *existing = std::move(copy);
  } else {
    Flags(doc).AddMember(tools::StringCopy(key, alloc), std::move(copy), alloc);
  }
  return absl::OkStatus();
}

absl::Status DeleteFlag(rapidjson::Document& doc, std::string_view key) {
  Value& flags = Flags(doc);
  const Value name = tools::StringRef(key);
  auto it = flags.FindMember(name);
  if (it == flags.MemberEnd()) return FlagNotFound(key);
  const std::vector<std::string> dependents = RequiredBy(doc, key);
  if (!dependents.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot delete ", ToAbsl(key), ": ", absl::StrJoin(dependents, ", "),
        dependents.size() == 1 ? " requires" : " require",
        " it (as a prerequisite); remove the prerequisite first"));
  }
  flags.EraseMember(it);  // keeps the order of the other flags
  return absl::OkStatus();
}

std::vector<std::string> MissingFlags(const rapidjson::Value& before,
                                      const rapidjson::Value& after) {
  std::vector<std::string> out;
  const Value* from = tools::FindMember(before, "flags");
  const Value* to = tools::FindMember(after, "flags");
  if (from == nullptr || !from->IsObject()) return out;
  for (const auto& m : from->GetObject()) {
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (to == nullptr || tools::FindMember(*to, key) == nullptr) {
      out.emplace_back(key);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> RequiredBy(const rapidjson::Value& doc,
                                    std::string_view key) {
  std::vector<std::string> out;
  const Value* flags = tools::FindMember(doc, "flags");
  if (flags == nullptr || !flags->IsObject()) return out;
  for (const auto& m : flags->GetObject()) {
    const Value* prerequisites = tools::FindMember(m.value, "prerequisites");
    if (prerequisites == nullptr || !prerequisites->IsArray()) continue;
    for (const Value& p : prerequisites->GetArray()) {
      const Value* flag = tools::FindMember(p, "flag");
      if (flag != nullptr && flag->IsString() &&
          std::string_view(flag->GetString(), flag->GetStringLength()) == key) {
        out.emplace_back(m.name.GetString(), m.name.GetStringLength());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> StampHotfixExpiry(rapidjson::Document& doc,
                                           std::string_view date) {
  std::vector<std::string> stamped;
  for (auto& m : Flags(doc).GetObject()) {
    Value& flag = m.value;
    if (!flag.IsObject() || flag.HasMember("expires")) continue;
    const Value* tags = tools::FindMember(flag, "tags");
    if (tags == nullptr || !tags->IsArray()) continue;
    const bool hotfix = std::any_of(
        tags->Begin(), tags->End(),
        [](const Value& t) { return t.IsString() && A(t) == "hotfix"; });
    if (!hotfix) continue;
    flag.AddMember("expires", tools::StringCopy(date, doc.GetAllocator()),
                   doc.GetAllocator());
    stamped.emplace_back(m.name.GetString(), m.name.GetStringLength());
  }
  std::sort(stamped.begin(), stamped.end());
  return stamped;
}

absl::Status SetKilled(rapidjson::Document& doc, std::string_view key,
                       bool killed) {
  Value* flag = FindFlag(doc, key);
  if (flag == nullptr) return FlagNotFound(key);
  if (!flag->IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat("flags.", ToAbsl(key), ": must be an object"));
  }
  SetKilledOn(*flag, killed, IsFlagd(doc), doc.GetAllocator());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SetKilledByTag(
    rapidjson::Document& doc, std::string_view tag, bool killed) {
  std::vector<std::string> tagged;
  Value& flags = Flags(doc);
  for (auto m = flags.MemberBegin(); m != flags.MemberEnd(); ++m) {
    const Value* tags = tools::FindMember(m->value, "tags");
    if (tags == nullptr || !tags->IsArray()) continue;
    bool has = false;
    for (const Value& t : tags->GetArray()) {
      if (t.IsString() && A(t) == ToAbsl(tag)) has = true;
    }
    if (!has) continue;
    SetKilledOn(m->value, killed, IsFlagd(doc), doc.GetAllocator());
    tagged.emplace_back(m->name.GetString(), m->name.GetStringLength());
  }
  if (tagged.empty()) {
    return absl::NotFoundError(
        absl::StrCat("tag \"", ToAbsl(tag), "\": no flag carries this tag"));
  }
  std::sort(tagged.begin(), tagged.end());
  return tagged;
}

absl::Status SetRollout(rapidjson::Document& doc, std::string_view key,
                        double percent) {
  const std::string path = absl::StrCat("flags.", ToAbsl(key));
  if (!(percent >= 0 && percent <= 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("percent: must be between 0 and 100, got ",
                     tools::FormatNumber(percent)));
  }
  const double scaled = percent * 1000;
  const std::int64_t milli = std::llround(scaled);
  if (std::fabs(scaled - static_cast<double>(milli)) > 1e-6) {
    return absl::InvalidArgumentError(
        absl::StrCat("percent: at most three decimals (0.001 % steps), got ",
                     tools::FormatNumber(percent)));
  }
  Value* flag = FindFlag(doc, key);
  if (flag == nullptr) return FlagNotFound(key);
  if (!flag->IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": must be an object"));
  }
  auto& alloc = doc.GetAllocator();
  if (IsFlagd(doc)) return SetFlagdRollout(*flag, path, milli, alloc);
  Value* fallthrough = tools::FindMember(*flag, "default");
  if (fallthrough == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".default: required"));
  }
  Value* rollout = tools::FindMember(*fallthrough, "rollout");
  if (rollout != nullptr) {
    Value* split = tools::FindMember(*rollout, "split");
    if (split == nullptr || !split->IsArray()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".default.rollout.split: must be an array"));
    }
    if (split->Size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ".default.rollout.split: has ", split->Size(),
          " entries; a rollout percentage needs exactly 2 (edit the flag to "
          "change a multi-way split)"));
    }
    for (rapidjson::SizeType i = 0; i < 2; ++i) {
      if (!(*split)[i].IsObject()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ".default.rollout.split[", i, "]: must be an object"));
      }
    }
    SetMember((*split)[0], "weight", Weight(milli), alloc);
    SetMember((*split)[1], "weight", Weight(100000 - milli), alloc);
    return absl::OkStatus();
  }
  // A fixed variant: convert an on/off boolean flag to a two-way split.
  const Value* variants = tools::FindMember(*flag, "variants");
  std::string on_name;
  std::string off_name;
  int bools = 0;
  int others = 0;
  if (variants != nullptr && variants->IsObject()) {
    for (auto m = variants->MemberBegin(); m != variants->MemberEnd(); ++m) {
      if (m->value.IsTrue() && on_name.empty()) {
        on_name.assign(m->name.GetString(), m->name.GetStringLength());
        ++bools;
      } else if (m->value.IsFalse() && off_name.empty()) {
        off_name.assign(m->name.GetString(), m->name.GetStringLength());
        ++bools;
      } else {
        ++others;
      }
    }
  }
  if (bools != 2 || others != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ".default: not a two-way percentage split, and the flag is not a "
        "boolean flag with exactly one true and one false variant"));
  }
  Value on_entry(rapidjson::kObjectType);
  on_entry.AddMember("variant", tools::StringCopy(on_name, alloc), alloc);
  on_entry.AddMember("weight", Weight(milli), alloc);
  Value off_entry(rapidjson::kObjectType);
  off_entry.AddMember("variant", tools::StringCopy(off_name, alloc), alloc);
  off_entry.AddMember("weight", Weight(100000 - milli), alloc);
  Value split(rapidjson::kArrayType);
  split.PushBack(std::move(on_entry), alloc);
  split.PushBack(std::move(off_entry), alloc);
  Value new_rollout(rapidjson::kObjectType);
  new_rollout.AddMember("split", std::move(split), alloc);
  Value serve(rapidjson::kObjectType);
  serve.AddMember("rollout", std::move(new_rollout), alloc);
  *fallthrough = std::move(serve);
  return absl::OkStatus();
}

std::string DescribeFallthrough(const Value& flag) {
  const Value* serve = tools::FindMember(flag, "default");
  if (serve == nullptr) return "";
  if (serve->IsString()) return std::string(A(*serve));
  const Value* variant = tools::FindMember(*serve, "variant");
  if (variant != nullptr && variant->IsString())
    return std::string(A(*variant));
  const Value* rollout = tools::FindMember(*serve, "rollout");
  if (rollout == nullptr) return "";
  const Value* split = tools::FindMember(*rollout, "split");
  if (split == nullptr || !split->IsArray()) return "rollout";
  std::string out = "rollout";
  bool first = true;
  for (const Value& entry : split->GetArray()) {
    const Value* v = tools::FindMember(entry, "variant");
    const Value* w = tools::FindMember(entry, "weight");
    absl::StrAppend(&out, first ? " " : " / ",
                    v != nullptr && v->IsString() ? A(*v) : "?", " ",
                    w != nullptr ? FormatWeight(*w) : "?", "%");
    first = false;
  }
  return out;
}

}  // namespace hotfixd
}  // namespace hotfix
