// tools/hotfixctl/online.cc

#include "online.h"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/json_util.h"
#include "guard.h"
#include "output.h"
#include "remote.h"
#include "review.h"
#include "session.h"

namespace hotfix {
namespace hotfixctl {
namespace {

// The --file argument as compact JSON.
absl::StatusOr<std::string> ReadFileArg(const Args& args) {
  if (!args.Has("file")) {
    return absl::InvalidArgumentError("--file FILE is required");
  }
  return ReadJsonFile(args.Get("file"));
}

void PrintHeader(const rapidjson::Value& doc, const char* version_member) {
  // Headers go to stderr: stdout stays exactly what `set` accepts back.
  std::fprintf(stderr, "# %s version %llu\n", Str(doc, "env").c_str(),
               static_cast<unsigned long long>(Uint(doc, version_member)));
}

// ------------------------------------------------------------------ commands

int WhoAmI(Session& s) {
  bool printed = false;
  auto doc = GetJson(s, "/v1/admin/whoami", &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  std::printf("%s (id %s) scopes %s, environment %s\n",
              Str(*doc, "name").c_str(), Str(*doc, "token_id").c_str(),
              Str(*doc, "scopes").c_str(),
              Str(*doc, "env").empty() ? "(all)" : Str(*doc, "env").c_str());
  return kExitOk;
}

int Envs(Session& s) {
  bool printed = false;
  auto doc = GetJson(s, "/v1/admin/envs", &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  Table t({"ENV", "VERSION", "FLAGS", "STREAMS", "PROTECTED", "UPDATED"});
  for (const rapidjson::Value& e : Elements(*doc, "environments")) {
    t.Add({Str(e, "name"), absl::StrCat(Uint(e, "version")),
           absl::StrCat(Uint(e, "flags")), absl::StrCat(Uint(e, "streams")),
           Bool(e, "protected") ? "yes" : "no", Str(e, "updated_at")});
  }
  t.Print();
  return kExitOk;
}

int Env(Session& s) {
  const auto& p = s.args.positional;
  if (p.size() == 2 && (p[1] == "protect" || p[1] == "unprotect")) {
    return EnvProtect(s, p[1] == "protect");
  }
  if (p.size() != 3 || p[1] != "create") {
    return Usage(
        "env create NAME [--copy-from ENV | --file FILE] --reason TEXT | "
        "env protect|unprotect --reason TEXT");
  }
  std::string extra =
      absl::StrCat("\"name\":", tools::JsonQuote(s.args.positional[2]));
  AppendOption(s.args, "copy-from", "copy_from", &extra);
  if (s.args.Has("file")) {
    auto doc = ReadFileArg(s.args);
    if (!doc.ok()) return ReportError(doc.status());
    absl::StrAppend(&extra, ",\"document\":", *doc);
  }
  return DoWrite(s, "POST", "/v1/admin/envs", WriteBody(s.args, extra));
}

int List(Session& s, bool stale_only) {
  std::string path = s.EnvPath() + "/metadata";
  if (stale_only) {
    path += "?stale=true";
    if (s.args.Has("unused-days")) {
      path += "&unused_days=" + UrlEncode(s.args.Get("unused-days"));
    }
  } else if (s.args.Has("tag")) {
    path += "?tag=" + UrlEncode(s.args.Get("tag"));
  }
  bool printed = false;
  auto doc = GetJson(s, path, &printed);
  if (!doc.ok()) return ReportError(doc.status());
  const rapidjson::Value::ConstArray flags = Elements(*doc, "flags");
  const bool any = !flags.Empty();
  if (printed) return stale_only && any ? kExitFailed : kExitOk;
  if (stale_only) {
    Table t({"FLAG", "WHY", "EXPIRES", "LAST EVALUATED", "OWNER", "TICKET",
             "STATE"});
    for (const rapidjson::Value& f : flags) {
      t.Add({Str(f, "key"), Join(f, "stale_because"), Str(f, "expires"),
             Str(f, "last_evaluated").empty() ? "never"
                                              : Str(f, "last_evaluated"),
             Str(f, "owner"), Str(f, "ticket"),
             Bool(f, "killed") ? "killed" : "live"});
    }
    if (t.empty()) {
      std::printf("%s: no stale flags (version %llu)\n",
                  Str(*doc, "env").c_str(),
                  static_cast<unsigned long long>(Uint(*doc, "version")));
      return kExitOk;
    }
    t.Print();
    // A CI gate: stale flags fail the step.
    return kExitFailed;
  }
  Table t({"FLAG", "TYPE", "STATE", "FALLTHROUGH", "OWNER", "EXPIRES", "TAGS"});
  for (const rapidjson::Value& f : flags) {
    std::string expires = Str(f, "expires");
    if (expires.size() > 10) expires = expires.substr(0, 10);
    if (Bool(f, "stale")) expires += " (stale)";
    t.Add({Str(f, "key"), Str(f, "type"), Bool(f, "killed") ? "KILLED" : "live",
           Str(f, "fallthrough"), Str(f, "owner"), expires, Join(f, "tags")});
  }
  PrintHeader(*doc, "version");
  t.Print();
  return kExitOk;
}

int Get(Session& s) {
  const auto& p = s.args.positional;
  if (p.size() > 2) return Usage("get [FLAG] [--at VERSION]");
  const bool at = s.args.Has("at");
  std::string path;
  if (at) {
    path = s.EnvPath() + "/versions/" + UrlEncode(s.args.Get("at"));
  } else if (p.size() == 2) {
    path = s.EnvPath() + "/flags/" + UrlEncode(p[1]);
  } else {
    path = s.EnvPath() + "/flags";
  }
  auto reply = s.remote.Request("GET", path);
  if (!reply.ok()) return ReportError(reply.status());
  rapidjson::Document doc;
  if (!tools::ParseJson(reply->body, "reply", &doc).ok() || !doc.IsObject()) {
    std::printf("%s\n", reply->body.c_str());
    return kExitOk;
  }
  if (p.size() == 1) {
    // The whole set: the document itself, which `set --file` takes back.
    if (s.args.json) {
      std::printf("%s\n", reply->body.c_str());
    } else {
      std::fprintf(stderr, "# %s version %llu\n", s.args.env.c_str(),
                   static_cast<unsigned long long>(Uint(doc, "version")));
      PrintPrettyJson(doc);
    }
    return kExitOk;
  }
  // One flag. At a past version, take it out of that version's set.
  const rapidjson::Value* flag = nullptr;
  std::uint64_t version = Uint(doc, "version");
  if (at) {
    const rapidjson::Value* flags = tools::FindMember(doc, "flags");
    flag = flags != nullptr ? tools::FindMember(*flags, p[1]) : nullptr;
    if (flag == nullptr) {
      return ReportError(absl::NotFoundError(absl::StrCat(
          "flags.", p[1], ": not in ", s.args.env, " version ", version)));
    }
  } else {
    flag = tools::FindMember(doc, "flag");
  }
  if (flag == nullptr) {
    return ReportError(absl::InternalError("the answer has no flag"));
  }
  if (s.args.json) {
    // The envelope `set FLAG --file` also accepts.
    tools::JsonOut out;
    out.Begin()
        .Str("env", s.args.env)
        .U64("version", version)
        .Str("key", p[1])
        .Value("flag", *flag)
        .End();
    std::printf("%s\n", out.Take().c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "# %s %s at version %llu\n", s.args.env.c_str(),
               p[1].c_str(), static_cast<unsigned long long>(version));
  PrintPrettyJson(*flag);
  return kExitOk;
}

// The flag in a file `get FLAG` wrote: the flag object itself, or the
// --json envelope {"env", "version", "key", "flag"}.
absl::StatusOr<std::string> FlagFromFile(const std::string& json,
                                         const std::string& key) {
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(json, "--file", &doc);
  if (!st.ok()) return st;
  const rapidjson::Value* flag = tools::FindMember(doc, "flag");
  const rapidjson::Value* named = tools::FindMember(doc, "key");
  if (flag == nullptr || !flag->IsObject() || named == nullptr) return json;
  if (!named->IsString() || named->GetString() != key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--file: holds flag \"", Str(doc, "key"), "\", not \"", key, "\""));
  }
  return tools::ToJson(*flag);
}

int Set(Session& s) {
  const auto& p = s.args.positional;
  if (!s.args.Has("file") || p.size() > 2) {
    return Usage(
        "set [FLAG] --file FILE --reason TEXT [--allow-delete] [--dry-run]");
  }
  auto doc = ReadFileArg(s.args);
  if (!doc.ok()) return ReportError(doc.status());
  if (p.size() == 2) {
    auto flag = FlagFromFile(*doc, p[1]);
    if (!flag.ok()) return ReportError(flag.status());
    return DoWrite(s, "PUT", s.EnvPath() + "/flags/" + UrlEncode(p[1]),
                   WriteBody(s.args, "\"flag\":" + *flag));
  }
  std::string extra = "\"document\":" + *doc;
  if (s.args.Flag("allow-delete")) extra += ",\"allow_delete\":true";
  return DoWrite(s, "PUT", s.EnvPath() + "/flags", WriteBody(s.args, extra));
}

int Delete(Session& s) {
  if (s.args.positional.size() != 2) return Usage("delete FLAG --reason TEXT");
  return DoWrite(s, "DELETE",
                 s.EnvPath() + "/flags/" + UrlEncode(s.args.positional[1]),
                 WriteBody(s.args));
}

int Kill(Session& s, bool kill) {
  const char* verb = kill ? "kill" : "revive";
  if (s.args.Has("tag") && s.args.positional.size() == 1) {
    return DoWrite(
        s, "POST",
        s.EnvPath() + "/tags/" + UrlEncode(s.args.Get("tag")) + "/" + verb,
        WriteBody(s.args));
  }
  if (!s.args.Has("tag") && s.args.positional.size() == 2) {
    return DoWrite(
        s, "POST",
        s.EnvPath() + "/flags/" + UrlEncode(s.args.positional[1]) + "/" + verb,
        WriteBody(s.args));
  }
  return Usage(kill ? "kill FLAG|--tag TAG --reason TEXT"
                    : "revive FLAG|--tag TAG --reason TEXT");
}

int Rollout(Session& s) {
  if (IsStagedRollout(s.args)) return StagedRollout(s);
  if (s.args.positional.size() != 3) {
    return Usage("rollout FLAG PERCENT --reason TEXT");
  }
  absl::string_view text = s.args.positional[2];
  absl::ConsumeSuffix(&text, "%");
  double percent = 0;
  if (!absl::SimpleAtod(text, &percent) || !(percent >= 0 && percent <= 100)) {
    std::fprintf(stderr, "hotfixctl: PERCENT must be a number from 0 to 100\n");
    return kExitUsage;
  }
  rapidjson::Value p(percent);
  return DoWrite(
      s, "POST",
      s.EnvPath() + "/flags/" + UrlEncode(s.args.positional[1]) + "/rollout",
      WriteBody(s.args, "\"percent\":" + tools::ToJson(p)));
}

// `base` with ?limit= (--limit, default 20) and &before= (--before).
std::string Paged(const Session& s, const std::string& base) {
  std::string path = base + "?limit=" + UrlEncode(s.args.Get("limit", "20"));
  if (s.args.Has("before")) {
    path += "&before=" + UrlEncode(s.args.Get("before"));
  }
  return path;
}

int History(Session& s) {
  const std::string path = Paged(s, s.EnvPath() + "/history");
  bool printed = false;
  auto doc = GetJson(s, path, &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  Table t({"VERSION", "TIME", "ACTOR", "ACTION", "EVENT", "FLAGS", "REASON"});
  for (const rapidjson::Value& v : Elements(*doc, "versions")) {
    std::string keys = Join(v, "changed_keys");
    if (keys.size() > 40) keys = keys.substr(0, 37) + "...";
    std::string action = Str(v, "action");
    if (Uint(v, "restored_version") != 0) {
      absl::StrAppend(&action, " to v", Uint(v, "restored_version"));
    }
    t.Add({absl::StrCat(Uint(v, "version")), Str(v, "time"), Str(v, "actor"),
           action, Str(v, "event"), keys, Str(v, "reason")});
  }
  PrintHeader(*doc, "current_version");
  t.Print();
  return kExitOk;
}

int Rollback(Session& s) {
  if (s.args.positional.size() != 2)
    return Usage("rollback VERSION --reason TEXT");
  std::uint64_t version = 0;
  if (!absl::SimpleAtoi(s.args.positional[1], &version)) {
    std::fprintf(stderr, "hotfixctl: VERSION must be a version number\n");
    return kExitUsage;
  }
  return DoWrite(s, "POST", s.EnvPath() + "/rollback",
                 WriteBody(s.args, absl::StrCat("\"version\":", version)));
}

int Audit(Session& s) {
  std::string path = Paged(s, "/v1/admin/audit");
  if (!s.args.Flag("all-envs")) path += "&env=" + UrlEncode(s.args.env);
  bool printed = false;
  auto doc = GetJson(s, path, &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  Table t(
      {"ID", "TIME", "ACTOR", "ACTION", "ENV", "VERSION", "WHAT", "REASON"});
  for (const rapidjson::Value& e : Elements(*doc, "entries")) {
    const rapidjson::Value* detail = tools::FindMember(e, "detail");
    std::string what;
    if (detail != nullptr) {
      what = Join(*detail, "changed_keys");
      if (what.empty()) what = Str(*detail, "name");
      if (what.size() > 40) what = what.substr(0, 37) + "...";
    }
    t.Add({Str(e, "id"), Str(e, "time"), Str(e, "actor"), Str(e, "action"),
           Str(e, "env"), Str(e, "version"), what, Str(e, "reason")});
  }
  t.Print();
  return kExitOk;
}

int Tokens(Session& s) {
  const auto& p = s.args.positional;
  if (p.size() == 2 && p[1] == "list") {
    bool printed = false;
    auto doc = GetJson(s, "/v1/admin/tokens", &printed);
    if (!doc.ok()) return ReportError(doc.status());
    if (printed) return kExitOk;
    Table t({"ID", "NAME", "SCOPES", "ENV", "CREATED", "BY", "REVOKED"});
    for (const rapidjson::Value& tok : Elements(*doc, "tokens")) {
      t.Add({Str(tok, "id"), Str(tok, "name"), Str(tok, "scopes"),
             Str(tok, "env").empty() ? "(all)" : Str(tok, "env"),
             Str(tok, "created_at"), Str(tok, "created_by"),
             Str(tok, "revoked_at").empty() ? "-" : Str(tok, "revoked_at")});
    }
    t.Print();
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "create") {
    if (int rc = RequireReason(s); rc != kExitOk) return rc;
    std::string extra = absl::StrCat("\"name\":", tools::JsonQuote(p[2]));
    AppendOption(s.args, "kind", "kind", &extra);
    AppendOption(s.args, "scopes", "scopes", &extra);
    const bool sdk = !s.args.Has("scopes") &&
                     (!s.args.Has("kind") || s.args.Get("kind") == "sdk");
    if (sdk || s.args.Has("env")) {
      absl::StrAppend(&extra, ",\"env\":", tools::JsonQuote(s.args.env));
    }
    auto doc =
        SendJson(s, "POST", "/v1/admin/tokens", WriteBody(s.args, extra));
    if (!doc.ok()) return ReportError(doc.status());
    if (s.args.json) return kExitOk;
    std::fprintf(stderr,
                 "created token %s \"%s\" (scopes %s%s%s); the secret "
                 "is shown once:\n",
                 Str(*doc, "id").c_str(), Str(*doc, "name").c_str(),
                 Str(*doc, "scopes").c_str(),
                 Str(*doc, "env").empty() ? "" : ", environment ",
                 Str(*doc, "env").c_str());
    std::printf("%s\n", Str(*doc, "token").c_str());
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "revoke") {
    if (int rc = RequireReason(s); rc != kExitOk) return rc;
    auto doc = SendJson(s, "DELETE", "/v1/admin/tokens/" + UrlEncode(p[2]),
                        WriteBody(s.args));
    if (!doc.ok()) return ReportError(doc.status());
    if (!s.args.json) {
      std::printf("revoked token %s (its open streams are closed)\n",
                  p[2].c_str());
    }
    return kExitOk;
  }
  return Usage(
      "tokens list | tokens create NAME [--kind sdk|admin|reader | "
      "--scopes LIST] --reason TEXT | tokens revoke ID --reason TEXT");
}

}  // namespace

int RunOnline(const Args& args) {
  const std::string& command = args.positional[0];
  static const char* const kCommands[] = {
      "whoami", "envs",   "env",     "list",     "get",      "set",   "delete",
      "kill",   "revive", "rollout", "history",  "rollback", "audit", "stale",
      "tokens", "diff",   "promote", "requests", "webhooks", "stats",
  };
  bool known = false;
  for (const char* c : kCommands) known = known || command == c;
  if (!known) {
    std::fprintf(stderr, "hotfixctl: unknown command \"%s\" (see --help)\n",
                 command.c_str());
    return kExitUsage;
  }
  auto remote = Remote::Create(args);
  if (!remote.ok()) {
    std::fprintf(stderr, "hotfixctl: %s\n",
                 std::string(remote.status().message()).c_str());
    return kExitUsage;
  }
  Session s{args, **remote};
  if (command == "whoami") return WhoAmI(s);
  if (command == "envs") return Envs(s);
  if (command == "env") return Env(s);
  if (command == "diff") return Diff(s);
  if (command == "promote") return Promote(s);
  if (command == "requests") return Requests(s);
  if (command == "webhooks") return Webhooks(s);
  if (command == "stats") return Stats(s);
  if (command == "list") return List(s, false);
  if (command == "stale") return List(s, true);
  if (command == "get") return Get(s);
  if (command == "set") return Set(s);
  if (command == "delete") return Delete(s);
  if (command == "kill") return Kill(s, true);
  if (command == "revive") return Kill(s, false);
  if (command == "rollout") return Rollout(s);
  if (command == "history") return History(s);
  if (command == "rollback") return Rollback(s);
  if (command == "audit") return Audit(s);
  return Tokens(s);
}

}  // namespace hotfixctl
}  // namespace hotfix
