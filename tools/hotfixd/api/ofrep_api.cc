// tools/hotfixd/api/ofrep_api.cc
//
// The OpenFeature Remote Evaluation Protocol (open-feature/protocol,
// service/openapi.yaml, core part), evaluated with the environment's
// compiled Snapshot — the same compiler and engine every hotfix SDK uses:
//
//   POST /ofrep/v1/evaluate/flags/{key}   one flag for {"context": {...}}
//   POST /ofrep/v1/evaluate/flags         every flag; ETag (a hash of the
//                                         answer, so it changes with the
//                                         context too), 304 on If-None-Match
//
// Auth: the environment's SDK key as "Authorization: Bearer" or "X-API-Key"
// (routes.cc). Rate: --ofrep-rate-limit per token, else 429 + Retry-After.
// The mapping of hotfix results to OFREP reasons, error codes and statuses
// is in docs/openfeature.md; every body is application/json.

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "api/handlers.h"
#include "api/write.h"
#include "common/context_json.h"
#include "common/json_util.h"
#include "hotfix/snapshot.h"
#include "store/crypto.h"
#include "util/json_parse.h"
#include "util/status_macros.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

using internal::ToAbsl;

// An OFREP failure: the HTTP status, the error code and its details.
struct Failure {
  int status = 400;
  std::string code;
  std::string details;
};

// OFREP's body for a failure of one flag (key set) or of a bulk request.
Reply FailureReply(const Failure& f, const std::string* key,
                   const std::string& set_metadata) {
  tools::JsonOut out;
  out.Begin();
  if (key != nullptr) out.Str("key", *key);
  out.Str("errorCode", f.code).Str("errorDetails", f.details);
  if (!set_metadata.empty()) out.Raw("metadata", set_metadata);
  out.End();
  return Reply::Json(out.Take(), f.status);
}

// The failure for an environment whose stored flag set does not compile.
Failure NotCompiled(const EnvironmentState& state) {
  return Failure{
      400, "PARSE_ERROR",
      absl::StrCat("the flag set of environment \"", state.name, "\" version ",
                   state.version, " does not compile")};
}

// The request's evaluation context. `storage` and `doc` own what the Context
// points at.
struct ParsedRequest {
  rapidjson::Document doc;
  std::deque<std::string> storage;
  Context context;
};

std::optional<Failure> ParseRequest(const Call& call, ParsedRequest* out) {
  const std::string& body = call.request.body;
  const std::size_t limit = call.api.config->ofrep_max_body_bytes;
  if (body.size() > limit) {
    return Failure{400, "INVALID_CONTEXT",
                   absl::StrCat("request body of ", body.size(),
                                " bytes exceeds the OFREP limit of ", limit,
                                " (--ofrep-max-body-bytes)")};
  }
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return std::nullopt;  // no body: an empty context, as flagd accepts
  }
  absl::Status st = internal::ParseJsonStrict(body, &out->doc, "request body");
  if (!st.ok()) {
    return Failure{400, "INVALID_CONTEXT", std::string(st.message())};
  }
  if (!out->doc.IsObject()) {
    return Failure{400, "INVALID_CONTEXT",
                   "request body: expected {\"context\": {...}}"};
  }
  const auto it = out->doc.FindMember("context");
  if (it == out->doc.MemberEnd() || it->value.IsNull()) return std::nullopt;
  if (!it->value.IsObject()) {
    return Failure{400, "INVALID_CONTEXT", "context: expected a JSON object"};
  }
  st = tools::ContextFromJson(it->value, &out->storage, &out->context);
  if (!st.ok()) {
    return Failure{400, "INVALID_CONTEXT", std::string(st.message())};
  }
  return std::nullopt;
}

void WriteMetadataValue(tools::JsonOut& out, const std::string& key,
                        const MetadataValue& v) {
  switch (v.type) {
    case ValueType::kString:
      out.Str(key, v.string_value);
      break;
    case ValueType::kBool:
      out.Bool(key, v.bool_value);
      break;
    default:
      out.Num(key, v.number_value);
      break;
  }
}

// OFREP metadata (primitives only) of one flag: a flagd flag's own metadata
// over its set's; for a native flag its hygiene fields and the flag set's
// version.
std::string FlagMetadata(const FlagInfo& info, const Snapshot& snapshot) {
  tools::JsonOut out;
  out.Begin();
  if (snapshot.format() == DocumentFormat::kFlagd) {
    for (const auto& [key, value] : info.metadata) {
      WriteMetadataValue(out, key, value);
    }
  } else {
    if (!info.owner.empty()) out.Str("owner", info.owner);
    if (!info.ticket.empty()) out.Str("ticket", info.ticket);
    if (!info.description.empty()) out.Str("description", info.description);
    if (!info.tags.empty()) out.Str("tags", absl::StrJoin(info.tags, ","));
    out.U64("version", snapshot.version());
  }
  out.End();
  return out.Take();
}

std::string SetMetadata(const Snapshot& snapshot) {
  tools::JsonOut out;
  out.Begin();
  if (snapshot.format() == DocumentFormat::kFlagd) {
    for (const auto& [key, value] : snapshot.SetMetadata()) {
      WriteMetadataValue(out, key, value);
    }
  } else {
    out.U64("version", snapshot.version());
  }
  out.End();
  return out.Take();
}

// The OFREP reason for a successful hotfix evaluation, or the failure.
std::optional<Failure> Classify(const EvaluationDetail& d,
                                const std::string& key,
                                std::string_view* reason) {
  switch (d.reason) {
    case Reason::kStatic:
      *reason = "STATIC";
      return std::nullopt;
    case Reason::kTargetMatch:
    case Reason::kRuleMatch:
      *reason = "TARGETING_MATCH";
      return std::nullopt;
    case Reason::kRollout:
      *reason = "SPLIT";
      return std::nullopt;
    case Reason::kDefault:
      *reason = "DEFAULT";
      return std::nullopt;
    case Reason::kKilled:
      *reason = "DISABLED";
      return std::nullopt;
    case Reason::kPrerequisiteFailed:
      *reason = "PREREQUISITE_FAILED";
      return std::nullopt;
    case Reason::kGuardTripped:  // only inside an SDK process, never here
      *reason = "DISABLED";
      return std::nullopt;
    case Reason::kError:
      break;
  }
  switch (d.error) {
    case ErrorKind::kFlagNotFound:
      return Failure{404, "FLAG_NOT_FOUND",
                     absl::StrCat("flag \"", key, "\" was not found")};
    case ErrorKind::kMissingBucketKey:
      return Failure{400, "TARGETING_KEY_MISSING",
                     absl::StrCat("flag \"", key,
                                  "\" splits by a key the context lacks "
                                  "(targetingKey, or its bucket_by "
                                  "attribute)")};
    case ErrorKind::kGeneral:
      return Failure{400, "GENERAL",
                     absl::StrCat("flag \"", key,
                                  "\": its targeting failed or named a "
                                  "variant the flag does not have")};
    default:
      return Failure{
          400, "GENERAL",
          absl::StrCat("flag \"", key, "\": ", ToAbsl(ErrorKindName(d.error)))};
  }
}

// One flag's success object ({key, value?, reason, variant?, metadata}).
void WriteSuccess(tools::JsonOut& out, const std::string& key,
                  const EvaluationDetail& d, std::string_view reason,
                  const std::string& metadata) {
  out.Begin().Str("key", key);
  if (d.value.type != ValueType::kNone) {
    out.Raw("value", tools::ValueJson(d.value));
  }
  out.Str("reason", reason);
  if (!d.variant.empty()) out.Str("variant", d.variant);
  out.Raw("metadata", metadata);
  out.End();
}

// 429 when the token is over its rate.
std::optional<Reply> RateLimited(const Call& call) {
  if (call.api.ofrep_limiter == nullptr) return std::nullopt;
  const int wait =
      call.api.ofrep_limiter->Allow(call.principal().token_id, absl::Now());
  if (wait == 0) return std::nullopt;
  tools::JsonOut out;
  out.Begin()
      .Str("errorCode", "GENERAL")
      .Str("errorDetails",
           absl::StrCat("rate limited: retry after ", wait, " s"))
      .End();
  Reply reply = Reply::Json(out.Take(), 429);
  reply.SetHeader("Retry-After", absl::StrCat(wait));
  return reply;
}

}  // namespace

absl::StatusOr<Reply> OfrepEvaluateFlag(const Call& call) {
  const std::string key(call.Param("key"));
  HOTFIX_ASSIGN_OR_RETURN(auto state, SdkEnvironment(call));
  if (std::optional<Reply> limited = RateLimited(call)) return *limited;
  ParsedRequest request;
  if (std::optional<Failure> f = ParseRequest(call, &request)) {
    return FailureReply(*f, &key, "");
  }
  if (state->snapshot == nullptr) {
    return FailureReply(NotCompiled(*state), &key, "");
  }
  const Snapshot& snapshot = *state->snapshot;
  const EvaluationDetail d = snapshot.Evaluate(key, request.context);
  std::string_view reason;
  if (std::optional<Failure> f = Classify(d, key, &reason)) {
    std::string metadata = SetMetadata(snapshot);
    if (f->status != 404) {
      if (std::optional<FlagInfo> info = snapshot.Info(key)) {
        metadata = FlagMetadata(*info, snapshot);
      }
    }
    return FailureReply(*f, &key, metadata);
  }
  const std::optional<FlagInfo> info = snapshot.Info(key);
  tools::JsonOut out;
  WriteSuccess(out, key, d, reason,
               info.has_value() ? FlagMetadata(*info, snapshot) : "{}");
  Reply reply = Reply::Json(out.Take());
  reply.SetHeader("Cache-Control", "no-store");
  return reply;
}

absl::StatusOr<Reply> OfrepEvaluateFlags(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, SdkEnvironment(call));
  if (std::optional<Reply> limited = RateLimited(call)) return *limited;
  ParsedRequest request;
  if (std::optional<Failure> f = ParseRequest(call, &request)) {
    return FailureReply(*f, nullptr, "");
  }
  if (state->snapshot == nullptr) {
    return FailureReply(NotCompiled(*state), nullptr, "");
  }
  const Snapshot& snapshot = *state->snapshot;
  const std::vector<FlagInfo> infos = snapshot.Flags();
  tools::JsonOut out;
  out.Begin().BeginArray("flags");
  for (const FlagInfo& info : infos) {
    const EvaluationDetail d = snapshot.Evaluate(info.key, request.context);
    std::string_view reason;
    const std::string metadata = FlagMetadata(info, snapshot);
    if (std::optional<Failure> f = Classify(d, info.key, &reason)) {
      out.Begin()
          .Str("key", info.key)
          .Str("errorCode", f->code)
          .Str("errorDetails", f->details)
          .Raw("metadata", metadata)
          .End();
      continue;
    }
    WriteSuccess(out, info.key, d, reason, metadata);
  }
  out.EndArray().Raw("metadata", SetMetadata(snapshot)).End();
  std::string body = out.Take();
  // The ETag hashes the answer itself: a client that keeps its ETag across a
  // context change (the web provider does while targetingKey stays) must
  // not get a 304 for values computed for the old context.
  const std::string etag =
      absl::StrCat("\"", Sha256Hex(body).substr(0, 32), "\"");
  Reply reply;
  if (IfNoneMatchHits(call.request, etag)) {
    reply = Reply::Empty(304);
  } else {
    reply = Reply::Json(std::move(body));
  }
  reply.SetHeader("ETag", etag);
  reply.SetHeader("Cache-Control", "no-cache");
  return reply;
}

}  // namespace hotfixd
}  // namespace hotfix
