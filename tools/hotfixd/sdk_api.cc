// tools/hotfixd/sdk_api.cc

#include "sdk_api.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Smaller documents are sent as they are.
constexpr std::size_t kGzipThreshold = 1024;

// Writes of SSE pieces at most this large are coalesced into one send.
constexpr std::size_t kCoalesceLimit = 64 * 1024;

// The environment a read request is for; an error status when the token may
// not read it.
absl::StatusOr<std::string> ReadEnvironment(const ApiContext& api,
                                            const httplib::Request& req,
                                            const Principal& who) {
  const std::string requested = req.get_param_value("env");
  if (who.Has(kScopeSdk) && !who.Has(kScopeRead)) {
    if (who.env.empty()) {
      return absl::PermissionDeniedError(
          "this SDK key is not bound to an environment");
    }
    if (!requested.empty() && requested != who.env) {
      return absl::PermissionDeniedError(absl::StrCat(
          "this SDK key reads environment \"", who.env, "\" only"));
    }
    return who.env;
  }
  std::string env = requested;
  if (env.empty()) env = who.env.empty() ? api.config->default_env : who.env;
  if (!who.CanUseEnv(env)) {
    return absl::PermissionDeniedError(
        absl::StrCat("this token cannot read environment \"", env, "\""));
  }
  return env;
}

bool AcceptsGzip(const httplib::Request& req) {
  const std::string accept = req.get_header_value("Accept-Encoding");
  return absl::StrContains(accept, "gzip");
}

void GetFlags(ApiContext* api, const httplib::Request& req,
              httplib::Response& res, const Principal& who) {
  auto env = ReadEnvironment(*api, req, who);
  if (!env.ok()) return SendStatus(res, env.status());
  std::shared_ptr<const EnvironmentState> state = api->flags->Get(*env);
  if (state == nullptr) {
    return SendStatus(res, absl::NotFoundError(absl::StrCat(
                               "environment \"", *env, "\" does not exist")));
  }
  res.set_header("ETag", state->etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Hotfix-Version", absl::StrCat(state->version));
  if (state->document->size() >= kGzipThreshold) {
    res.set_header("Vary", "Accept-Encoding");
  }
  if (IfNoneMatchHits(req, state->etag)) {
    res.status = 304;
    return;
  }
  SharedText body = state->document;
  if (body->size() >= kGzipThreshold && AcceptsGzip(req)) {
    SharedText gz = state->GzipDocument();
    if (gz != nullptr) {
      res.set_header("Content-Encoding", "gzip");
      body = std::move(gz);
    }
  }
  res.status = 200;
  const std::size_t size = body->size();
  // A sized provider writes straight from the shared buffer; cpp-httplib
  // never compresses it again.
  res.set_content_provider(
      size, "application/json",
      [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        const std::size_t n = std::min<std::size_t>(length, 1 << 20);
        return sink.write(body->data() + offset, n);
      });
}

void GetStream(ApiContext* api, const httplib::Request& req,
               httplib::Response& res, const Principal& who) {
  auto env = ReadEnvironment(*api, req, who);
  if (!env.ok()) return SendStatus(res, env.status());
  std::optional<std::uint64_t> last_event_id;
  if (req.has_header("Last-Event-ID")) {
    last_event_id = ParseVersion(req.get_header_value("Last-Event-ID"));
  } else if (req.has_param("last_event_id")) {
    last_event_id = ParseVersion(req.get_param_value("last_event_id"));
  }
  auto subscription = api->hub->Subscribe(*env, last_event_id);
  if (!subscription.ok()) return SendStatus(res, subscription.status());
  std::shared_ptr<Subscription> sub = std::move(*subscription);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [sub](std::size_t /*offset*/, httplib::DataSink& sink) {
        std::vector<SharedText> pieces;
        if (!sub->Next(&pieces)) {
          sink.done();  // shutting down: end the stream cleanly
          return true;
        }
        std::string batch;
        for (const SharedText& p : pieces) {
          if (p->size() <= kCoalesceLimit &&
              batch.size() + p->size() <= kCoalesceLimit) {
            batch += *p;
            continue;
          }
          if (!batch.empty()) {
            if (!sink.write(batch.data(), batch.size())) return false;
            batch.clear();
          }
          if (p->size() <= kCoalesceLimit) {
            batch += *p;
          } else if (!sink.write(p->data(), p->size())) {
            return false;
          }
        }
        if (!batch.empty() && !sink.write(batch.data(), batch.size())) {
          return false;
        }
        return true;
      });
}

}  // namespace

void RegisterSdkApi(httplib::Server& server, ApiContext* api) {
  server.Get(
      "/v1/flags",
      Route(api, "/v1/flags", kScopeSdk | kScopeRead, /*any_scope=*/true,
            [api](const httplib::Request& req, httplib::Response& res,
                  const Principal& who) { GetFlags(api, req, res, who); }));
  server.Get(
      "/v1/stream",
      Route(api, "/v1/stream", kScopeSdk | kScopeRead, /*any_scope=*/true,
            [api](const httplib::Request& req, httplib::Response& res,
                  const Principal& who) { GetStream(api, req, res, who); }));
  server.Get(
      "/healthz",
      PublicRoute(api, "/healthz",
                  [api](const httplib::Request&, httplib::Response& res) {
                    res.set_content(
                        absl::StrCat("{\"status\":\"ok\",\"environments\":",
                                     api->flags->List().size(), "}"),
                        "application/json");
                  }));
  server.Get(
      "/metrics",
      PublicRoute(api, "/metrics",
                  [api](const httplib::Request&, httplib::Response& res) {
                    std::vector<EnvironmentGauge> gauges;
                    for (const auto& s : api->flags->List()) {
                      EnvironmentGauge g;
                      g.env = s->name;
                      g.version = s->version;
                      g.flags = s->snapshot ? s->snapshot->size() : 0;
                      gauges.push_back(std::move(g));
                    }
                    res.set_content(
                        api->metrics->Render(gauges,
                                             api->hub->ConnectedByEnvironment(),
                                             api->hub->counters()),
                        "text/plain; version=0.0.4; charset=utf-8");
                  }));
}

}  // namespace hotfixd
}  // namespace hotfix
