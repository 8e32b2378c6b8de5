// tools/hotfixctl/args.cc

#include "args.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"

namespace hotfix {
namespace hotfixctl {
namespace {

// Options that take a value.
constexpr const char* kValueOptions[] = {
    "url",        "token",
    "token-file", "env",
    "ca-cert",    "reason",
    "if-match",   "timeout",
    "ctx",        "tag",
    "file",       "limit",
    "before",     "now",
    "kind",       "scopes",
    "copy-from",  "at",
    "from",       "to",
    "state",      "secret",
    "contexts",   "stages",
    "every",      "max-failure-rate",
    "tolerance",  "min-samples",
    "compare-to", "on-regression",
    "minutes",    "unused-days",
    "format",     "context",
    "type",       "max-errors",
};
// Options without a value.
constexpr const char* kFlagOptions[] = {
    "json",
    "help",
    "all-envs",
    "dry-run",
    "allow-delete",
    "yes",
    "include-kill-state",
    "include-segments",
    "status",
    "cancel",
    "explain",
};

bool In(std::string_view name, const char* const* begin,
        const char* const* end) {
  return std::any_of(begin, end, [&](const char* n) { return name == n; });
}

std::string EnvOr(const char* var, const std::string& fallback) {
  const char* v = std::getenv(var);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace

std::string Args::Get(const std::string& name,
                      const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() || it->second.empty() ? fallback
                                                   : it->second.back();
}

bool Args::Flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

absl::StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args args;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (only_positional || arg.size() < 2 || arg.substr(0, 2) != "--") {
      if (arg == "-h") {
        args.help = true;
        continue;
      }
      args.positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string name(arg.substr(2));
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (In(name, std::begin(kFlagOptions), std::end(kFlagOptions))) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      if (name == "json") {
        args.json = true;
      } else if (name == "help") {
        args.help = true;
      } else {
        args.flags.push_back(name);
      }
      continue;
    }
    if (!In(name, std::begin(kValueOptions), std::end(kValueOptions))) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option --", name, " (see hotfixctl --help)"));
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value"));
      }
      value = argv[++i];
    }
    args.options[name].push_back(value);
  }

  args.url = args.Get("url", EnvOr("HOTFIX_URL", "http://127.0.0.1:8420"));
  while (!args.url.empty() && args.url.back() == '/') args.url.pop_back();
  args.env = args.Get("env", EnvOr("HOTFIX_ENV", "production"));
  args.ca_cert = args.Get("ca-cert", EnvOr("HOTFIX_CA_CERT", ""));
  args.reason = std::string(absl::StripAsciiWhitespace(args.Get("reason")));
  args.if_match = args.Get("if-match");
  if (args.Has("token")) {
    args.token = args.Get("token");
  } else if (args.Has("token-file")) {
    absl::StatusOr<std::string> text =
        tools::ReadFile(args.Get("token-file"), 64 * 1024);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token-file: ", text.status().message()));
    }
    args.token = text->substr(0, text->find('\n'));
  } else {
    args.token = EnvOr("HOTFIX_TOKEN", "");
  }
  args.token = std::string(absl::StripAsciiWhitespace(args.token));
  if (args.Has("timeout")) {
    if (!absl::SimpleAtod(args.Get("timeout"), &args.timeout_seconds) ||
        args.timeout_seconds <= 0) {
      return absl::InvalidArgumentError("--timeout: expected seconds > 0");
    }
  }
  return args;
}

std::string Usage() {
  return R"(usage: hotfixctl [options] COMMAND [ARGS]

Offline (no server):
  validate FILE [--max-errors N]      compile FILE ("-": stdin) with the SDK's
                                      compiler; prints every independent error
                                      (at most N, default 20), exit 1 if bad
  eval FILE FLAG [--ctx K=V]... [--context JSON] [--type T] [--now TIME]
          [--explain]                 evaluate FLAG: value, variant, reason.
                                      --ctx key=ID sets the context key;
                                      --ctx name=text a string attribute;
                                      --ctx name:=JSON a typed one (31, true);
                                      --context '{"targetingKey": ...}' an
                                      OpenFeature context (docs/openfeature.md);
                                      --type bool|string|number|json checks it;
                                      --explain shows each rule and clause:
                                      matched, not matched, skipped (attribute
                                      missing, wrong type), and what decided
  eval FILE FLAG --contexts FILE [--explain]
                                      one evaluation per JSON-lines context
                                      ("-": stdin), one JSON line out each
  convert --from flagd FILE           a flagd flag-definition file in the
                                      native format (stdout); lists on stderr
                                      what it cannot express (exit 1 then)
  validate, eval and convert take --format auto|native|flagd (default auto:
  flagd when "$schema" names flagd's schema)

Server (--url / $HOTFIX_URL, --token / --token-file / $HOTFIX_TOKEN,
--env / $HOTFIX_ENV, default production):
  whoami                              the token's name, scopes, environment
  envs                                environments and their versions
  env create NAME [--copy-from ENV | --file FILE]
  env protect | env unprotect         changes need a second person's approval
                                      (kills never wait); lifting it, too
  list [--tag TAG]                    flags: type, state, fallthrough, owner
  get [FLAG] [--at VERSION]           one flag, or the whole set (as JSON;
                                      what `set` takes back)
  set FLAG --file FILE                create or replace one flag
  set --file FILE [--allow-delete]    replace the whole flag set (deleting
                                      flags only with --allow-delete)
  delete FLAG
  kill FLAG | kill --tag TAG          serve the off variant
  revive FLAG | revive --tag TAG
  rollout FLAG PERCENT                fallthrough split: PERCENT on, rest off
  rollout FLAG --stages 1,5,25,50,100 [--every 10m] [--max-failure-rate 2%]
          [--compare-to control|none] [--tolerance 0.5%] [--min-samples N]
          [--on-regression kill|previous]
                                      a staged rollout that the guard advances
                                      while healthy and rolls back when worse
  rollout FLAG --status | --cancel    where it stands / stop it there
  stats FLAG [--minutes N]            exposures and failure rate per variant
  history [--limit N] [--before V]    versions: who, when, why, what
  rollback VERSION                    restore VERSION (as a new version)
  diff [FROM] TO                      per-flag differences; each side ENV,
                                      ENV@VERSION, VERSION (of --env) or FILE;
                                      exit 0 same, 1 different
  promote FLAG... --from ENV [--to ENV] [--include-kill-state]
          [--include-segments] [--yes]
                                      copy flag definitions (not their kill
                                      state) after showing the diff
  requests [list] [--state S] | requests show ID
  requests approve ID | requests reject ID
  audit [--limit N] [--before ID] [--all-envs]
  stale [--unused-days N]             flags past their "expires" (or not
                                      evaluated for N days); exit 1 if any
                                      (a CI gate)
  tokens list
  tokens create NAME [--kind sdk|admin|reader | --scopes LIST]
  tokens revoke ID
  webhooks [list] | webhooks add URL [--secret S] | webhooks delete ID
  webhooks ping ID | webhooks deliveries ID

Every change needs --reason TEXT; --if-match VERSION makes it fail (exit 5)
if the environment has moved on; --dry-run shows the diff and stores
nothing. --json prints the server's JSON.

Options: --url URL  --token TOKEN  --token-file FILE  --env NAME
         --ca-cert FILE (HTTPS)  --timeout SECONDS (default 10)  --json

Exit codes: 0 ok, 1 rejected/invalid (or: differences, stale flags),
2 usage, 3 unauthorized/forbidden, 4 not found, 5 conflict (If-Match,
already exists, already decided), 6 server unreachable/5xx.
)";
}

}  // namespace hotfixctl
}  // namespace hotfix
