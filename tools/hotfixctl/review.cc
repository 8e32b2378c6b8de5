// tools/hotfixctl/review.cc

#include "review.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json_util.h"
#include "output.h"

namespace hotfix {
namespace hotfixctl {
namespace {

// A side of a diff as the command line names it.
struct Side {
  bool is_file = false;
  std::string text;  // the file path, or "ENV" / "ENV@VERSION"
};

// FILE ("-", *.json or an existing path), ENV, ENV@V, @V or V (--env's).
Side ParseSide(const Session& s, const std::string& arg) {
  Side side;
  std::error_code ec;
  if (arg == "-" || absl::EndsWith(arg, ".json") ||
      (arg.find('@') == std::string::npos &&
       std::filesystem::is_regular_file(arg, ec))) {
    side.is_file = true;
    side.text = arg;
    return side;
  }
  std::uint64_t version = 0;
  if (arg.front() == '@') {
    side.text = s.args.env + arg;
  } else if (absl::SimpleAtoi(arg, &version)) {
    side.text = absl::StrCat(s.args.env, "@", version);
  } else {
    side.text = arg;
  }
  return side;
}

void SwapSides(rapidjson::Value& fields) {
  if (!fields.IsArray()) return;
  for (rapidjson::Value& f : fields.GetArray()) {
    auto before = f.FindMember("before");
    auto after = f.FindMember("after");
    if (before != f.MemberEnd() && after != f.MemberEnd()) {
      before->value.Swap(after->value);
    }
  }
}

// The diff seen from the other side: added <-> removed, before <-> after.
void Reverse(rapidjson::Document& answer) {
  rapidjson::Value* diff = tools::FindMember(answer, "diff");
  if (diff == nullptr) return;
  if (rapidjson::Value* flags = tools::FindMember(*diff, "flags");
      flags != nullptr && flags->IsArray()) {
    for (rapidjson::Value& f : flags->GetArray()) {
      rapidjson::Value* change = tools::FindMember(f, "change");
      if (change != nullptr && change->IsString()) {
        const std::string c = change->GetString();
        if (c == "added") change->SetString("removed");
        if (c == "removed") change->SetString("added");
      }
      if (rapidjson::Value* fields = tools::FindMember(f, "fields")) {
        SwapSides(*fields);
      }
    }
  }
  for (const char* part : {"segments", "other"}) {
    if (rapidjson::Value* fields = tools::FindMember(*diff, part)) {
      SwapSides(*fields);
    }
  }
}

std::string Describe(const rapidjson::Value* side) {
  if (side == nullptr || side->IsNull()) return "";
  return absl::StrCat(Str(*side, "env"), " v", Uint(*side, "version"));
}

void PrintRequest(const rapidjson::Value& r) {
  std::printf("change request %s in %s: %s\n", Str(r, "id").c_str(),
              Str(r, "env").c_str(), Str(r, "state").c_str());
  std::printf("  action      %s\n", Str(r, "action").c_str());
  std::printf("  proposed by %s at %s (based on version %llu)\n",
              Str(r, "proposer").c_str(), Str(r, "created_at").c_str(),
              static_cast<unsigned long long>(Uint(r, "base_version")));
  std::printf("  reason      %s\n", Str(r, "reason").c_str());
  if (!Str(r, "decided_by").empty()) {
    std::printf("  decided by  %s at %s: %s\n", Str(r, "decided_by").c_str(),
                Str(r, "decided_at").c_str(), Str(r, "comment").c_str());
  } else {
    std::printf("  expires     %s\n", Str(r, "expires_at").c_str());
  }
  if (Uint(r, "applied_version") != 0) {
    std::printf("  applied as  version %llu\n",
                static_cast<unsigned long long>(Uint(r, "applied_version")));
  }
  const rapidjson::Value* diff = tools::FindMember(r, "diff");
  if (diff != nullptr) PrintDiff(*diff);
}

}  // namespace

int Diff(Session& s) {
  const auto& p = s.args.positional;
  if (p.size() != 2 && p.size() != 3) {
    return Usage(
        "diff [FROM] TO   (each ENV, ENV@VERSION, VERSION of --env, or a "
        "FILE; FROM defaults to --env)");
  }
  const Side from =
      p.size() == 3 ? ParseSide(s, p[1]) : Side{false, s.args.env};
  const Side to = ParseSide(s, p.back());
  if (from.is_file && to.is_file) {
    return ReportError(absl::InvalidArgumentError(
        "diff compares a file with an environment or version, not two files"));
  }
  absl::StatusOr<Reply> reply;
  if (from.is_file || to.is_file) {
    const Side& file = from.is_file ? from : to;
    const Side& env = from.is_file ? to : from;
    auto doc = ReadJsonFile(file.text);
    if (!doc.ok()) return ReportError(doc.status());
    const std::size_t at = env.text.find('@');
    std::string path = Session::EnvPathOf(env.text.substr(0, at)) + "/diff";
    if (at != std::string::npos) {
      path += "?version=" + UrlEncode(env.text.substr(at + 1));
    }
    reply = s.remote.Request("POST", path,
                             absl::StrCat("{\"document\":", *doc, "}"));
  } else {
    reply =
        s.remote.Request("GET", "/v1/admin/diff?from=" + UrlEncode(from.text) +
                                    "&to=" + UrlEncode(to.text));
  }
  if (!reply.ok()) return ReportError(reply.status());
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(reply->body, "reply", &doc);
  if (!st.ok()) return ReportError(st);
  if (from.is_file) Reverse(doc);
  const bool changed = Bool(doc, "changed");
  if (s.args.json) {
    std::printf("%s\n", from.is_file ? tools::ToJson(doc).c_str()
                                     : reply->body.c_str());
    return changed ? kExitFailed : kExitOk;
  }
  const std::string a =
      from.is_file ? from.text : Describe(tools::FindMember(doc, "from"));
  const std::string b =
      to.is_file
          ? to.text
          : Describe(tools::FindMember(doc, from.is_file ? "from" : "to"));
  std::fprintf(stderr, "# %s → %s\n", a.c_str(), b.c_str());
  const rapidjson::Value* diff = tools::FindMember(doc, "diff");
  if (diff != nullptr) PrintDiff(*diff);
  return changed ? kExitFailed : kExitOk;
}

int Promote(Session& s) {
  const auto& p = s.args.positional;
  if (p.size() < 2 || !s.args.Has("from")) {
    return Usage(
        "promote FLAG... --from ENV[@VERSION] [--to ENV] "
        "[--include-kill-state] [--include-segments] [--yes] [--dry-run] "
        "--reason TEXT");
  }
  if (int rc = RequireReason(s); rc != kExitOk) return rc;
  const std::string to = s.args.Get("to", s.args.env);
  std::vector<std::string> flags(p.begin() + 1, p.end());
  tools::JsonOut extra;
  extra.Begin()
      .Str("from", s.args.Get("from"))
      .Strings("flags", flags)
      .Bool("include_kill_state", s.args.Flag("include-kill-state"))
      .Bool("include_segments", s.args.Flag("include-segments"))
      .End();
  std::string members = extra.Take();
  members = members.substr(1, members.size() - 2);
  const std::string path = Session::EnvPathOf(to) + "/promote";
  const std::string body = WriteBody(s.args, members);

  // First what it would do, then (confirmed) exactly that: the write is
  // conditional on the version the preview was made from.
  auto preview =
      SendWrite(s, "POST", path, body, /*dry_run=*/true, s.args.if_match);
  if (!preview.ok()) return ReportError(preview.status());
  rapidjson::Document doc;
  absl::Status st = tools::ParseJson(preview->body, "reply", &doc);
  if (!st.ok()) return ReportError(st);
  if (s.args.Flag("dry-run") || !Bool(doc, "changed")) {
    return PrintWriteOutcome(s, *preview, /*dry_run=*/true);
  }
  if (!s.args.json) {
    std::fprintf(stderr, "# promote %s → %s\n", s.args.Get("from").c_str(),
                 to.c_str());
    PrintDiff(*tools::FindMember(doc, "diff"));
    PrintWarnings(doc);
  }
  if (!s.args.Flag("yes")) {
    if (!Interactive()) {
      std::fprintf(stderr,
                   "hotfixctl: not a terminal; pass --yes to apply this "
                   "promotion (or --dry-run to only show it)\n");
      return kExitUsage;
    }
    if (!Confirm(absl::StrCat("Apply to ", to, "?"))) {
      std::fprintf(stderr, "hotfixctl: not applied\n");
      return kExitFailed;
    }
  }
  const std::string base = absl::StrCat(Uint(doc, "version") - 1);
  auto applied = SendWrite(s, "POST", path, body, /*dry_run=*/false, base);
  if (!applied.ok()) return ReportError(applied.status());
  return PrintWriteOutcome(s, *applied, /*dry_run=*/false);
}

int Requests(Session& s) {
  const auto& p = s.args.positional;
  const std::string base = s.EnvPath() + "/requests";
  if (p.size() == 1 || (p.size() == 2 && p[1] == "list")) {
    std::string path = base;
    if (s.args.Has("state")) path += "?state=" + UrlEncode(s.args.Get("state"));
    bool printed = false;
    auto doc = GetJson(s, path, &printed);
    if (!doc.ok()) return ReportError(doc.status());
    if (printed) return kExitOk;
    Table t(
        {"ID", "STATE", "ACTION", "PROPOSER", "CREATED", "EXPIRES", "REASON"});
    for (const rapidjson::Value& r : Elements(*doc, "requests")) {
      t.Add({Str(r, "id"), Str(r, "state"), Str(r, "action"),
             Str(r, "proposer"), Str(r, "created_at"), Str(r, "expires_at"),
             Str(r, "reason")});
    }
    std::fprintf(stderr, "# %s (%s)\n", s.args.env.c_str(),
                 Bool(*doc, "protected") ? "protected" : "not protected");
    if (t.empty()) {
      std::printf("no change requests\n");
    } else {
      t.Print();
    }
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "show") {
    bool printed = false;
    auto doc = GetJson(s, base + "/" + UrlEncode(p[2]), &printed);
    if (!doc.ok()) return ReportError(doc.status());
    if (!printed) PrintRequest(*doc);
    return kExitOk;
  }
  if (p.size() == 3 && (p[1] == "approve" || p[1] == "reject")) {
    if (int rc = RequireReason(s); rc != kExitOk) return rc;
    auto doc = SendJson(s, "POST", base + "/" + UrlEncode(p[2]) + "/" + p[1],
                        WriteBody(s.args));
    if (!doc.ok()) return ReportError(doc.status());
    if (s.args.json) return kExitOk;
    if (p[1] == "approve") {
      std::printf(
          "%s: change request %s approved and applied as version "
          "%llu\n",
          Str(*doc, "env").c_str(), p[2].c_str(),
          static_cast<unsigned long long>(Uint(*doc, "applied_version")));
    } else {
      std::printf("%s: change request %s rejected\n", Str(*doc, "env").c_str(),
                  p[2].c_str());
    }
    return kExitOk;
  }
  return Usage(
      "requests [list] [--state proposed|applied|rejected|expired] | "
      "requests show ID | requests approve ID --reason TEXT | "
      "requests reject ID --reason TEXT");
}

int EnvProtect(Session& s, bool protect) {
  if (int rc = RequireReason(s); rc != kExitOk) return rc;
  int status = 0;
  auto doc = SendJson(
      s, "PUT", s.EnvPath() + "/settings",
      WriteBody(s.args, protect ? "\"protected\":true" : "\"protected\":false"),
      &status);
  if (!doc.ok()) return ReportError(doc.status());
  if (s.args.json) return kExitOk;
  if (PrintedProposal(s, status, *doc,
                      "lifting protection needs approval by another person "
                      "with the approve scope")) {
    return kExitOk;
  }
  std::printf("%s: %s%s\n", s.args.env.c_str(),
              protect ? "protected" : "not protected",
              Bool(*doc, "changed") ? "" : " (unchanged)");
  if (protect) {
    std::printf(
        "  changes now need a second person's approval; kills still "
        "apply at once\n");
  }
  return kExitOk;
}

int Webhooks(Session& s) {
  const auto& p = s.args.positional;
  const std::string base = s.EnvPath() + "/webhooks";
  if (p.size() == 1 || (p.size() == 2 && p[1] == "list")) {
    bool printed = false;
    auto doc = GetJson(s, base, &printed);
    if (!doc.ok()) return ReportError(doc.status());
    if (printed) return kExitOk;
    Table t({"ID", "URL", "CREATED", "BY"});
    for (const rapidjson::Value& w : Elements(*doc, "webhooks")) {
      t.Add({Str(w, "id"), Str(w, "url"), Str(w, "created_at"),
             Str(w, "created_by")});
    }
    if (t.empty()) {
      std::printf("%s: no webhooks\n", s.args.env.c_str());
    } else {
      t.Print();
    }
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "add") {
    if (int rc = RequireReason(s); rc != kExitOk) return rc;
    std::string extra = absl::StrCat("\"url\":", tools::JsonQuote(p[2]));
    AppendOption(s.args, "secret", "secret", &extra);
    auto doc = SendJson(s, "POST", base, WriteBody(s.args, extra));
    if (!doc.ok()) return ReportError(doc.status());
    if (s.args.json) return kExitOk;
    std::fprintf(stderr,
                 "added webhook %s for %s; deliveries are signed with this "
                 "secret (shown once):\n",
                 Str(*doc, "id").c_str(), Str(*doc, "url").c_str());
    std::printf("%s\n", Str(*doc, "secret").c_str());
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "delete") {
    if (int rc = RequireReason(s); rc != kExitOk) return rc;
    auto doc =
        SendJson(s, "DELETE", base + "/" + UrlEncode(p[2]), WriteBody(s.args));
    if (!doc.ok()) return ReportError(doc.status());
    if (!s.args.json) std::printf("deleted webhook %s\n", p[2].c_str());
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "ping") {
    auto doc =
        SendJson(s, "POST", base + "/" + UrlEncode(p[2]) + "/ping", "{}");
    if (!doc.ok()) return ReportError(doc.status());
    if (!s.args.json) {
      std::printf("queued ping %s; see: hotfixctl webhooks deliveries %s\n",
                  Str(*doc, "id").c_str(), p[2].c_str());
    }
    return kExitOk;
  }
  if (p.size() == 3 && p[1] == "deliveries") {
    bool printed = false;
    auto doc =
        GetJson(s, base + "/" + UrlEncode(p[2]) + "/deliveries", &printed);
    if (!doc.ok()) return ReportError(doc.status());
    if (printed) return kExitOk;
    Table t({"DELIVERY", "EVENT", "STATE", "ATTEMPTS", "STATUS", "CREATED",
             "ERROR"});
    for (const rapidjson::Value& d : Elements(*doc, "deliveries")) {
      t.Add({Str(d, "id"), Str(d, "event"), Str(d, "state"), Str(d, "attempts"),
             Str(d, "last_status"), Str(d, "created_at"),
             Str(d, "last_error")});
    }
    t.Print();
    return kExitOk;
  }
  return Usage(
      "webhooks [list] | webhooks add URL [--secret S] --reason TEXT | "
      "webhooks delete ID --reason TEXT | webhooks ping ID | "
      "webhooks deliveries ID");
}

}  // namespace hotfixctl
}  // namespace hotfix
