// tools/hotfixd/api/console_api.cc
//
// The operator console (docs/console.md): its files, compiled into hotfixd,
// served without a token (they hold no data; every datum the console shows
// comes from the admin API with the operator's own token).
//
//   GET /ui           308 to /ui/
//   GET /ui/          index.html
//   GET /ui/{file}    app.mjs, console.css, ...
//
// Every answer carries the console's security headers: a Content-Security-
// Policy that allows only the console's own scripts, styles and API (no
// inline script or style, Trusted Types required so that no string can
// become HTML), no framing, no MIME sniffing, no referrer. Files are sent
// with a strong ETag (304 on If-None-Match) and gzip-compressed when the
// browser accepts it; `Cache-Control: no-cache` makes browsers revalidate,
// so an upgraded hotfixd is never served with a stale console.

#include <string>

#include "absl/strings/match.h"
#include "api/console_assets.h"
#include "api/handlers.h"
#include "api/write.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'";

Reply& WithSecurityHeaders(Reply& reply) {
  reply.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
  reply.SetHeader("X-Frame-Options", "DENY");
  reply.SetHeader("X-Content-Type-Options", "nosniff");
  reply.SetHeader("Referrer-Policy", "no-referrer");
  reply.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  reply.SetHeader("Cross-Origin-Resource-Policy", "same-origin");
  return reply;
}

absl::StatusOr<Reply> Serve(const Call& call, std::string_view name) {
  const ConsoleAsset* asset = FindConsoleAsset(name);
  if (asset == nullptr) {
    Reply missing = StatusReply(
        absl::NotFoundError("no such console file: " + std::string(name)));
    return WithSecurityHeaders(missing);
  }
  Reply reply;
  if (IfNoneMatchHits(call.request, asset->etag)) {
    reply = Reply::Empty(304);
  } else {
    reply.content_type = asset->content_type;
    reply.body = asset->body;
    const std::string* accept = call.request.FindHeader("accept-encoding");
    if (asset->gzip != nullptr && accept != nullptr &&
        absl::StrContains(*accept, "gzip")) {
      reply.SetHeader("Content-Encoding", "gzip");
      reply.body = asset->gzip;
    }
  }
  reply.SetHeader("ETag", asset->etag);
  reply.SetHeader("Cache-Control", "no-cache");
  if (asset->gzip != nullptr) reply.SetHeader("Vary", "Accept-Encoding");
  return WithSecurityHeaders(reply);
}

}  // namespace

absl::StatusOr<Reply> RedirectToConsole(const Call& call) {
  Reply reply = Reply::Empty(308);
  reply.SetHeader("Location", "/ui/");
  return WithSecurityHeaders(reply);
}

absl::StatusOr<Reply> GetConsoleIndex(const Call& call) {
  return Serve(call, "index.html");
}

absl::StatusOr<Reply> GetConsoleFile(const Call& call) {
  return Serve(call, call.Param("file"));
}

}  // namespace hotfixd
}  // namespace hotfix
