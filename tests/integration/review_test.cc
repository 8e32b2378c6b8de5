// tests/integration/review_test.cc
//
// Review before change (docs/admin-api.md, "Review before change"): dry runs
// answer the diff and store nothing, diffs between versions, environments and
// a document, promotion copies definitions but not kill state, whole-set
// writes delete only when asked, deleting a prerequisite names its
// dependents, rollbacks record the version restored — through the API and
// through hotfixctl, whose `get` output `set` takes back.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kFlags[] = "/v1/admin/envs/production/flags";

class ReviewTest : public ServerTest {
 protected:
  void SetUp() override {
    Start();
    // staging: a copy of production, then ramped and with an extra flag.
    ASSERT_EQ(Call("POST", "/v1/admin/envs",
                   R"({"reason":"stage","name":"staging",
                       "copy_from":"production"})")
                  .status,
              201);
    ASSERT_EQ(
        Call("POST", "/v1/admin/envs/staging/flags/fix-double-charge/rollout",
             R"({"reason":"ramp","percent":60})")
            .status,
        200);
    ASSERT_EQ(Call("PUT", "/v1/admin/envs/staging/flags/new-banner",
                   R"({"reason":"new","flag":{"variants":{"on":true,
                       "off":false},"default":"on"}})")
                  .status,
              200);
  }

  std::uint64_t Version(const std::string& env) {
    HttpReply r = Call("GET", "/v1/admin/envs/" + env + "/flags");
    return r.Json()["version"].GetUint64();
  }
};

TEST_F(ReviewTest, DryRunAnswersTheDiffAndStoresNothing) {
  const std::uint64_t before = Version("production");
  HttpReply r = Call("POST",
                     absl::StrCat(kFlags,
                                  "/fix-double-charge/rollout"
                                  "?dry_run=true"),
                     R"({"reason":"try","percent":80})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_TRUE(doc["dry_run"].GetBool());
  EXPECT_TRUE(doc["changed"].GetBool());
  EXPECT_EQ(doc["version"].GetUint64(), before + 1);  // what it would be
  EXPECT_EQ(r.Header("ETag"), "");                    // nothing to match
  const rapidjson::Value& flags = doc["diff"]["flags"];
  ASSERT_EQ(flags.Size(), 1u);
  EXPECT_STREQ(flags[0]["key"].GetString(), "fix-double-charge");
  EXPECT_STREQ(flags[0]["change"].GetString(), "changed");
  bool saw_weight = false;
  for (const auto& f : flags[0]["fields"].GetArray()) {
    if (std::string(f["path"].GetString()) ==
        "default.rollout.split[0].weight") {
      EXPECT_EQ(f["after"].GetInt(), 80);
      saw_weight = true;
    }
  }
  EXPECT_TRUE(saw_weight) << r.body;
  EXPECT_EQ(Version("production"), before);
  // Not audited, not in the history, not sent to clients.
  HttpReply history = Call("GET", "/v1/admin/envs/production/history");
  EXPECT_EQ(history.Json()["versions"][0]["version"].GetUint64(), before);
  // A dry run that fails validation fails the same way a write does.
  HttpReply bad = Call("POST",
                       absl::StrCat(kFlags,
                                    "/fix-double-charge/rollout"
                                    "?dry_run=true"),
                       R"({"reason":"try","percent":101})");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

TEST_F(ReviewTest, DiffBetweenEnvironmentsVersionsAndADocument) {
  HttpReply r = Call("GET", "/v1/admin/diff?from=production&to=staging");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_STREQ(doc["from"]["env"].GetString(), "production");
  EXPECT_STREQ(doc["to"]["env"].GetString(), "staging");
  EXPECT_TRUE(doc["changed"].GetBool());
  std::map<std::string, std::string> changes;
  for (const auto& f : doc["diff"]["flags"].GetArray()) {
    changes[f["key"].GetString()] = f["change"].GetString();
  }
  EXPECT_EQ(changes,
            (std::map<std::string, std::string>{
                {"fix-double-charge", "changed"}, {"new-banner", "added"}}));
  // Two versions of one environment: v1 -> v3 of staging.
  r = Call("GET", "/v1/admin/diff?from=staging@1&to=staging@2");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = r.Json();
  ASSERT_EQ(doc["diff"]["flags"].Size(), 1u);
  EXPECT_STREQ(doc["diff"]["flags"][0]["key"].GetString(), "fix-double-charge");
  // Identical sides.
  r = Call("GET", "/v1/admin/diff?from=staging&to=staging");
  EXPECT_FALSE(r.Json()["changed"].GetBool());
  // A document against an environment.
  r = Call("POST", "/v1/admin/envs/production/diff",
           R"({"document":{"flags":{}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = r.Json();
  EXPECT_EQ(doc["diff"]["flags"].Size(), 2u);
  EXPECT_STREQ(doc["diff"]["flags"][0]["change"].GetString(), "removed");
  // Errors name the parameter.
  r = Call("GET", "/v1/admin/diff?from=production");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("from, to"), std::string::npos) << r.body;
  r = Call("GET", "/v1/admin/diff?from=production@x&to=staging");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"(\"x\" is not a version number)"), std::string::npos)
      << r.body;
  EXPECT_EQ(Call("GET", "/v1/admin/diff?from=nowhere&to=staging").status, 404);
  EXPECT_EQ(Call("GET", "/v1/admin/diff?from=staging@99&to=staging").status,
            404);
}

TEST_F(ReviewTest, PromoteCopiesDefinitionsButNotKillState) {
  // Production has fix-double-charge killed; staging has it ramped to 60 %.
  ASSERT_EQ(Call("POST", absl::StrCat(kFlags, "/fix-double-charge/kill"),
                 R"({"reason":"incident"})")
                .status,
            200);
  HttpReply r = Call("POST", "/v1/admin/envs/production/promote",
                     R"({"reason":"ship","from":"staging",
                         "flags":["fix-double-charge","new-banner"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document flag =
      Call("GET", absl::StrCat(kFlags, "/fix-double-charge")).Json();
  EXPECT_TRUE(flag["flag"]["killed"].GetBool()) << "the kill stays";
  EXPECT_EQ(flag["flag"]["default"]["rollout"]["split"][0]["weight"].GetInt(),
            60);
  EXPECT_EQ(Call("GET", absl::StrCat(kFlags, "/new-banner")).status, 200);
  // With include_kill_state, staging's (live) state comes too.
  r = Call("POST", "/v1/admin/envs/production/promote",
           R"({"reason":"ship","from":"staging","flags":["fix-double-charge"],
               "include_kill_state":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  flag = Call("GET", absl::StrCat(kFlags, "/fix-double-charge")).Json();
  EXPECT_FALSE(flag["flag"].HasMember("killed") &&
               flag["flag"]["killed"].GetBool());
  // Audited with where it came from.
  rapidjson::Document audit =
      Call("GET", "/v1/admin/audit?env=production&limit=1").Json();
  const rapidjson::Value& detail = audit["entries"][0]["detail"];
  EXPECT_STREQ(audit["entries"][0]["action"].GetString(), "flags.promote");
  EXPECT_STREQ(detail["from"].GetString(), "staging");
  // A flag the source lacks is named.
  r = Call("POST", "/v1/admin/envs/production/promote",
           R"({"reason":"x","from":"staging","flags":["nope"]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find(R"(body.flags[0]: \"nope\" does not exist in staging)"),
            std::string::npos)
      << r.body;
}

TEST_F(ReviewTest, PromoteBringsMissingSegmentsAndRefusesToOverwriteOthers) {
  ASSERT_EQ(Call("PUT", "/v1/admin/envs/staging/flags",
                 R"({"reason":"segments","allow_delete":true,"document":{
                     "segments":{"beta":{"included":["u1"]}},
                     "flags":{"beta-only":{"variants":{"on":true,"off":false},
                       "rules":[{"if":[{"op":"segment","value":"beta"}],
                                 "serve":"on"}],"default":"off"}}}})")
                .status,
            200);
  HttpReply r =
      Call("POST", "/v1/admin/envs/production/promote",
           R"({"reason":"x","from":"staging","flags":["beta-only"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document set = Call("GET", kFlags).Json();
  EXPECT_TRUE(set["segments"].HasMember("beta"));
  // Now production's "beta" differs from staging's: not silently replaced.
  ASSERT_EQ(Call("PUT", "/v1/admin/envs/staging/flags",
                 R"({"reason":"segments","allow_delete":true,"document":{
                     "segments":{"beta":{"included":["u2"]}},
                     "flags":{"beta-only":{"variants":{"on":true,"off":false},
                       "rules":[{"if":[{"op":"segment","value":"beta"}],
                                 "serve":"off"}],"default":"off"}}}})")
                .status,
            200);
  r = Call("POST", "/v1/admin/envs/production/promote",
           R"({"reason":"x","from":"staging","flags":["beta-only"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"(segment \"beta\" differs)"), std::string::npos)
      << r.body;
  r = Call("POST", "/v1/admin/envs/production/promote",
           R"({"reason":"x","from":"staging","flags":["beta-only"],
               "include_segments":true})");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(ReviewTest, WholeSetWritesDeleteOnlyWhenAskedAndSayWhat) {
  const std::string staging_set =
      Call("GET", "/v1/admin/envs/staging/flags").body;
  // Staging's set lacks nothing production has, so add a production-only
  // flag first: the natural "promote" by copying the whole set would drop it.
  ASSERT_EQ(Call("PUT", absl::StrCat(kFlags, "/prod-only"),
                 R"({"reason":"x","flag":{"variants":{"on":true},
                     "default":"on"}})")
                .status,
            200);
  const std::uint64_t before = Version("production");
  HttpReply r =
      Call("PUT", kFlags,
           absl::StrCat(R"({"reason":"copy","document":)", staging_set, "}"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("deletes 1 flag (prod-only)"), std::string::npos)
      << r.body;
  EXPECT_EQ(Version("production"), before);
  // The dry run shows the deletion; the write with allow_delete lists it.
  r = Call("PUT", absl::StrCat(kFlags, "?dry_run=true"),
           absl::StrCat(R"({"reason":"copy","document":)", staging_set, "}"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("key":"prod-only","change":"removed")"),
            std::string::npos)
      << r.body;
  r = Call("PUT", kFlags,
           absl::StrCat(R"({"reason":"copy","allow_delete":true,"document":)",
                        staging_set, "}"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("prod-only: removed"), std::string::npos) << r.body;
}

TEST_F(ReviewTest, DeletingAPrerequisiteNamesTheFlagsThatNeedIt) {
  ASSERT_EQ(Call("PUT", absl::StrCat(kFlags, "/needs-it"),
                 R"({"reason":"x","flag":{"variants":{"on":true,"off":false},
                     "off_variant":"off","default":"on","prerequisites":
                     [{"flag":"kill-recommendations","variant":"on"}]}})")
                .status,
            200);
  HttpReply r = Call("DELETE", absl::StrCat(kFlags, "/kill-recommendations"),
                     R"({"reason":"cleanup"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("cannot delete kill-recommendations: needs-it "
                        "requires it"),
            std::string::npos)
      << r.body;
}

TEST_F(ReviewTest, RollbackHistoryShowsTheVersionRestored) {
  ASSERT_EQ(Call("POST", "/v1/admin/envs/staging/rollback",
                 R"({"reason":"undo","version":1})")
                .status,
            200);
  rapidjson::Document history =
      Call("GET", "/v1/admin/envs/staging/history?limit=1").Json();
  const rapidjson::Value& top = history["versions"][0];
  EXPECT_STREQ(top["action"].GetString(), "rollback");
  EXPECT_EQ(top["restored_version"].GetUint64(), 1u);
  CtlResult ctl = Ctl({"--env", "staging", "history", "--limit", "1"});
  EXPECT_NE(ctl.out.find("rollback to v1"), std::string::npos) << ctl.out;
}

TEST_F(ReviewTest, CtlDiffAndPromoteShowTheChangeAndAskFirst) {
  CtlResult diff = Ctl({"diff", "production", "staging"});
  EXPECT_EQ(diff.exit_code, 1) << diff.err;  // like diff(1): they differ
  EXPECT_NE(diff.out.find("+ new-banner (added)"), std::string::npos)
      << diff.out;
  EXPECT_NE(diff.out.find("~ fix-double-charge"), std::string::npos);
  EXPECT_NE(diff.err.find("# production v1 → staging v3"), std::string::npos)
      << diff.err;
  EXPECT_EQ(Ctl({"diff", "staging@3", "staging"}).exit_code, 0);
  // A file and an environment, either way round.
  const std::string file = dir_.path() + "/prod.json";
  CtlResult get = Ctl({"get"});
  ASSERT_EQ(get.exit_code, 0);
  WriteFile(file, get.out);
  EXPECT_EQ(Ctl({"diff", "production", file}).exit_code, 0);
  CtlResult file_first = Ctl({"diff", file, "staging"});
  EXPECT_EQ(file_first.exit_code, 1);
  EXPECT_NE(file_first.out.find("+ new-banner (added)"), std::string::npos)
      << file_first.out;

  // promote: without a terminal and without --yes nothing is applied.
  const std::uint64_t before = Version("production");
  CtlResult promote =
      Ctl({"promote", "new-banner", "--from", "staging", "--reason", "ship"});
  EXPECT_EQ(promote.exit_code, 2);
  EXPECT_NE(promote.out.find("+ new-banner (added)"), std::string::npos)
      << promote.out;
  EXPECT_NE(promote.err.find("pass --yes"), std::string::npos) << promote.err;
  EXPECT_EQ(Version("production"), before);
  promote = Ctl({"promote", "new-banner", "--from", "staging", "--reason",
                 "ship", "--yes"});
  EXPECT_EQ(promote.exit_code, 0) << promote.err;
  EXPECT_EQ(Version("production"), before + 1);
  // --dry-run on any write.
  CtlResult dry =
      Ctl({"rollout", "fix-double-charge", "5", "--reason", "x", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("dry run, nothing stored"), std::string::npos)
      << dry.out;
  EXPECT_EQ(Version("production"), before + 1);
}

TEST_F(ReviewTest, CtlGetOutputIsWhatSetTakesBack) {
  const std::string flag_file = dir_.path() + "/flag.json";
  const std::string envelope_file = dir_.path() + "/envelope.json";
  CtlResult get = Ctl({"get", "fix-double-charge"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out.find('#'), std::string::npos) << "header on stdout";
  EXPECT_NE(get.err.find("# production fix-double-charge at version 1"),
            std::string::npos)
      << get.err;
  WriteFile(flag_file, get.out);
  CtlResult set = Ctl({"set", "fix-double-charge", "--file", flag_file,
                       "--reason", "round trip"});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("unchanged"), std::string::npos) << set.out;
  CtlResult json = Ctl({"get", "fix-double-charge", "--json"});
  WriteFile(envelope_file, json.out);
  set = Ctl({"set", "fix-double-charge", "--file", envelope_file, "--reason",
             "round trip"});
  EXPECT_EQ(set.exit_code, 0) << set.err;
  // The envelope names its flag: it cannot be set as another one.
  set = Ctl({"set", "other", "--file", envelope_file, "--reason", "x"});
  EXPECT_EQ(set.exit_code, 1);
  EXPECT_NE(set.err.find("holds flag \"fix-double-charge\""), std::string::npos)
      << set.err;
}

TEST_F(ReviewTest, CtlGetAtAVersionShowsTheFlagAsItWasThen) {
  ASSERT_EQ(Ctl({"kill", "fix-double-charge", "--reason", "x"}).exit_code, 0);
  CtlResult then = Ctl({"get", "fix-double-charge", "--at", "1"});
  ASSERT_EQ(then.exit_code, 0) << then.err;
  EXPECT_EQ(then.out.find("\"killed\": true"), std::string::npos) << then.out;
  EXPECT_NE(then.err.find("at version 1"), std::string::npos) << then.err;
  CtlResult now = Ctl({"get", "fix-double-charge"});
  EXPECT_NE(now.out.find("\"killed\": true"), std::string::npos) << now.out;
  EXPECT_EQ(Ctl({"get", "new-banner", "--at", "1"}).exit_code, 4);
}

TEST_F(ReviewTest, CtlSaysWhatFailedWhenItCannotConnect) {
  CtlResult r = RunCtl({"--url", "http://127.0.0.1:1", "--token", "x", "list"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("connection refused"), std::string::npos) << r.err;
  r = RunCtl(
      {"--url", "http://no-such-host.invalid:8420", "--token", "x", "list"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("cannot resolve host \"no-such-host.invalid\""),
            std::string::npos)
      << r.err;
  // HTTPS to a plain-HTTP server.
  r = RunCtl({"--url", absl::StrCat("https://127.0.0.1:", server_->port()),
              "--token", "x", "list"});
  EXPECT_EQ(r.exit_code, 6);
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
}

TEST_F(ReviewTest, CtlTokensRevokeSaysWhatItRevoked) {
  CtlResult created =
      Ctl({"tokens", "create", "temp", "--kind", "reader", "--reason", "x"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  rapidjson::Document list;
  ASSERT_TRUE(
      tools::ParseJson(Ctl({"tokens", "list", "--json"}).out, "out", &list)
          .ok());
  std::string id;
  for (const auto& t : list["tokens"].GetArray()) {
    if (std::string(t["name"].GetString()) == "temp") id = t["id"].GetString();
  }
  CtlResult revoked = Ctl({"tokens", "revoke", id, "--reason", "done"});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_EQ(revoked.out, absl::StrCat("revoked token ", id,
                                      " (its open streams are closed)\n"));
}

TEST(ReviewOfflineTest, EvalTakesManyContextsAsJsonLines) {
  TempDir dir;
  const std::string file = dir.path() + "/flags.json";
  WriteFile(file, R"({"version":3,"flags":{"eu-only":{
      "variants":{"on":true,"off":false},"default":"off",
      "rules":[{"if":[{"attribute":"region","op":"in","values":["eu"]}],
                "serve":"on"}]}}})");
  const std::string contexts =
      "{\"key\":\"u1\",\"region\":\"eu\"}\n"
      "\n"
      "{\"key\":\"u2\",\"region\":\"us\"}\n"
      "not json\n"
      "{\"key\":\"u3\",\"age\":31,\"beta\":true}\n";
  CtlResult r =
      RunCtl({"eval", file, "eu-only", "--contexts", "-"}, {}, contexts);
  EXPECT_EQ(r.exit_code, 1);  // one line could not be read
  std::vector<rapidjson::Document> lines;
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t end = r.out.find('\n', start);
    rapidjson::Document d;
    ASSERT_TRUE(
        tools::ParseJson(r.out.substr(start, end - start), "line", &d).ok());
    lines.push_back(std::move(d));
    start = end + 1;
  }
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0]["line"].GetInt(), 1);
  EXPECT_TRUE(lines[0]["value"].GetBool());
  EXPECT_STREQ(lines[0]["reason"].GetString(), "RULE_MATCH");
  EXPECT_EQ(lines[1]["line"].GetInt(), 3);
  EXPECT_FALSE(lines[1]["value"].GetBool());
  EXPECT_EQ(lines[2]["line"].GetInt(), 4);
  EXPECT_TRUE(lines[2].HasMember("error"));
  EXPECT_STREQ(lines[3]["key"].GetString(), "u3");
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
