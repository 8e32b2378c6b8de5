// tools/hotfixd/http/reply.cc

#include "http/reply.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/json_util.h"

namespace hotfix {
namespace hotfixd {

Reply Reply::Json(std::string json, int status) {
  return SharedJson(tools::MakeShared(std::move(json)), status);
}

Reply Reply::SharedJson(SharedText json, int status) {
  Reply r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(json);
  return r;
}

Reply Reply::Text(std::string text, std::string content_type, int status) {
  Reply r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = tools::MakeShared(std::move(text));
  return r;
}

Reply Reply::Empty(int status) {
  Reply r;
  r.status = status;
  return r;
}

Reply Reply::Stream(std::shared_ptr<EventSource> events,
                    std::string content_type) {
  Reply r;
  r.content_type = std::move(content_type);
  r.events = std::move(events);
  return r;
}

Reply Reply::Error(int status, std::string_view code,
                   std::string_view message) {
  tools::JsonOut out;
  out.Begin()
      .Begin("error")
      .Str("code", code)
      .Str("message", message)
      .End()
      .End();
  return Json(out.Take(), status);
}

const std::string* Reply::FindHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(),
                   [](char a, char b) { return (a | 0x20) == (b | 0x20); })) {
      return &v;
    }
  }
  return nullptr;
}

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 412;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    default:
      return "INTERNAL";
  }
}

Reply StatusReply(const absl::Status& status) {
  const int http = HttpStatusFor(status.code());
  if (http == 500 && status.code() != absl::StatusCode::kDataLoss) {
    return Reply::Error(http, CodeName(status.code()),
                        "internal error; see the server log");
  }
  const absl::string_view message = status.message();
  Reply reply = Reply::Error(http, CodeName(status.code()),
                             std::string_view(message.data(), message.size()));
  if (std::optional<std::string> list = tools::ErrorListJson(status)) {
    // Every compile error beside the first: {"error": {"code", "message",
    // "errors", "error_count"}}.
    rapidjson::Document details;
    if (tools::ParseJson(*list, "error list", &details).ok()) {
      tools::JsonOut out;
      out.Begin()
          .Begin("error")
          .Str("code", CodeName(status.code()))
          .Str("message", std::string_view(message.data(), message.size()))
          .Value("errors", details["errors"])
          .Value("error_count", details["error_count"])
          .End()
          .End();
      reply.body = tools::MakeShared(out.Take());
    }
  }
  if (http == 503) reply.SetHeader("Retry-After", "5");
  return reply;
}

}  // namespace hotfixd
}  // namespace hotfix
