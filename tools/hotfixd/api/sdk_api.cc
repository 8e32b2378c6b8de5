// tools/hotfixd/api/sdk_api.cc
//
// The SDK endpoints of docs/protocol.md, served from memory (never the
// database):
//
//   GET /v1/flags    the current flag set; ETag "<env>-<version>", 304 on a
//                    matching If-None-Match, gzip (computed once per version)
//                    when the client accepts it
//   GET /v1/stream   SSE: put / patch / heartbeat, Last-Event-ID resume
//
// An SDK key reads its own environment; a token with the read scope may add
// ?env=NAME (default: --default-env).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/handlers.h"
#include "api/write.h"
#include "util/status_macros.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Smaller documents are sent as they are.
constexpr std::size_t kGzipThreshold = 1024;

// A Subscription as the body of a streaming reply.
class SubscriptionEvents : public EventSource {
 public:
  explicit SubscriptionEvents(std::unique_ptr<Subscription> sub)
      : sub_(std::move(sub)) {}
  void Start(std::function<void()> wake) override {
    sub_->SetWaker(std::move(wake));
  }
  bool Poll(std::vector<SharedText>* out) override { return sub_->Poll(out); }

 private:
  const std::unique_ptr<Subscription> sub_;
};

}  // namespace

absl::StatusOr<Reply> GetSdkFlags(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, SdkEnvironment(call));
  const bool large = state->document->size() >= kGzipThreshold;
  Reply reply;
  if (IfNoneMatchHits(call.request, state->etag)) {
    reply = Reply::Empty(304);
  } else {
    SharedText body = state->document;
    const std::string* accept = call.request.FindHeader("accept-encoding");
    if (large && accept != nullptr && absl::StrContains(*accept, "gzip")) {
      if (SharedText gz = state->GzipDocument(); gz != nullptr) {
        reply.SetHeader("Content-Encoding", "gzip");
        body = std::move(gz);
      }
    }
    reply.content_type = "application/json";
    reply.body = std::move(body);
  }
  reply.SetHeader("ETag", state->etag);
  reply.SetHeader("Cache-Control", "no-cache");
  reply.SetHeader("X-Hotfix-Version", absl::StrCat(state->wire_version));
  if (large) reply.SetHeader("Vary", "Accept-Encoding");
  return reply;
}

absl::StatusOr<Reply> GetSdkStream(const Call& call) {
  HOTFIX_ASSIGN_OR_RETURN(auto state, SdkEnvironment(call));
  std::optional<std::uint64_t> last_event_id;
  if (const std::string* h = call.request.FindHeader("last-event-id")) {
    last_event_id = ParseVersion(*h);
  } else if (const std::string* q = call.request.FindQuery("last_event_id")) {
    last_event_id = ParseVersion(*q);
  }
  HOTFIX_ASSIGN_OR_RETURN(std::unique_ptr<Subscription> sub,
                          call.api.hub->Subscribe(state->name, last_event_id,
                                                  call.principal().token_id));
  return Reply::Stream(std::make_shared<SubscriptionEvents>(std::move(sub)),
                       "text/event-stream");
}

}  // namespace hotfixd
}  // namespace hotfix
