// tools/hotfixd/api/review_api.cc
//
// Review before change: what differs between two environments or versions
// (`GET /v1/admin/diff?from=staging&to=production@41`), between an
// environment and a document (`POST .../envs/{env}/diff`), and promotion —
// copying chosen flags from one environment to another as one write, their
// definitions without the kill state unless asked (`POST .../promote`).
// Promotion is an ordinary write: `?dry_run=true` previews it, and on a
// protected environment it becomes a change request.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/json_util.h"
#include "core/diff.h"
#include "core/documents.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

using internal::ToAbsl;
using Value = rapidjson::Value;

// An environment's document at its current version or a stored one.
struct Side {
  std::string env;
  std::uint64_t version = 0;
  std::shared_ptr<rapidjson::Document> doc;
};

// Loads "ENV" (current) or "ENV@VERSION"; `what` names the parameter.
absl::StatusOr<Side> LoadSide(const Call& call, std::string_view spec,
                              std::string_view what) {
  const std::size_t at = spec.find('@');
  const std::string_view name = spec.substr(0, at);
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(what),
        ": expected ENV or ENV@VERSION (\"staging\", \"production@41\")"));
  }
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call, name));
  Side side;
  side.env = state->name;
  side.version = state->version;
  std::string text = *state->document;
  if (at != std::string_view::npos) {
    const std::optional<std::uint64_t> v = ParseVersion(spec.substr(at + 1));
    if (!v.has_value() || *v == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(what), ": \"", ToAbsl(spec.substr(at + 1)),
                       "\" is not a version number"));
    }
    if (*v != state->version) {
      HOTFIX_ASSIGN_OR_RETURN(VersionRow row,
                              call.api.store->GetVersion(state->name, *v));
      text = std::move(row.document);
      side.version = *v;
    }
  }
  side.doc = std::make_shared<rapidjson::Document>();
  absl::Status st = tools::ParseJson(text, "stored document", side.doc.get());
  if (!st.ok()) return absl::InternalError(st.message());
  return side;
}

void WriteSide(tools::JsonOut& out, std::string_view name, const Side& side) {
  out.Begin(name).Str("env", side.env).U64("version", side.version).End();
}

// The answer of both diff endpoints.
Reply DiffReply(const Side& from, const Side* to_env,
                const Value& to_document) {
  const DocumentDiff diff = DiffDocuments(*from.doc, to_document);
  tools::JsonOut out;
  out.Begin();
  WriteSide(out, "from", from);
  if (to_env != nullptr) {
    WriteSide(out, "to", *to_env);
  } else {
    out.Null("to");  // the request's document
  }
  out.Bool("changed", !diff.empty())
      .Strings("changed_keys", diff.changed_keys)
      .Strings("summary", SummarizeDiff(diff, *from.doc, to_document));
  WriteDiff(out, diff);
  out.End();
  return Reply::Json(out.Take());
}

// The keys of the segments a flag's rules name (clauses with op "segment").
std::vector<std::string> SegmentsUsed(const Value& flag) {
  std::vector<std::string> out;
  const Value* rules = tools::FindMember(flag, "rules");
  if (rules == nullptr || !rules->IsArray()) return out;
  for (const Value& rule : rules->GetArray()) {
    const Value* clauses = tools::FindMember(rule, "if");
    if (clauses == nullptr || !clauses->IsArray()) continue;
    for (const Value& clause : clauses->GetArray()) {
      const Value* op = tools::FindMember(clause, "op");
      if (op == nullptr || !op->IsString() ||
          std::string_view(op->GetString()) != "segment") {
        continue;
      }
      for (const char* member : {"value", "values"}) {
        const Value* v = tools::FindMember(clause, member);
        if (v == nullptr) continue;
        if (v->IsString()) out.emplace_back(v->GetString());
        if (v->IsArray()) {
          for (const Value& s : v->GetArray()) {
            if (s.IsString()) out.emplace_back(s.GetString());
          }
        }
      }
    }
  }
  return out;
}

Value& EnsureObject(rapidjson::Document& doc, const char* name) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsObject()) {
    if (it != doc.MemberEnd()) doc.EraseMember(it);
    doc.AddMember(Value(name, doc.GetAllocator()),
                  Value(rapidjson::kObjectType), doc.GetAllocator());
    it = doc.FindMember(name);
  }
  return it->value;
}

struct PromoteOptions {
  std::vector<std::string> flags;
  bool include_kill_state = false;
  bool include_segments = false;
};

// Copies the chosen flags of `source` into `doc` (the target's document).
absl::Status ApplyPromotion(const Side& source, const PromoteOptions& options,
                            rapidjson::Document& doc) {
  auto& alloc = doc.GetAllocator();
  const Value* from_flags = tools::FindMember(*source.doc, "flags");
  const Value* from_segments = tools::FindMember(*source.doc, "segments");
  for (std::size_t i = 0; i < options.flags.size(); ++i) {
    const std::string& key = options.flags[i];
    const Value* flag =
        from_flags != nullptr ? tools::FindMember(*from_flags, key) : nullptr;
    if (flag == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("body.flags[", i, "]: \"", key, "\" does not exist in ",
                       source.env, " version ", source.version));
    }
    Value copy;
    copy.CopyFrom(*flag, alloc);
    if (!options.include_kill_state && copy.IsObject()) {
      copy.RemoveMember("killed");
      copy.RemoveMember("enabled");
      const Value* target_flags = tools::FindMember(doc, "flags");
      const Value* target = target_flags != nullptr
                                ? tools::FindMember(*target_flags, key)
                                : nullptr;
      for (const char* member : {"killed", "enabled"}) {
        const Value* kept =
            target != nullptr ? tools::FindMember(*target, member) : nullptr;
        if (kept != nullptr) {
          copy.AddMember(Value(member, alloc), Value(*kept, alloc), alloc);
        }
      }
    }
    // Segments the flag uses come along when the target lacks them; a
    // target's segment of the same name that differs is only replaced when
    // asked, since other flags there may use it.
    for (const std::string& segment : SegmentsUsed(*flag)) {
      const Value* wanted = from_segments != nullptr
                                ? tools::FindMember(*from_segments, segment)
                                : nullptr;
      if (wanted == nullptr) continue;  // the compiler names it
      Value& segments = EnsureObject(doc, "segments");
      Value* have = tools::FindMember(segments, segment);
      if (have != nullptr && *have == *wanted) continue;
      if (have != nullptr && !options.include_segments) {
        return absl::InvalidArgumentError(absl::StrCat(
            "flags.", key, ": segment \"", segment, "\" differs between ",
            source.env,
            " and the target; send \"include_segments\": true "
            "(hotfixctl promote --include-segments) to replace it"));
      }
      if (have != nullptr) {
        have->CopyFrom(*wanted, alloc);
      } else {
        segments.AddMember(Value(segment.c_str(), alloc), Value(*wanted, alloc),
                           alloc);
      }
    }
    HOTFIX_RETURN_IF_ERROR(PutFlag(doc, key, copy));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Reply> DiffEnvironments(const Call& call) {
  const std::string* from = call.request.FindQuery("from");
  const std::string* to = call.request.FindQuery("to");
  if (from == nullptr || to == nullptr) {
    return absl::InvalidArgumentError(
        "from, to: both required (?from=staging&to=production, or "
        "?from=production@40&to=production@41)");
  }
  HOTFIX_ASSIGN_OR_RETURN(Side a, LoadSide(call, *from, "from"));
  HOTFIX_ASSIGN_OR_RETURN(Side b, LoadSide(call, *to, "to"));
  return DiffReply(a, &b, *b.doc);
}

absl::StatusOr<Reply> DiffWithDocument(const Call& call) {
  std::string spec(call.Param("env"));
  if (const std::string* version = call.request.FindQuery("version")) {
    absl::StrAppend(&spec, "@", *version);
  }
  HOTFIX_ASSIGN_OR_RETURN(Side from, LoadSide(call, spec, "env"));
  rapidjson::Document body;
  HOTFIX_RETURN_IF_ERROR(tools::ParseJson(call.request.body, "body", &body));
  const char* const kAllowed[] = {"document", nullptr};
  HOTFIX_RETURN_IF_ERROR(tools::CheckKnownFields(body, "body", kAllowed));
  const Value* document = tools::FindMember(body, "document");
  if (document == nullptr) {
    return absl::InvalidArgumentError("body.document: required");
  }
  HOTFIX_RETURN_IF_ERROR(CheckShape(*document, "body.document"));
  return DiffReply(from, nullptr, *document);
}

absl::StatusOr<Reply> Promote(const Call& call) {
  const std::string env(call.Param("env"));
  return DoWrite(
      call, env, "flags.promote",
      {"from", "flags", "include_kill_state", "include_segments"},
      [&call, env](const rapidjson::Document& body,
                   WriteRequest* w) -> absl::StatusOr<FlagService::Mutation> {
        HOTFIX_ASSIGN_OR_RETURN(std::string from,
                                tools::GetRequiredString(body, "from", "body"));
        HOTFIX_ASSIGN_OR_RETURN(Side source, LoadSide(call, from, "body.from"));
        if (source.env == env && from.find('@') == std::string::npos) {
          return absl::InvalidArgumentError(
              "body.from: the environment promoted to (give another "
              "environment, or ENV@VERSION to restore flags from a version)");
        }
        PromoteOptions options;
        const Value* flags = tools::FindMember(body, "flags");
        if (flags == nullptr || !flags->IsArray() || flags->Empty()) {
          return absl::InvalidArgumentError(
              "body.flags: required, a non-empty array of flag keys");
        }
        for (rapidjson::SizeType i = 0; i < flags->Size(); ++i) {
          const Value& k = (*flags)[i];
          if (!k.IsString()) {
            return absl::InvalidArgumentError(
                absl::StrCat("body.flags[", i, "]: must be a flag key"));
          }
          options.flags.emplace_back(k.GetString(), k.GetStringLength());
        }
        HOTFIX_ASSIGN_OR_RETURN(
            std::optional<bool> kill_state,
            tools::GetOptionalBool(body, "include_kill_state", "body"));
        HOTFIX_ASSIGN_OR_RETURN(
            std::optional<bool> segments,
            tools::GetOptionalBool(body, "include_segments", "body"));
        options.include_kill_state = kill_state.value_or(false);
        options.include_segments = segments.value_or(false);
        tools::JsonOut extra;
        extra.Begin()
            .Str("from", source.env)
            .U64("from_version", source.version)
            .Strings("flags", options.flags)
            .Bool("include_kill_state", options.include_kill_state)
            .End();
        // The object's inside: drop the braces.
        const std::string detail = extra.Take();
        w->audit_extra = detail.substr(1, detail.size() - 2);
        return FlagService::Mutation(
            [source = std::move(source),
             options = std::move(options)](rapidjson::Document& doc) {
              return ApplyPromotion(source, options, doc);
            });
      });
}

}  // namespace hotfixd
}  // namespace hotfix
