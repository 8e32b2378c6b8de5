// tools/hotfixctl/session.cc

#include "session.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/json_util.h"
#include "output.h"

namespace hotfix {
namespace hotfixctl {
namespace {

// A diff value as people read it: JSON, "(none)" where absent.
std::string Shown(const rapidjson::Value& field, const char* side) {
  const rapidjson::Value* v = tools::FindMember(field, side);
  if (v == nullptr) return "(none)";
  std::string text = tools::ToJson(*v);
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  return text;
}

void PrintFields(const rapidjson::Value* fields, const char* indent) {
  if (fields == nullptr || !fields->IsArray()) return;
  for (const rapidjson::Value& f : fields->GetArray()) {
    std::printf("%s%s: %s → %s\n", indent, Str(f, "path").c_str(),
                Shown(f, "before").c_str(), Shown(f, "after").c_str());
  }
}

}  // namespace

int Usage(const char* usage) {
  std::fprintf(stderr, "usage: hotfixctl %s\n", usage);
  return kExitUsage;
}

absl::StatusOr<std::string> ReadJsonFile(const std::string& path) {
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

std::string WriteBody(const Args& args, const std::string& extra) {
  return absl::StrCat("{\"reason\":", tools::JsonQuote(args.reason),
                      extra.empty() ? "" : ",", extra, "}");
}

void AppendOption(const Args& args, const char* option, const char* member,
                  std::string* extra) {
  if (!args.Has(option)) return;
  absl::StrAppend(extra, ",\"", member,
                  "\":", tools::JsonQuote(args.Get(option)));
}

int PrintDiff(const rapidjson::Value& diff) {
  int changes = 0;
  for (const rapidjson::Value& f : Elements(diff, "flags")) {
    ++changes;
    const std::string change = Str(f, "change");
    if (change == "added") {
      std::printf("+ %s (added)\n", Str(f, "key").c_str());
    } else if (change == "removed") {
      std::printf("- %s (removed)\n", Str(f, "key").c_str());
    } else {
      std::printf("~ %s\n", Str(f, "key").c_str());
      PrintFields(tools::FindMember(f, "fields"), "    ");
    }
  }
  for (const char* part : {"segments", "other"}) {
    const rapidjson::Value* fields = tools::FindMember(diff, part);
    if (fields == nullptr || !fields->IsArray() || fields->Empty()) continue;
    changes += static_cast<int>(fields->Size());
    std::printf("~ %s\n", part);
    PrintFields(fields, "    ");
  }
  if (changes == 0) std::printf("(no differences)\n");
  return changes;
}

void PrintSummaryAndWarnings(const rapidjson::Value& answer) {
  for (const rapidjson::Value& line : Elements(answer, "summary")) {
    if (line.IsString()) std::printf("  %s\n", line.GetString());
  }
  PrintWarnings(answer);
}

void PrintWarnings(const rapidjson::Value& answer) {
  for (const rapidjson::Value& line : Elements(answer, "warnings")) {
    if (line.IsString()) {
      std::fprintf(stderr, "warning: %s\n", line.GetString());
    }
  }
}

absl::StatusOr<Reply> SendWrite(Session& s, const std::string& method,
                                const std::string& path,
                                const std::string& body, bool dry_run,
                                const std::string& if_match) {
  if (s.args.reason.empty()) {
    return absl::InvalidArgumentError(
        "--reason TEXT is required for every change");
  }
  std::string target = path;
  if (dry_run) {
    absl::StrAppend(&target, path.find('?') == std::string::npos ? "?" : "&",
                    "dry_run=true");
  }
  httplib::Headers headers;
  if (!if_match.empty()) headers.emplace("If-Match", if_match);
  return s.remote.Request(method, target, body, headers);
}

int PrintWriteOutcome(Session& s, const Reply& reply, bool dry_run) {
  if (s.args.json) {
    std::printf("%s\n", reply.body.c_str());
    return kExitOk;
  }
  rapidjson::Document doc;
  if (!tools::ParseJson(reply.body, "reply", &doc).ok() || !doc.IsObject()) {
    std::printf("%s\n", reply.body.c_str());
    return kExitOk;
  }
  const std::string env = Str(doc, "env");
  if (reply.status == 202 && tools::FindMember(doc, "state") != nullptr) {
    // A protected environment: the change awaits a second person.
    std::printf(
        "%s: change request %s proposed, not applied: it needs approval by "
        "another person with the approve scope\n",
        env.c_str(), Str(doc, "id").c_str());
    PrintSummaryAndWarnings(doc);
    std::printf("  hotfixctl --env %s requests show %s\n", env.c_str(),
                Str(doc, "id").c_str());
    return kExitOk;
  }
  const auto version = static_cast<unsigned long long>(Uint(doc, "version"));
  if (dry_run) {
    if (!Bool(doc, "changed")) {
      std::printf("%s: dry run: would change nothing (version %llu)\n",
                  env.c_str(), version);
      return kExitOk;
    }
    std::printf("%s: dry run, nothing stored; would be version %llu (%s)\n",
                env.c_str(), version, Str(doc, "event").c_str());
    const rapidjson::Value* diff = tools::FindMember(doc, "diff");
    if (diff != nullptr) PrintDiff(*diff);
    PrintWarnings(doc);
    return kExitOk;
  }
  if (Bool(doc, "changed")) {
    std::printf("%s: version %llu (%s: %s)\n", env.c_str(), version,
                Str(doc, "event").c_str(),
                Join(doc, "changed_keys", ", ").c_str());
    PrintSummaryAndWarnings(doc);
  } else {
    std::printf("%s: unchanged at version %llu\n", env.c_str(), version);
  }
  return kExitOk;
}

int DoWrite(Session& s, const std::string& method, const std::string& path,
            const std::string& body) {
  if (int rc = RequireReason(s); rc != kExitOk) return rc;
  const bool dry_run = s.args.Flag("dry-run");
  auto reply = SendWrite(s, method, path, body, dry_run, s.args.if_match);
  if (!reply.ok()) return ReportError(reply.status());
  return PrintWriteOutcome(s, *reply, dry_run);
}

int RequireReason(const Session& s) {
  if (!s.args.reason.empty()) return kExitOk;
  std::fprintf(stderr,
               "hotfixctl: --reason TEXT is required for every change\n");
  return kExitUsage;
}

absl::StatusOr<rapidjson::Document> SendJson(Session& s,
                                             const std::string& method,
                                             const std::string& path,
                                             const std::string& body,
                                             int* status) {
  auto reply = s.remote.Request(method, path, body);
  if (!reply.ok()) return reply.status();
  if (status != nullptr) *status = reply->status;
  if (s.args.json) std::printf("%s\n", reply->body.c_str());
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(reply->body, "reply", &doc);
  if (!st.ok()) return st;
  return doc;
}

bool PrintedProposal(const Session& s, int status,
                     const rapidjson::Value& answer, const char* needs) {
  if (status != 202) return false;
  std::printf("%s: change request %s proposed: %s\n", s.args.env.c_str(),
              Str(answer, "id").c_str(), needs);
  return true;
}

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

bool Interactive() { return isatty(0) == 1 && isatty(2) == 1; }

bool Confirm(const std::string& question) {
  std::fprintf(stderr, "%s [y/N] ", question.c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  answer = absl::AsciiStrToLower(absl::StripAsciiWhitespace(answer));
  return answer == "y" || answer == "yes";
}

}  // namespace hotfixctl
}  // namespace hotfix
