// tools/hotfixd/api/write.cc

#include "api/write.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/requests.h"
#include "common/json_util.h"
#include "common/text.h"
#include "store/epoch.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

using internal::ToAbsl;

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

absl::StatusOr<WriteBody> ParseWriteBody(
    const HttpRequest& request,
    std::initializer_list<std::string_view> allowed) {
  WriteBody out;
  const absl::string_view body = absl::StripAsciiWhitespace(request.body);
  if (body.empty()) {
    out.json.SetObject();
  } else {
    HOTFIX_RETURN_IF_ERROR(tools::ParseJson(
        std::string_view(body.data(), body.size()), "body", &out.json));
    if (!out.json.IsObject()) {
      return absl::InvalidArgumentError("body: must be a JSON object");
    }
  }
  for (auto m = out.json.MemberBegin(); m != out.json.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    bool known = name == "reason";
    for (std::string_view a : allowed) known = known || name == a;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("body.", ToAbsl(name), ": unknown field"));
    }
  }
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::string> reason,
                          tools::GetOptionalString(out.json, "reason", "body"));
  std::string text;
  if (reason.has_value()) {
    text = std::move(*reason);
  } else if (const std::string* h = request.FindHeader("x-hotfix-reason")) {
    if (!IsValidUtf8(*h)) {
      return absl::InvalidArgumentError("X-Hotfix-Reason: must be UTF-8 text");
    }
    text = *h;
  }
  text = std::string(absl::StripAsciiWhitespace(text));
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "reason: required for every change (body \"reason\" or the "
        "X-Hotfix-Reason header)");
  }
  const std::size_t chars = tools::CountCharacters(text);
  if (chars > kMaxReasonChars) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reason: at most ", kMaxReasonChars, " characters, got ", chars));
  }
  out.reason = std::move(text);
  return out;
}

absl::StatusOr<std::optional<std::uint64_t>> ParseIfMatch(
    const HttpRequest& request, std::string_view env) {
  const std::string* header = request.FindHeader("if-match");
  if (header == nullptr) return std::optional<std::uint64_t>();
  absl::string_view v = absl::StripAsciiWhitespace(*header);
  if (v == "*") return std::optional<std::uint64_t>();
  const bool weak = absl::ConsumePrefix(&v, "W/");
  const bool quoted = v.size() >= 2 && v.front() == '"' && v.back() == '"';
  if (quoted) v = v.substr(1, v.size() - 2);
  std::optional<std::uint64_t> version;
  if (!weak) version = ParseVersion(std::string_view(v.data(), v.size()));
  if (!version.has_value() && quoted &&
      absl::ConsumePrefix(&v, absl::StrCat(ToAbsl(env), "-"))) {
    version = ParseVersion(std::string_view(v.data(), v.size()));
  }
  if (!version.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "If-Match: expected a version number (42) or this environment's "
        "ETag (\"",
        ToAbsl(env), "-42\"), got ", tools::JsonQuote(*header)));
  }
  return version;
}

bool IfNoneMatchHits(const HttpRequest& request, std::string_view etag) {
  const std::string* header = request.FindHeader("if-none-match");
  if (header == nullptr) return false;
  for (absl::string_view tag : absl::StrSplit(*header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");
    if (tag == "*" || tag == ToAbsl(etag)) return true;
  }
  return false;
}

namespace {

void WriteFields(tools::JsonOut& out, std::string_view name,
                 const std::vector<FieldChange>& fields) {
  out.BeginArray(name);
  for (const FieldChange& f : fields) {
    out.Begin()
        .Str("path", f.path)
        .Raw("before", f.before)
        .Raw("after", f.after);
    out.End();
  }
  out.EndArray();
}

void WriteDiffMembers(tools::JsonOut& out, const DocumentDiff& diff) {
  out.BeginArray("flags");
  for (const FlagChange& f : diff.flags) {
    out.Begin().Str("key", f.key).Str("change", FlagChange::KindName(f.kind));
    WriteFields(out, "fields", f.fields);
    out.End();
  }
  out.EndArray();
  WriteFields(out, "segments", diff.segments);
  WriteFields(out, "other", diff.other);
}

}  // namespace

void WriteDiff(tools::JsonOut& out, const DocumentDiff& diff) {
  out.Begin("diff");
  WriteDiffMembers(out, diff);
  out.End();
}

std::string DiffJson(const DocumentDiff& diff) {
  tools::JsonOut out;
  out.Begin();
  WriteDiffMembers(out, diff);
  out.End();
  return out.Take();
}

bool IsImmediate(std::string_view action) {
  return action == "flag.kill" || action == "tag.kill";
}

Reply WriteResultReply(const WriteResult& r, int created_status,
                       bool with_diff) {
  tools::JsonOut out;
  out.Begin()
      .Str("env", r.env)
      .U64("version", r.version)
      .Bool("changed", r.changed)
      .StrOrNull("event", r.event)
      .Strings("changed_keys", r.changed_keys)
      .Strings("summary", r.summary)
      .Strings("warnings", r.warnings)
      .Str("etag", r.etag);
  if (r.dry_run) out.Bool("dry_run", true);
  if (r.dry_run || with_diff) WriteDiff(out, r.diff);
  out.End();
  Reply reply =
      Reply::Json(out.Take(), r.changed && !r.dry_run ? created_status : 200);
  if (!r.dry_run) {
    reply.SetHeader("ETag", r.etag);
    reply.SetHeader("X-Hotfix-Version", absl::StrCat(r.version));
  }
  return reply;
}

absl::StatusOr<Reply> DoWrite(const Call& call, std::string_view env,
                              std::string action,
                              std::initializer_list<std::string_view> allowed,
                              const MakeMutation& make, int created_status) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, Environment(call, env));
  HOTFIX_ASSIGN_OR_RETURN(WriteBody body,
                          ParseWriteBody(call.request, allowed));
  HOTFIX_ASSIGN_OR_RETURN(std::optional<std::uint64_t> if_match,
                          ParseIfMatch(call.request, state->name));
  WriteRequest w;
  w.env = state->name;
  w.actor = call.who;
  w.reason = body.reason;
  if (if_match.has_value()) {
    // An ETag carries the wire version (store/epoch.h); one of another
    // epoch is not current.
    w.if_match = LocalVersion(call.api.flags->epoch(), *if_match);
  }
  w.action = std::move(action);
  w.dry_run = QueryFlag(call, "dry_run");
  HOTFIX_ASSIGN_OR_RETURN(FlagService::Mutation mutation, make(body.json, &w));
  if (call.approval != nullptr) {
    absl::StrAppend(
        &w.audit_extra, w.audit_extra.empty() ? "" : ",",
        "\"request\":", call.approval->request_id,
        ",\"approved_by\":", tools::JsonQuote(call.approval->approver));
  }
  if (state->protected_env && call.approval == nullptr && !w.dry_run &&
      !IsImmediate(w.action)) {
    return Propose(call, *state, w, mutation);
  }
  absl::StatusOr<WriteResult> result = call.api.flags->Write(w, mutation);
  if (absl::IsFailedPrecondition(result.status())) {
    Reply conflict = StatusReply(result.status());
    if (auto current = call.api.flags->Get(w.env); current != nullptr) {
      conflict.SetHeader("ETag", current->etag);
      conflict.SetHeader("X-Hotfix-Version", absl::StrCat(current->version));
    }
    return conflict;
  }
  if (!result.ok()) return result.status();
  return WriteResultReply(*result, created_status, QueryFlag(call, "diff"));
}

}  // namespace hotfixd
}  // namespace hotfix
