// tools/hotfixd/http/reply.h
//
// Reply is what a handler answers: a status, headers, and either a body
// (owned or shared with other replies, e.g. a flag-set document) or an event
// stream (Server-Sent Events) that the front keeps writing until it ends.
// Error replies have one body format everywhere (docs/protocol.md):
//
//   {"error": {"code": "INVALID_ARGUMENT", "message": "reason: required ..."}}
//
// built by Reply::Error (HTTP-level errors a front detects) or StatusReply
// (a handler's absl::Status).
//
// Thread-compatible (a value); EventSource implementations say their own.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_REPLY_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_REPLY_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/text.h"
#include "http/request.h"

namespace hotfix {
namespace hotfixd {

using tools::SharedText;

// The body of a streaming reply (Server-Sent Events). The front never
// blocks on it: it calls Start() once, then Poll() whenever the waker ran
// (and once at the start), from one thread at a time, and writes what Poll
// returns, in order.
//
// Thread-safe as described: `wake` may be called from any thread.
class EventSource {
 public:
  virtual ~EventSource() = default;

  // Registers `wake`, to be called (from any thread, possibly more often
  // than needed) whenever Poll() may have something new to return.
  virtual void Start(std::function<void()> wake) = 0;

  // Poll()
  //
  // Appends what is ready now to `out`, without blocking. Returns false when
  // the stream is over: the front sends what was appended, then ends it.
  virtual bool Poll(std::vector<SharedText>* out) = 0;
};

struct Reply {
  int status = 200;
  HeaderList headers;  // besides Content-Type and Content-Length
  std::string content_type;
  SharedText body;                      // null: no body (e.g. 204, 304)
  std::shared_ptr<EventSource> events;  // non-null: a streaming reply

  static Reply Json(std::string json, int status = 200);
  static Reply SharedJson(SharedText json, int status = 200);
  static Reply Text(std::string text, std::string content_type,
                    int status = 200);
  static Reply Empty(int status);
  static Reply Stream(std::shared_ptr<EventSource> events,
                      std::string content_type);

  // Reply::Error()
  //
  // An error reply with the JSON error body: `code` is the canonical name
  // ("INVALID_ARGUMENT"), `message` says what is wrong.
  static Reply Error(int status, std::string_view code,
                     std::string_view message);

  Reply& SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  const std::string* FindHeader(std::string_view name) const;
};

// The HTTP status for a canonical code: InvalidArgument and OutOfRange 400,
// Unauthenticated 401, PermissionDenied 403, NotFound 404, AlreadyExists 409,
// FailedPrecondition 412, Unimplemented 501, ResourceExhausted and
// Unavailable 503, DataLoss and the rest 500.
int HttpStatusFor(absl::StatusCode code);

// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string_view CodeName(absl::StatusCode code);

// StatusReply()
//
// The error reply for `status` (not OK). Internal errors say only "internal
// error; see the server log" (the caller logs the details); DataLoss names
// what is damaged; 503 carries Retry-After.
Reply StatusReply(const absl::Status& status);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_REPLY_H_
