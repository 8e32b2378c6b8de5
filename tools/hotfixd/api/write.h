// tools/hotfixd/api/write.h
//
// The shape every admin write shares (docs/admin-api.md, "Writes"): a JSON
// body whose fields are checked against the operation's list, a required
// reason (body "reason" or the X-Hotfix-Reason header), optimistic
// concurrency with If-Match, FlagService::Write, and the change answer with
// ETag and X-Hotfix-Version. Also If-None-Match for reads.
//
// Thread-compatible: pure functions of a Call.

#ifndef HOTFIX_TOOLS_HOTFIXD_API_WRITE_H_
#define HOTFIX_TOOLS_HOTFIXD_API_WRITE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/api.h"
#include "rapidjson/document.h"

namespace hotfix {
namespace hotfixd {

// A reason is 1 to this many characters (Unicode characters, not bytes).
inline constexpr std::size_t kMaxReasonChars = 1024;

struct WriteBody {
  rapidjson::Document json;  // an object; `{}` for an empty body
  std::string reason;
};

// ParseWriteBody()
//
// Parses the body as JSON whatever its Content-Type (an empty body is `{}`);
// every member must be "reason" or in `allowed`. The reason comes from the
// body or the X-Hotfix-Reason header and must be valid UTF-8 of 1-1024
// characters. InvalidArgument naming the field otherwise.
absl::StatusOr<WriteBody> ParseWriteBody(
    const HttpRequest& request,
    std::initializer_list<std::string_view> allowed);

// ParseIfMatch()
//
// The version an If-Match header of `request` names for environment `env`:
// `42`, `"42"`, `"<env>-42"` or `W/"<env>-42"`. nullopt without the header
// or for `*`. InvalidArgument for anything else, including another
// environment's ETag.
absl::StatusOr<std::optional<std::uint64_t>> ParseIfMatch(
    const HttpRequest& request, std::string_view env);

// True if If-None-Match lists `etag` (quotes included) or `*`.
bool IfNoneMatchHits(const HttpRequest& request, std::string_view etag);

// Builds the mutation from the parsed body; may change the audit action and
// add audit detail members (the inside of a JSON object, "\"percent\":25").
using MakeMutation = std::function<absl::StatusOr<FlagService::Mutation>(
    const rapidjson::Document& body, std::string* action,
    std::string* audit_extra)>;

// DoWrite()
//
// The whole write: environment access, body, If-Match, FlagService::Write,
// and the change answer (`created_status` when something changed, else 200).
// A 412 carries the current ETag and X-Hotfix-Version.
absl::StatusOr<Reply> DoWrite(const Call& call, std::string_view env,
                              std::string action,
                              std::initializer_list<std::string_view> allowed,
                              const MakeMutation& make,
                              int created_status = 200);

// The change answer for `result`: {"env", "version", "changed", "event",
// "changed_keys", "etag"} with ETag and X-Hotfix-Version headers.
Reply WriteResultReply(const WriteResult& result, int created_status = 200);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_WRITE_H_
