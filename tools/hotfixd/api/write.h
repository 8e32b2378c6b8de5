// tools/hotfixd/api/write.h
//
// The shape every admin write shares (docs/admin-api.md, "Writes"): a JSON
// body whose fields are checked against the operation's list, a required
// reason (body "reason" or the X-Hotfix-Reason header), optimistic
// concurrency with If-Match, `?dry_run=true` (validate and answer the diff,
// store nothing), the protected-environment rule (a change becomes a change
// request, kills excepted), FlagService::Write, and the change answer with
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
#include "common/json_util.h"
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

// Builds the mutation from the parsed body; may fill in the write: change
// its action, add audit detail members (`audit_extra`, the inside of a JSON
// object: "\"percent\":25"), name the version a rollback restores.
using MakeMutation = std::function<absl::StatusOr<FlagService::Mutation>(
    const rapidjson::Document& body, WriteRequest* write)>;

// DoWrite()
//
// The whole write: environment access, body, If-Match, dry run, the
// protected-environment rule, FlagService::Write, and the change answer
// (`created_status` when something changed, else 200; 202 with the change
// request when it awaits approval). A 412 carries the current ETag and
// X-Hotfix-Version.
absl::StatusOr<Reply> DoWrite(const Call& call, std::string_view env,
                              std::string action,
                              std::initializer_list<std::string_view> allowed,
                              const MakeMutation& make,
                              int created_status = 200);

// The change answer for `result`: {"env", "version", "changed", "event",
// "changed_keys", "summary", "warnings", "etag"}, plus "dry_run" and "diff"
// for a dry run or with `with_diff`, and ETag and X-Hotfix-Version headers.
Reply WriteResultReply(const WriteResult& result, int created_status = 200,
                       bool with_diff = false);

// Writes `diff` as the member "diff": {"flags": [{"key", "change", "fields":
// [{"path", "before", "after"}]}], "segments": [...], "other": [...]}.
void WriteDiff(tools::JsonOut& out, const DocumentDiff& diff);

// `diff` alone as JSON text (the value WriteDiff writes).
std::string DiffJson(const DocumentDiff& diff);

// Kills (one flag, or by tag) are never delayed: not by an approval.
bool IsImmediate(std::string_view action);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_WRITE_H_
