// tools/hotfixctl/convert.cc
//
// `hotfixctl convert --from flagd FILE`: a flagd flag-definition file in
// hotfix's native format (docs/flag-format.md), for the flags whose native
// form evaluates exactly as flagd does for every context. What cannot be
// said natively with the same result is listed on stderr, one line per flag,
// and the flag is left out (exit status 1):
//   - `fractional` (flagd's MurmurHash3 buckets are not native XXH3 ones:
//     converting would move users between variants);
//   - loose `==`, numeric and `sem_ver` comparisons, `!`, arithmetic and
//     every other operator: JSON Logic coerces types and parses versions
//     differently from native clauses, which fail closed;
//   - mixed-type or null variants, no defaultVariant.
// Converted: static and DISABLED flags; targeting that is a constant variant
// or an `if` chain of conditions built from `===`, `in` (a constant list),
// `starts_with`, `ends_with` on a `var`, with `and` / `or`.

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/files.h"
#include "common/json_util.h"
#include "hotfix/snapshot.h"
#include "offline.h"
#include "output.h"
#include "rapidjson/prettywriter.h"

namespace hotfix {
namespace hotfixctl {
namespace {

using rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

std::string_view View(const Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// flagd's $ref expansion (as the library's compiler does it): each
// {"$ref":"name"} in the compact text becomes $evaluators.name, one
// evaluator at a time in declaration order.
absl::Status ExpandRefs(rapidjson::Document* doc) {
  const Value* evaluators = tools::FindMember(*doc, "$evaluators");
  if (evaluators == nullptr || !evaluators->IsObject()) return absl::OkStatus();
  std::string text = tools::ToJson(*doc);
  for (auto m = evaluators->MemberBegin(); m != evaluators->MemberEnd(); ++m) {
    absl::StrReplaceAll(
        {{absl::StrCat("{\"$ref\":\"", std::string(View(m->name)), "\"}"),
          tools::ToJson(m->value)}},
        &text);
  }
  rapidjson::Document expanded;
  absl::Status st = tools::ParseJson(text, "expanded document", &expanded);
  if (!st.ok()) return st;
  doc->Swap(expanded);
  return absl::OkStatus();
}

class FlagConverter {
 public:
  FlagConverter(const Value& flag, Alloc& alloc) : flag_(flag), alloc_(alloc) {}

  // The native flag, or the reason it cannot be converted.
  absl::StatusOr<Value> Convert();

 private:
  bool HasVariant(const Value& name) const {
    return name.IsString() && variants_ != nullptr &&
           variants_->HasMember(name);
  }
  // A condition as OR-of-AND clause lists.
  absl::Status Condition(const Value& c, std::vector<std::vector<Value>>* out);
  absl::Status Atom(const Value& c, Value* clause);
  absl::StatusOr<std::string> Attribute(const Value& var);

  const Value& flag_;
  Alloc& alloc_;
  const Value* variants_ = nullptr;
};

absl::StatusOr<std::string> FlagConverter::Attribute(const Value& var) {
  if (!var.IsObject() || var.MemberCount() != 1 || !var.HasMember("var")) {
    return absl::InvalidArgumentError("a condition must test a {\"var\": ...}");
  }
  const Value& name = var["var"];
  const Value* n = &name;
  if (name.IsArray() && name.Size() == 1) n = &name[0];
  if (!n->IsString() || n->GetStringLength() == 0) {
    return absl::InvalidArgumentError(
        "var with a default or a computed name has no native form");
  }
  const std::string attribute(View(*n));
  if (attribute == "targetingKey") return std::string("key");
  if (attribute.rfind("$flagd", 0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(attribute, " has no native attribute"));
  }
  if (attribute == "key") {
    return absl::InvalidArgumentError(
        "attribute \"key\" is the context key in hotfix");
  }
  return attribute;
}

absl::Status FlagConverter::Atom(const Value& c, Value* clause) {
  if (!c.IsObject() || c.MemberCount() != 1) {
    return absl::InvalidArgumentError("a condition must be one operator");
  }
  const auto m = c.MemberBegin();
  const std::string_view op = View(m->name);
  const Value& args = m->value;
  Value out(rapidjson::kObjectType);
  if (op == "===" || op == "in" || op == "starts_with" || op == "ends_with") {
    if (!args.IsArray() || args.Size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", std::string(op), "\" with other than two operands"));
    }
    const Value* var = &args[0];
    const Value* constant = &args[1];
    if (op == "===" && !args[0].IsObject()) std::swap(var, constant);
    auto attribute = Attribute(*var);
    if (!attribute.ok()) return attribute.status();
    out.AddMember("attribute", tools::StringCopy(*attribute, alloc_), alloc_);
    if (op == "===") {
      if (!(constant->IsString() || constant->IsNumber() ||
            constant->IsBool())) {
        return absl::InvalidArgumentError("=== against a non-constant");
      }
      out.AddMember("op", "eq", alloc_);
      out.AddMember("value", Value(*constant, alloc_), alloc_);
    } else if (op == "in") {
      if (!constant->IsArray() || constant->Empty()) {
        return absl::InvalidArgumentError(
            "in needs a constant list (a string haystack tests substrings)");
      }
      Value values(rapidjson::kArrayType);
      for (const Value& x : constant->GetArray()) {
        const bool same = (x.IsString() && (*constant)[0].IsString()) ||
                          (x.IsNumber() && (*constant)[0].IsNumber()) ||
                          (x.IsBool() && (*constant)[0].IsBool());
        if (!same) {
          return absl::InvalidArgumentError("in with a list of mixed types");
        }
        values.PushBack(Value(x, alloc_), alloc_);
      }
      out.AddMember("op", "in", alloc_);
      out.AddMember("values", std::move(values), alloc_);
    } else {
      if (!constant->IsString()) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(op), " against a non-string"));
      }
      out.AddMember("op", Value(std::string(op).c_str(), alloc_), alloc_);
      out.AddMember("value", Value(*constant, alloc_), alloc_);
    }
    *clause = std::move(out);
    return absl::OkStatus();
  }
  if (op == "fractional") {
    return absl::InvalidArgumentError(
        "fractional buckets users with flagd's MurmurHash3; a native split "
        "(XXH3) would move them between variants");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", std::string(op),
      "\" has no exact native form (JSON Logic coerces types and parses "
      "versions where native clauses fail closed)"));
}

absl::Status FlagConverter::Condition(const Value& c,
                                      std::vector<std::vector<Value>>* out) {
  if (c.IsObject() && c.MemberCount() == 1 && c.HasMember("or") &&
      c["or"].IsArray()) {
    for (const Value& x : c["or"].GetArray()) {
      absl::Status st = Condition(x, out);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }
  std::vector<Value> all;
  if (c.IsObject() && c.MemberCount() == 1 && c.HasMember("and") &&
      c["and"].IsArray() && !c["and"].Empty()) {
    for (const Value& x : c["and"].GetArray()) {
      Value clause;
      absl::Status st = Atom(x, &clause);
      if (!st.ok()) return st;
      all.push_back(std::move(clause));
    }
  } else {
    Value clause;
    absl::Status st = Atom(c, &clause);
    if (!st.ok()) return st;
    all.push_back(std::move(clause));
  }
  out->push_back(std::move(all));
  return absl::OkStatus();
}

absl::StatusOr<Value> FlagConverter::Convert() {
  Value out(rapidjson::kObjectType);
  variants_ = tools::FindMember(flag_, "variants");
  if (variants_ == nullptr || !variants_->IsObject() || variants_->Empty()) {
    return absl::InvalidArgumentError("no variants");
  }
  int type = -1;
  for (auto m = variants_->MemberBegin(); m != variants_->MemberEnd(); ++m) {
    const Value& v = m->value;
    const int t = v.IsBool()                      ? 0
                  : v.IsString()                  ? 1
                  : v.IsNumber()                  ? 2
                  : (v.IsObject() || v.IsArray()) ? 3
                                                  : 4;
    if (t == 4) return absl::InvalidArgumentError("a null variant");
    if (type >= 0 && t != type) {
      return absl::InvalidArgumentError(
          "variants of different types (native variants share one type)");
    }
    type = t;
  }
  out.AddMember("variants", Value(*variants_, alloc_), alloc_);
  const Value* dv = tools::FindMember(flag_, "defaultVariant");
  if (dv == nullptr || !dv->IsString() || dv->GetStringLength() == 0) {
    return absl::InvalidArgumentError(
        "no defaultVariant (flagd then serves the caller's default with "
        "DEFAULT; a native flag always has a default)");
  }
  out.AddMember("default", Value(*dv, alloc_), alloc_);
  const Value* state = tools::FindMember(flag_, "state");
  if (state != nullptr && state->IsString() && View(*state) == "DISABLED") {
    out.AddMember("killed", true, alloc_);
  }
  const Value* targeting = tools::FindMember(flag_, "targeting");
  Value rules(rapidjson::kArrayType);
  auto serve = [&](const Value& result) -> absl::Status {
    if (!HasVariant(result)) {
      return absl::InvalidArgumentError(
          "a result that is not a constant variant name");
    }
    return absl::OkStatus();
  };
  if (targeting != nullptr && targeting->IsString() &&
      targeting->GetStringLength() > 0) {
    absl::Status st = serve(*targeting);
    if (!st.ok()) return st;
    Value rule(rapidjson::kObjectType);
    rule.AddMember("if", Value(rapidjson::kArrayType), alloc_);
    rule.AddMember("serve", Value(*targeting, alloc_), alloc_);
    rules.PushBack(std::move(rule), alloc_);
  } else if (targeting != nullptr && targeting->IsObject() &&
             targeting->MemberCount() > 0) {
    const Value* chain = tools::FindMember(*targeting, "if");
    if (targeting->MemberCount() != 1 || chain == nullptr ||
        !chain->IsArray() || chain->Size() < 2) {
      if (targeting->HasMember("fractional")) {
        Value ignored;
        return Atom(*targeting, &ignored);
      }
      return absl::InvalidArgumentError("targeting other than an \"if\" chain");
    }
    const rapidjson::SizeType n = chain->Size();
    rapidjson::SizeType i = 0;
    for (; i + 1 < n; i += 2) {
      const Value& result = (*chain)[i + 1];
      absl::Status st = serve(result);
      if (!st.ok()) return st;
      std::vector<std::vector<Value>> dnf;
      st = Condition((*chain)[i], &dnf);
      if (!st.ok()) return st;
      for (std::vector<Value>& clauses : dnf) {
        Value rule(rapidjson::kObjectType);
        Value list(rapidjson::kArrayType);
        for (Value& c : clauses) list.PushBack(std::move(c), alloc_);
        rule.AddMember("if", std::move(list), alloc_);
        rule.AddMember("serve", Value(result, alloc_), alloc_);
        rules.PushBack(std::move(rule), alloc_);
      }
    }
    if (i < n && !(*chain)[i].IsNull()) {
      absl::Status st = serve((*chain)[i]);
      if (!st.ok()) return st;
      Value rule(rapidjson::kObjectType);
      rule.AddMember("if", Value(rapidjson::kArrayType), alloc_);
      rule.AddMember("serve", Value((*chain)[i], alloc_), alloc_);
      rules.PushBack(std::move(rule), alloc_);
    }
  }
  if (!rules.Empty()) out.AddMember("rules", std::move(rules), alloc_);
  if (const Value* metadata = tools::FindMember(flag_, "metadata");
      metadata != nullptr && metadata->IsObject()) {
    Value extra(rapidjson::kObjectType);
    for (auto m = metadata->MemberBegin(); m != metadata->MemberEnd(); ++m) {
      const std::string_view key = View(m->name);
      if ((key == "owner" || key == "ticket" || key == "description") &&
          m->value.IsString()) {
        out.AddMember(Value(m->name, alloc_), Value(m->value, alloc_), alloc_);
      } else {
        extra.AddMember(Value(m->name, alloc_), Value(m->value, alloc_),
                        alloc_);
      }
    }
    if (!extra.ObjectEmpty()) {
      out.AddMember("x-flagd-metadata", std::move(extra), alloc_);
    }
  }
  return out;
}

}  // namespace

int Convert(const Args& args) {
  if (args.positional.size() != 2 || args.Get("from") != "flagd") {
    std::fprintf(stderr, "usage: hotfixctl convert --from flagd FILE\n");
    return kExitUsage;
  }
  const std::string& path = args.positional[1];
  auto text = tools::ReadFile(path, std::size_t{64} << 20);
  if (!text.ok()) return ReportError(text.status());
  CompileOptions options;
  options.format = DocumentFormat::kFlagd;
  auto snapshot = Compile(*text, options);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(),
                 std::string(snapshot.status().message()).c_str());
    return kExitFailed;
  }
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(*text, path, &doc);
  if (st.ok()) st = ExpandRefs(&doc);
  if (!st.ok()) return ReportError(st);
  Alloc& alloc = doc.GetAllocator();
  rapidjson::Document out(rapidjson::kObjectType);
  Alloc& out_alloc = out.GetAllocator();
  const Value* version = tools::FindMember(doc, "version");
  out.AddMember("version",
                version != nullptr && version->IsUint64()
                    ? Value(version->GetUint64())
                    : Value(1u),
                out_alloc);
  if (const Value* metadata = tools::FindMember(doc, "metadata")) {
    out.AddMember("x-flagd-metadata", Value(*metadata, out_alloc), out_alloc);
  }
  Value flags(rapidjson::kObjectType);
  int skipped = 0;
  const Value* in_flags = tools::FindMember(doc, "flags");
  for (auto m = in_flags->MemberBegin(); m != in_flags->MemberEnd(); ++m) {
    FlagConverter converter(m->value, out_alloc);
    auto flag = converter.Convert();
    if (!flag.ok()) {
      std::fprintf(stderr, "flags.%s: not converted: %s\n",
                   std::string(View(m->name)).c_str(),
                   std::string(flag.status().message()).c_str());
      ++skipped;
      continue;
    }
    flags.AddMember(Value(m->name, out_alloc), std::move(*flag), out_alloc);
  }
  (void)alloc;
  out.AddMember("flags", std::move(flags), out_alloc);
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  out.Accept(writer);
  std::printf("%s\n", buffer.GetString());
  // What was written must compile natively.
  CompileOptions native;
  native.format = DocumentFormat::kNative;
  auto check = Compile(buffer.GetString(), native);
  if (!check.ok()) {
    std::fprintf(stderr,
                 "hotfixctl: internal error: the converted document "
                 "does not compile: %s\n",
                 std::string(check.status().message()).c_str());
    return kExitFailed;
  }
  if (skipped > 0) {
    std::fprintf(stderr, "%d flag(s) not converted (listed above)\n", skipped);
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace hotfixctl
}  // namespace hotfix
