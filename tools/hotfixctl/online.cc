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
#include "output.h"
#include "remote.h"

namespace hotfix {
namespace hotfixctl {
namespace {

// Shared state of one online command.
struct Session {
  const Args& args;
  Remote& remote;

  std::string EnvPath() const {
    return "/v1/admin/envs/" + UrlEncode(args.env);
  }
};

int Usage(const char* usage) {
  std::fprintf(stderr, "usage: hotfixctl %s\n", usage);
  return kExitUsage;
}

absl::StatusOr<std::string> ReadFileArg(const Args& args) {
  if (!args.Has("file")) {
    return absl::InvalidArgumentError("--file FILE is required");
  }
  const std::string path = args.Get("file");
  absl::StatusOr<std::string> text = tools::ReadFile(path);
  if (!text.ok()) return text.status();
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(*text, path, &doc);
  if (!st.ok()) return st;
  if (!doc.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": must contain a JSON object"));
  }
  return tools::ToJson(doc);
}

// {"reason": ..., <extra members>}; extra is "" or `"name":value,...`.
std::string WriteBody(const Args& args, const std::string& extra = "") {
  return absl::StrCat("{\"reason\":", tools::JsonQuote(args.reason),
                      extra.empty() ? "" : ",", extra, "}");
}

// Sends a write and prints its outcome.
int DoWrite(Session& s, const std::string& method, const std::string& path,
            const std::string& body) {
  if (s.args.reason.empty()) {
    std::fprintf(stderr,
                 "hotfixctl: --reason TEXT is required for every change\n");
    return kExitUsage;
  }
  httplib::Headers headers;
  if (!s.args.if_match.empty()) headers.emplace("If-Match", s.args.if_match);
  auto reply = s.remote.Request(method, path, body, headers);
  if (!reply.ok()) return ReportError(reply.status());
  if (s.args.json) {
    std::printf("%s\n", reply->body.c_str());
    return kExitOk;
  }
  rapidjson::Document doc;
  if (!tools::ParseJson(reply->body, "reply", &doc).ok() || !doc.IsObject()) {
    std::printf("%s\n", reply->body.c_str());
    return kExitOk;
  }
  if (Bool(doc, "changed")) {
    std::printf("%s: version %llu (%s: %s)\n", Str(doc, "env").c_str(),
                static_cast<unsigned long long>(Uint(doc, "version")),
                Str(doc, "event").c_str(),
                Join(doc, "changed_keys", ", ").c_str());
  } else {
    std::printf("%s: unchanged at version %llu\n", Str(doc, "env").c_str(),
                static_cast<unsigned long long>(Uint(doc, "version")));
  }
  return kExitOk;
}

// GETs `path`; with --json prints it and returns true in *printed.
absl::StatusOr<rapidjson::Document> GetJson(Session& s, const std::string& path,
                                            bool* printed) {
  auto reply = s.remote.Request("GET", path);
  if (!reply.ok()) return reply.status();
  *printed = false;
  if (s.args.json) {
    std::printf("%s\n", reply->body.c_str());
    *printed = true;
  }
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(reply->body, "reply", &doc);
  if (!st.ok()) return st;
  return doc;
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
  Table t({"ENV", "VERSION", "FLAGS", "STREAMS", "UPDATED"});
  const rapidjson::Value* envs = tools::FindMember(*doc, "environments");
  if (envs != nullptr && envs->IsArray()) {
    for (const rapidjson::Value& e : envs->GetArray()) {
      t.Add({Str(e, "name"), absl::StrCat(Uint(e, "version")),
             absl::StrCat(Uint(e, "flags")), absl::StrCat(Uint(e, "streams")),
             Str(e, "updated_at")});
    }
  }
  t.Print();
  return kExitOk;
}

int EnvCreate(Session& s) {
  if (s.args.positional.size() != 3 || s.args.positional[1] != "create") {
    return Usage(
        "env create NAME [--copy-from ENV | --file FILE] --reason TEXT");
  }
  std::string extra =
      absl::StrCat("\"name\":", tools::JsonQuote(s.args.positional[2]));
  if (s.args.Has("copy-from")) {
    absl::StrAppend(
        &extra, ",\"copy_from\":", tools::JsonQuote(s.args.Get("copy-from")));
  }
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
  } else if (s.args.Has("tag")) {
    path += "?tag=" + UrlEncode(s.args.Get("tag"));
  }
  bool printed = false;
  auto doc = GetJson(s, path, &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  const rapidjson::Value* flags = tools::FindMember(*doc, "flags");
  if (stale_only) {
    Table t({"FLAG", "EXPIRES", "OWNER", "TICKET", "STATE"});
    if (flags != nullptr && flags->IsArray()) {
      for (const rapidjson::Value& f : flags->GetArray()) {
        t.Add({Str(f, "key"), Str(f, "expires"), Str(f, "owner"),
               Str(f, "ticket"), Bool(f, "killed") ? "killed" : "live"});
      }
    }
    if (t.empty()) {
      std::printf("%s: no stale flags (version %llu)\n",
                  Str(*doc, "env").c_str(),
                  static_cast<unsigned long long>(Uint(*doc, "version")));
    } else {
      t.Print();
    }
    return kExitOk;
  }
  Table t({"FLAG", "TYPE", "STATE", "FALLTHROUGH", "OWNER", "EXPIRES", "TAGS"});
  if (flags != nullptr && flags->IsArray()) {
    for (const rapidjson::Value& f : flags->GetArray()) {
      std::string expires = Str(f, "expires");
      if (expires.size() > 10) expires = expires.substr(0, 10);
      if (Bool(f, "stale")) expires += " (stale)";
      t.Add({Str(f, "key"), Str(f, "type"),
             Bool(f, "killed") ? "KILLED" : "live", Str(f, "fallthrough"),
             Str(f, "owner"), expires, Join(f, "tags")});
    }
  }
  std::printf("# %s version %llu\n", Str(*doc, "env").c_str(),
              static_cast<unsigned long long>(Uint(*doc, "version")));
  t.Print();
  return kExitOk;
}

int Get(Session& s) {
  std::string path;
  if (s.args.positional.size() == 2) {
    path = s.EnvPath() + "/flags/" + UrlEncode(s.args.positional[1]);
  } else if (s.args.positional.size() == 1) {
    path = s.args.Has("at")
               ? s.EnvPath() + "/versions/" + UrlEncode(s.args.Get("at"))
               : s.EnvPath() + "/flags";
  } else {
    return Usage("get [FLAG] [--at VERSION]");
  }
  auto reply = s.remote.Request("GET", path);
  if (!reply.ok()) return ReportError(reply.status());
  if (s.args.json) {
    std::printf("%s\n", reply->body.c_str());
    return kExitOk;
  }
  rapidjson::Document doc;
  if (!tools::ParseJson(reply->body, "reply", &doc).ok()) {
    std::printf("%s\n", reply->body.c_str());
    return kExitOk;
  }
  if (s.args.positional.size() == 2) {
    std::printf("# %s version %llu\n", Str(doc, "env").c_str(),
                static_cast<unsigned long long>(Uint(doc, "version")));
    const rapidjson::Value* flag = tools::FindMember(doc, "flag");
    if (flag != nullptr) PrintPrettyJson(*flag);
    return kExitOk;
  }
  PrintPrettyJson(doc);
  return kExitOk;
}

int Set(Session& s) {
  auto doc = ReadFileArg(s.args);
  if (!doc.ok()) {
    if (!s.args.Has("file"))
      return Usage("set [FLAG] --file FILE --reason TEXT");
    return ReportError(doc.status());
  }
  if (s.args.positional.size() == 2) {
    return DoWrite(s, "PUT",
                   s.EnvPath() + "/flags/" + UrlEncode(s.args.positional[1]),
                   WriteBody(s.args, "\"flag\":" + *doc));
  }
  if (s.args.positional.size() == 1) {
    return DoWrite(s, "PUT", s.EnvPath() + "/flags",
                   WriteBody(s.args, "\"document\":" + *doc));
  }
  return Usage("set [FLAG] --file FILE --reason TEXT");
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

int History(Session& s) {
  std::string path =
      s.EnvPath() + "/history?limit=" + UrlEncode(s.args.Get("limit", "20"));
  if (s.args.Has("before"))
    path += "&before=" + UrlEncode(s.args.Get("before"));
  bool printed = false;
  auto doc = GetJson(s, path, &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  Table t({"VERSION", "TIME", "ACTOR", "ACTION", "EVENT", "FLAGS", "REASON"});
  const rapidjson::Value* versions = tools::FindMember(*doc, "versions");
  if (versions != nullptr && versions->IsArray()) {
    for (const rapidjson::Value& v : versions->GetArray()) {
      std::string keys = Join(v, "changed_keys");
      if (keys.size() > 40) keys = keys.substr(0, 37) + "...";
      t.Add({absl::StrCat(Uint(v, "version")), Str(v, "time"), Str(v, "actor"),
             Str(v, "action"), Str(v, "event"), keys, Str(v, "reason")});
    }
  }
  std::printf("# %s current version %llu\n", Str(*doc, "env").c_str(),
              static_cast<unsigned long long>(Uint(*doc, "current_version")));
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
  std::string path =
      "/v1/admin/audit?limit=" + UrlEncode(s.args.Get("limit", "20"));
  if (!s.args.Flag("all-envs")) path += "&env=" + UrlEncode(s.args.env);
  if (s.args.Has("before"))
    path += "&before=" + UrlEncode(s.args.Get("before"));
  bool printed = false;
  auto doc = GetJson(s, path, &printed);
  if (!doc.ok()) return ReportError(doc.status());
  if (printed) return kExitOk;
  Table t(
      {"ID", "TIME", "ACTOR", "ACTION", "ENV", "VERSION", "WHAT", "REASON"});
  const rapidjson::Value* entries = tools::FindMember(*doc, "entries");
  if (entries != nullptr && entries->IsArray()) {
    for (const rapidjson::Value& e : entries->GetArray()) {
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
    const rapidjson::Value* tokens = tools::FindMember(*doc, "tokens");
    if (tokens != nullptr && tokens->IsArray()) {
      for (const rapidjson::Value& tok : tokens->GetArray()) {
        t.Add({Str(tok, "id"), Str(tok, "name"), Str(tok, "scopes"),
               Str(tok, "env").empty() ? "(all)" : Str(tok, "env"),
               Str(tok, "created_at"), Str(tok, "created_by"),
               Str(tok, "revoked_at").empty() ? "-" : Str(tok, "revoked_at")});
      }
    }
    t.Print();
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "create") {
    if (s.args.reason.empty()) {
      std::fprintf(stderr,
                   "hotfixctl: --reason TEXT is required for every change\n");
      return kExitUsage;
    }
    std::string extra = absl::StrCat("\"name\":", tools::JsonQuote(p[2]));
    if (s.args.Has("kind")) {
      absl::StrAppend(&extra,
                      ",\"kind\":", tools::JsonQuote(s.args.Get("kind")));
    }
    if (s.args.Has("scopes")) {
      absl::StrAppend(&extra,
                      ",\"scopes\":", tools::JsonQuote(s.args.Get("scopes")));
    }
    const bool sdk = !s.args.Has("scopes") &&
                     (!s.args.Has("kind") || s.args.Get("kind") == "sdk");
    if (sdk || s.args.Has("env")) {
      absl::StrAppend(&extra, ",\"env\":", tools::JsonQuote(s.args.env));
    }
    auto reply =
        s.remote.Request("POST", "/v1/admin/tokens", WriteBody(s.args, extra));
    if (!reply.ok()) return ReportError(reply.status());
    if (s.args.json) {
      std::printf("%s\n", reply->body.c_str());
      return kExitOk;
    }
    rapidjson::Document doc;
    if (!tools::ParseJson(reply->body, "reply", &doc).ok()) return kExitFailed;
    std::fprintf(stderr,
                 "created token %s \"%s\" (scopes %s%s%s); the secret "
                 "is shown once:\n",
                 Str(doc, "id").c_str(), Str(doc, "name").c_str(),
                 Str(doc, "scopes").c_str(),
                 Str(doc, "env").empty() ? "" : ", environment ",
                 Str(doc, "env").c_str());
    std::printf("%s\n", Str(doc, "token").c_str());
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "revoke") {
    return DoWrite(s, "DELETE", "/v1/admin/tokens/" + UrlEncode(p[2]),
                   WriteBody(s.args));
  }
  return Usage(
      "tokens list | tokens create NAME [--kind sdk|admin|reader | "
      "--scopes LIST] --reason TEXT | tokens revoke ID --reason TEXT");
}

}  // namespace

int RunOnline(const Args& args) {
  const std::string& command = args.positional[0];
  static const char* const kCommands[] = {
      "whoami",  "envs",     "env",   "list",   "get",
      "set",     "delete",   "kill",  "revive", "rollout",
      "history", "rollback", "audit", "stale",  "tokens",
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
  if (command == "env") return EnvCreate(s);
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
