// tools/hotfixctl/session.h
//
// What every online command shares: the session (arguments and the
// connection), reading a JSON file argument, building a write's body, and
// sending a write and printing its outcome — the new version and what
// changed, the server's warnings, a dry run's diff, or the change request a
// protected environment turned it into.
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_SESSION_H_
#define HOTFIX_TOOLS_HOTFIXCTL_SESSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "args.h"
#include "rapidjson/document.h"
#include "remote.h"

namespace hotfix {
namespace hotfixctl {

struct Session {
  const Args& args;
  Remote& remote;

  // "/v1/admin/envs/<--env>".
  std::string EnvPath() const { return EnvPathOf(args.env); }
  static std::string EnvPathOf(const std::string& env) {
    return "/v1/admin/envs/" + UrlEncode(env);
  }
};

// Prints "usage: hotfixctl <usage>" and returns kExitUsage.
int Usage(const char* usage);

// ReadJsonFile()
//
// The JSON object in `path` ("-": stdin), compact. Errors name the file and
// the line:column of a syntax error.
absl::StatusOr<std::string> ReadJsonFile(const std::string& path);

// {"reason": --reason, <extra members>}; `extra` is "" or `"name":value,...`.
std::string WriteBody(const Args& args, const std::string& extra = "");
// Appends `,"<member>":<--option's value as a JSON string>` to *extra when
// --option was given.
void AppendOption(const Args& args, const char* option, const char* member,
                  std::string* extra);

// SendWrite()
//
// Sends a write (with ?dry_run=true and If-Match when given). Requires
// --reason.
absl::StatusOr<Reply> SendWrite(Session& s, const std::string& method,
                                const std::string& path,
                                const std::string& body, bool dry_run,
                                const std::string& if_match);

// Prints a write's answer (the new version and what changed, a dry run's
// diff, or the change request); with --json, the answer. Returns the exit
// code.
int PrintWriteOutcome(Session& s, const Reply& reply, bool dry_run);

// DoWrite()
//
// Sends a write (adding ?dry_run=true with --dry-run) and prints the
// outcome; with --json, the server's answer. Returns the exit code.
int DoWrite(Session& s, const std::string& method, const std::string& path,
            const std::string& body);

// kExitOk if --reason was given; else says it is required and returns
// kExitUsage.
int RequireReason(const Session& s);

// SendJson()
//
// Sends a request whose answer is not a flag-set change (tokens, webhooks,
// change requests) and parses the answer; with --json prints it. *status
// gets the HTTP status when given.
absl::StatusOr<rapidjson::Document> SendJson(Session& s,
                                             const std::string& method,
                                             const std::string& path,
                                             const std::string& body,
                                             int* status = nullptr);

// PrintedProposal()
//
// After a SendJson() write that a protected environment holds for approval:
// true when the server did so (HTTP 202), having printed
// "<env>: change request <id> proposed: <needs>".
bool PrintedProposal(const Session& s, int status,
                     const rapidjson::Value& answer, const char* needs);

// GetJson()
//
// GETs `path`; with --json prints the answer and sets *printed.
absl::StatusOr<rapidjson::Document> GetJson(Session& s, const std::string& path,
                                            bool* printed);

// Prints a diff object ({"flags", "segments", "other"}) for people:
//   ~ fix-123
//       killed: false → true
//   + new-flag (added)
// Returns the number of changed flags, segments and other members.
int PrintDiff(const rapidjson::Value& diff);

// Prints the write answer's "summary" and "warnings" (warnings to stderr).
void PrintSummaryAndWarnings(const rapidjson::Value& answer);
// Prints the answer's "warnings" to stderr: "warning: ...".
void PrintWarnings(const rapidjson::Value& answer);

// True if stdin and stderr are terminals (a person can be asked).
bool Interactive();

// Asks `question` on stderr and reads y/N from stdin.
bool Confirm(const std::string& question);

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_SESSION_H_
