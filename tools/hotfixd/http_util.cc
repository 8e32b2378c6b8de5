// tools/hotfixd/http_util.cc

#include "http_util.h"

#include <cstdio>
#include <exception>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "json_util.h"

namespace hotfix {
namespace hotfixd {
namespace {

// The route of the request this thread is serving; null until a route
// handler runs. Reset before routing. (cpp-httplib serves one request at a
// time per thread.)
thread_local const char* tl_route = nullptr;

constexpr std::size_t kInlineJsonLimit = 64 * 1024;

const char* CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    default:
      return "INTERNAL";
  }
}

const char* CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "UNIMPLEMENTED";
    case 409:
      return "ALREADY_EXISTS";
    case 412:
      return "FAILED_PRECONDITION";
    case 413:
    case 414:
    case 431:
      return "RESOURCE_EXHAUSTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
  }
}

void LogRequest(const ApiContext* api, const httplib::Request& req,
                const httplib::Response& res, const char* actor,
                absl::Time start) {
  if (!api->config->log_requests) return;
  std::fprintf(stderr, "hotfixd: %s %s %d %.3fms%s%s\n", req.method.c_str(),
               SanitizeForLog(req.path).c_str(), res.status,
               absl::ToDoubleMilliseconds(absl::Now() - start),
               actor != nullptr ? " actor=" : "",
               actor != nullptr ? SanitizeForLog(actor).c_str() : "");
}

}  // namespace

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
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 412;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void SendError(httplib::Response& res, int status, std::string_view code,
               std::string_view message) {
  res.status = status;
  std::string body =
      absl::StrCat("{\"error\":{\"code\":", tools::JsonQuote(code),
                   ",\"message\":", tools::JsonQuote(message), "}}");
  res.set_content(std::move(body), "application/json");
}

void SendStatus(httplib::Response& res, const absl::Status& status) {
  const int http = HttpStatusFor(status.code());
  if (http == 500) {
    std::fprintf(stderr, "hotfixd: error: %s\n",
                 SanitizeForLog(status.ToString()).c_str());
    SendError(res, 500, CodeName(status.code()),
              "internal error; see the server log");
    return;
  }
  if (status.code() == absl::StatusCode::kResourceExhausted ||
      status.code() == absl::StatusCode::kUnavailable) {
    res.set_header("Retry-After", "5");
  }
  SendError(res, http, CodeName(status.code()), std::string(status.message()));
}

void SendJson(httplib::Response& res, std::string body, int status) {
  if (body.size() <= kInlineJsonLimit) {
    res.status = status;
    res.set_content(std::move(body), "application/json");
    return;
  }
  SendSharedJson(res, std::make_shared<const std::string>(std::move(body)),
                 status);
}

void SendSharedJson(httplib::Response& res, SharedText body, int status) {
  res.status = status;
  if (body->size() <= kInlineJsonLimit) {
    res.set_content(*body, "application/json");
    return;
  }
  // A sized content provider: written straight from the shared buffer, and
  // cpp-httplib does not recompress it for every request.
  const std::size_t size = body->size();
  res.set_content_provider(
      size, "application/json",
      [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        const std::size_t n = std::min<std::size_t>(length, 1 << 20);
        return sink.write(body->data() + offset, n);
      });
}

httplib::Server::Handler Route(ApiContext* api, const char* route,
                               std::uint32_t required_scopes, bool any_scope,
                               AuthedHandler handler) {
  return [api, route, required_scopes, any_scope, handler = std::move(handler)](
             const httplib::Request& req, httplib::Response& res) {
    const absl::Time start = absl::Now();
    tl_route = route;
    std::optional<Principal> who =
        api->auth->Authenticate(req.get_header_value("Authorization"));
    if (!who.has_value()) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"hotfixd\"");
      SendError(res, 401, "UNAUTHENTICATED", "unauthenticated");
    } else if (any_scope ? (who->scopes & required_scopes) == 0
                         : !who->Has(required_scopes)) {
      SendError(res, 403, "PERMISSION_DENIED",
                absl::StrCat("token \"", who->name, "\" lacks the ",
                             ScopesToString(required_scopes), " scope",
                             any_scope ? " (any of)" : ""));
    } else {
      handler(req, res, *who);
    }
    api->metrics->CountRequest(route, req.method, res.status);
    LogRequest(api, req, res, who.has_value() ? who->name.c_str() : nullptr,
               start);
  };
}

httplib::Server::Handler PublicRoute(ApiContext* api, const char* route,
                                     httplib::Server::Handler handler) {
  return [api, route, handler = std::move(handler)](const httplib::Request& req,
                                                    httplib::Response& res) {
    const absl::Time start = absl::Now();
    tl_route = route;
    handler(req, res);
    api->metrics->CountRequest(route, req.method, res.status);
    LogRequest(api, req, res, nullptr, start);
  };
}

void InstallErrorHandlers(httplib::Server& server, ApiContext* api) {
  server.set_pre_routing_handler(
      [](const httplib::Request&, httplib::Response&) {
        tl_route = nullptr;
        return httplib::Server::HandlerResponse::Unhandled;
      });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [api](const httplib::Request& req, httplib::Response& res) {
        if (res.body.empty() && !res.content_provider_) {
          std::string message;
          switch (res.status) {
            case 404:
              message = absl::StrCat("no such path: ", req.path);
              break;
            case 413:
              message = absl::StrCat("request body exceeds ",
                                     api->config->max_body_bytes, " bytes");
              break;
            case 414:
              message = "request URI too long";
              break;
            default:
              message = absl::StrCat("HTTP ", res.status);
          }
          SendError(res, res.status, CodeForHttpStatus(res.status), message);
        }
        if (tl_route == nullptr) {
          api->metrics->CountRequest("(unmatched)", req.method, res.status);
          if (api->config->log_requests) {
            std::fprintf(stderr, "hotfixd: %s %s %d\n", req.method.c_str(),
                         SanitizeForLog(req.path).c_str(), res.status);
          }
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([](const httplib::Request& req,
                                  httplib::Response& res,
                                  std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "hotfixd: error: %s %s: %s\n", req.method.c_str(),
                 SanitizeForLog(req.path).c_str(),
                 SanitizeForLog(what).c_str());
    SendError(res, 500, "INTERNAL", "internal error; see the server log");
  });
}

std::optional<std::uint64_t> ParseVersion(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &v)) {
    return std::nullopt;
  }
  return v;
}

absl::StatusOr<std::optional<std::uint64_t>> ParseIfMatch(
    const httplib::Request& req) {
  if (!req.has_header("If-Match")) return std::optional<std::uint64_t>();
  const std::string header = req.get_header_value("If-Match");
  absl::string_view v = absl::StripAsciiWhitespace(header);
  if (v == "*") return std::optional<std::uint64_t>();
  absl::ConsumePrefix(&v, "W/");
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  const size_t dash = v.rfind('-');
  if (dash != absl::string_view::npos) v = v.substr(dash + 1);
  auto version = ParseVersion(std::string_view(v.data(), v.size()));
  if (!version.has_value()) {
    return absl::InvalidArgumentError(
        "If-Match: expected a version number or an ETag such as "
        "\"production-42\"");
  }
  return version;
}

bool IfNoneMatchHits(const httplib::Request& req, std::string_view etag) {
  if (!req.has_header("If-None-Match")) return false;
  const std::string header = req.get_header_value("If-None-Match");
  const absl::string_view want(etag.data(), etag.size());
  for (absl::string_view tag : absl::StrSplit(header, ',')) {
    tag = absl::StripAsciiWhitespace(tag);
    absl::ConsumePrefix(&tag, "W/");
    if (tag == "*" || tag == want) return true;
  }
  return false;
}

absl::Status ParseWriteBody(const httplib::Request& req,
                            const char* const* allowed, WriteBody* out) {
  const absl::string_view body = absl::StripAsciiWhitespace(req.body);
  if (body.empty()) {
    out->json.SetObject();
  } else {
    absl::Status st = tools::ParseJson(
        std::string_view(body.data(), body.size()), "body", &out->json);
    if (!st.ok()) return st;
    if (!out->json.IsObject()) {
      return absl::InvalidArgumentError("body: must be a JSON object");
    }
  }
  for (auto m = out->json.MemberBegin(); m != out->json.MemberEnd(); ++m) {
    const std::string_view name(m->name.GetString(), m->name.GetStringLength());
    bool known = name == "reason";
    for (const char* const* a = allowed; !known && *a != nullptr; ++a) {
      known = name == *a;
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("body.", absl::string_view(name.data(), name.size()),
                       ": unknown field"));
    }
  }
  auto reason = tools::GetOptionalString(out->json, "reason", "body");
  if (!reason.ok()) return reason.status();
  std::string text;
  if (reason->has_value()) {
    text = std::move(**reason);
  } else if (req.has_header("X-Hotfix-Reason")) {
    text = req.get_header_value("X-Hotfix-Reason");
  }
  text = std::string(absl::StripAsciiWhitespace(text));
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "reason: required for every change (body \"reason\" or the "
        "X-Hotfix-Reason header)");
  }
  if (text.size() > 1024) {
    return absl::InvalidArgumentError("reason: at most 1024 characters");
  }
  out->reason = std::move(text);
  return absl::OkStatus();
}

absl::StatusOr<int> QueryInt(const httplib::Request& req, const char* name,
                             int fallback, int min, int max) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  int n = 0;
  if (!absl::SimpleAtoi(v, &n) || n < min || n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": expected an integer in [", min, ", ", max, "]"));
  }
  return n;
}

}  // namespace hotfixd
}  // namespace hotfix
