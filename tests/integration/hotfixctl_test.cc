// tests/integration/hotfixctl_test.cc
//
// hotfixctl as an operator and a script use it: offline validate / eval with
// the SDK's compiler, human and --json output, --reason enforced for writes,
// and exit codes that say what went wrong (0 ok, 1 rejected, 2 usage,
// 3 unauthorized, 4 not found, 5 conflict, 6 unreachable).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kFlagSet[] = R"({
  "version": 7,
  "flags": {
    "fix-123": {
      "variants": {"on": true, "off": false},
      "off_variant": "off",
      "rules": [{"if": [{"attribute": "region", "op": "in", "values": ["eu"]}],
                 "serve": "on"},
                {"if": [{"attribute": "age_days", "op": "gte", "value": 30}],
                 "serve": "on"}],
      "default": "off"
    },
    "old": {"variants": {"on": true}, "default": "on", "expires": "2020-01-01"}
  }
})";

TEST(HotfixctlOfflineTest,
     ValidateAcceptsAGoodFileAndNamesTheProblemInABadOne) {
  TempDir dir;
  const std::string good = dir.path() + "/good.json";
  const std::string bad = dir.path() + "/bad.json";
  WriteFile(good, kFlagSet);
  WriteFile(bad, R"({"version":1,"flags":{"f":{"variants":{"on":true},
      "default":"on","rules":[{"if":[{"attribute":"a","op":"betwen","value":1}],
      "serve":"on"}]}}})");
  CtlResult r = RunCtl({"validate", good});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, good + ": ok (version 7, 2 flags)\n");
  r = RunCtl({"validate", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("flags.f.rules[0].if[0]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("betwen"), std::string::npos) << r.err;
  r = RunCtl({"validate", bad, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(r.out, "out", &doc).ok()) << r.out;
  EXPECT_FALSE(doc["valid"].GetBool());
  r = RunCtl({"validate", "-"}, {}, kFlagSet);  // stdin
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunCtl({"validate", dir.path() + "/missing.json"});
  EXPECT_EQ(r.exit_code, 4);
  r = RunCtl({"validate"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(HotfixctlOfflineTest, EvalPrintsValueVariantAndReason) {
  TempDir dir;
  const std::string file = dir.path() + "/flags.json";
  WriteFile(file, kFlagSet);
  CtlResult r = RunCtl(
      {"eval", file, "fix-123", "--ctx", "key=user-1", "--ctx", "region=eu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "fix-123: true\n  variant  on\n  reason   RULE_MATCH (rule 0)\n"
            "  version  7\n");
  // Typed attribute: age_days:=45 is the number 45 (rule 1); as a string it
  // does not match a numeric clause (fails closed).
  r = RunCtl({"eval", file, "fix-123", "--ctx", "age_days:=45", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(r.out, "out", &doc).ok()) << r.out;
  EXPECT_TRUE(doc["value"].GetBool());
  EXPECT_EQ(std::string(doc["reason"].GetString()), "RULE_MATCH");
  EXPECT_EQ(doc["rule_index"].GetInt(), 1);
  r = RunCtl({"eval", file, "fix-123", "--ctx", "age_days=45", "--json"});
  ASSERT_TRUE(tools::ParseJson(r.out, "out", &doc).ok()) << r.out;
  EXPECT_FALSE(doc["value"].GetBool());
  EXPECT_EQ(std::string(doc["reason"].GetString()), "DEFAULT");
  r = RunCtl({"eval", file, "no-such-flag"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.out.find("FLAG_NOT_FOUND"), std::string::npos) << r.out;
  r = RunCtl({"eval", file, "fix-123", "--ctx", "novalue"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(HotfixctlOfflineTest, ValidateListsEveryIndependentErrorWithItsPath) {
  TempDir dir;
  const std::string bad = dir.path() + "/bad.json";
  WriteFile(bad, R"({"version": 1, "flags": {
      "a": {"variants": {"on": true}, "default": "onn"},
      "b": {"variants": {"on": true, "off": false}, "default": "on",
            "rules": [{"if": [{"attribute": "x", "op": "betwen", "value": 1}],
                       "serve": "on"}],
            "owner": 5},
      "c": {"variants": {"on": true, "off": "no"}, "default": "zzz"}}})");
  CtlResult r = RunCtl({"validate", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  // Every independent error, in document order; nothing about c's default:
  // c's variants failed, so the rest of c is not checked.
  EXPECT_EQ(r.err,
            bad + ": flags.a.default: unknown variant \"onn\"\n" + bad +
                ": flags.b.rules[0].if[0].op: unknown operator \"betwen\"\n" +
                bad + ": flags.b.owner: expected a string\n" + bad +
                ": flags.c.variants.off: all variants must have one type: "
                "expected bool, got string\n");

  r = RunCtl({"validate", bad, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(r.out, "out", &doc).ok()) << r.out;
  EXPECT_FALSE(doc["valid"].GetBool());
  // "error" stays the first error, as before.
  EXPECT_EQ(std::string(doc["error"].GetString()),
            "flags.a.default: unknown variant \"onn\"");
  ASSERT_TRUE(doc["errors"].IsArray());
  ASSERT_EQ(doc["errors"].Size(), 4u);
  EXPECT_EQ(std::string(doc["errors"][1].GetString()),
            "flags.b.rules[0].if[0].op: unknown operator \"betwen\"");
  EXPECT_EQ(doc["error_count"].GetUint64(), 4u);
}

TEST(HotfixctlOfflineTest, ValidateStopsAtMaxErrorsAndSaysHowManyMore) {
  TempDir dir;
  const std::string bad = dir.path() + "/bad.json";
  std::string flags;
  for (int i = 0; i < 25; ++i) {
    absl::StrAppend(&flags, i == 0 ? "" : ",", "\"f", i,
                    R"(": {"variants": {"on": true}, "default": "x"})");
  }
  WriteFile(bad, absl::StrCat(R"({"version": 1, "flags": {)", flags, "}}"));
  CtlResult r = RunCtl({"validate", bad});
  EXPECT_EQ(r.exit_code, 1);
  // 20 errors by default, then the count of the rest.
  std::vector<std::string> lines = absl::StrSplit(r.err, '\n');
  ASSERT_EQ(lines.size(), 22u) << r.err;  // 21 lines and the final ""
  EXPECT_EQ(lines[0], bad + ": flags.f0.default: unknown variant \"x\"");
  EXPECT_EQ(lines[19], bad + ": flags.f19.default: unknown variant \"x\"");
  EXPECT_EQ(lines[20], bad + ": and 5 more errors (--max-errors 20)");

  r = RunCtl({"validate", bad, "--max-errors", "3", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(r.out, "out", &doc).ok()) << r.out;
  EXPECT_EQ(doc["errors"].Size(), 3u);
  EXPECT_EQ(doc["error_count"].GetUint64(), 25u);
  // Like a bad --format: rejected, naming the option.
  r = RunCtl({"validate", bad, "--max-errors", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--max-errors"), std::string::npos) << r.err;
}

// The flag of the --explain tests: a semver rule, a bool rule, a split rule.
constexpr char kExplainSet[] = R"({"version": 3, "flags": {"beta": {
    "variants": {"on": true, "off": false}, "default": "off",
    "rules": [
      {"if": [{"attribute": "app_version", "op": "semver_gte",
               "value": "5.2.0"},
              {"attribute": "plan", "op": "in", "values": ["pro"]}],
       "serve": "on"},
      {"if": [{"attribute": "tester", "op": "in", "values": [true]}],
       "serve": "on"},
      {"if": [{"attribute": "plan", "op": "in", "values": ["team"]}],
       "serve": {"rollout": {"bucket_by": "org", "split": [
         {"variant": "on", "weight": 100}]}}}]}}})";

TEST(HotfixctlOfflineTest, EvalExplainSaysWhichClauseHadTheWrongType) {
  TempDir dir;
  const std::string file = dir.path() + "/flags.json";
  WriteFile(file, kExplainSet);
  // app_version:=5 is a number (semver_gte reads a string); tester=yes is a
  // string (the rule's values are bools); plan is missing.
  CtlResult r = RunCtl({"eval", file, "beta", "--ctx", "app_version:=5",
                        "--ctx", "tester=yes", "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "beta: false\n"
            "  variant  off\n"
            "  reason   DEFAULT\n"
            "  version  3\n"
            "  rule 0: not matched\n"
            "    if[0] app_version semver_gte: skipped: wrong type "
            "(expected string, got number)\n"
            "    if[1] plan in: not evaluated (an earlier clause failed)\n"
            "  rule 1: not matched\n"
            "    if[0] tester in: skipped: wrong type (expected bool, got "
            "string)\n"
            "  rule 2: not matched\n"
            "    if[0] plan in: skipped: attribute missing\n"
            "  decided  no rule matched: the default variant \"off\"\n");

  // Matching types: rule 0 decides and later rules are not shown.
  r = RunCtl({"eval", file, "beta", "--ctx", "app_version=6.0.0", "--ctx",
              "plan=pro", "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "beta: true\n"
            "  variant  on\n"
            "  reason   RULE_MATCH (rule 0)\n"
            "  version  3\n"
            "  rule 0: matched\n"
            "    if[0] app_version semver_gte: matched\n"
            "    if[1] plan in: matched\n"
            "  decided  rule 0\n");

  // Without --explain the output is as before.
  r = RunCtl({"eval", file, "beta", "--ctx", "app_version:=5"});
  EXPECT_EQ(r.out,
            "beta: false\n  variant  off\n  reason   DEFAULT\n  version  3\n");
}

TEST(HotfixctlOfflineTest, EvalExplainJsonNamesOutcomesAndTypes) {
  TempDir dir;
  const std::string file = dir.path() + "/flags.json";
  WriteFile(file, kExplainSet);
  CtlResult r = RunCtl({"eval", file, "beta", "--ctx", "app_version:=5",
                        "--ctx", "plan=team", "--explain", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(r.out, "out", &doc).ok()) << r.out;
  EXPECT_EQ(std::string(doc["reason"].GetString()), "DEFAULT");
  const rapidjson::Value& rules = doc["explain"]["rules"];
  ASSERT_EQ(rules.Size(), 3u);
  const rapidjson::Value& semver = rules[0]["clauses"][0];
  EXPECT_EQ(std::string(semver["attribute"].GetString()), "app_version");
  EXPECT_EQ(std::string(semver["op"].GetString()), "semver_gte");
  EXPECT_EQ(std::string(semver["outcome"].GetString()), "wrong_type");
  EXPECT_EQ(std::string(semver["expected_type"].GetString()), "string");
  EXPECT_EQ(std::string(semver["actual_type"].GetString()), "number");
  EXPECT_EQ(std::string(rules[0]["clauses"][1]["outcome"].GetString()),
            "not_evaluated");
  EXPECT_EQ(std::string(rules[1]["clauses"][0]["outcome"].GetString()),
            "missing_attribute");
  // Rule 2 matched, but its split is by "org", which the context lacks.
  EXPECT_TRUE(rules[2]["matched"].GetBool());
  EXPECT_EQ(std::string(rules[2]["bucket_by"].GetString()), "org");
  EXPECT_TRUE(rules[2]["missing_bucket_key"].GetBool());
  EXPECT_EQ(std::string(doc["explain"]["decided_by"].GetString()),
            "no rule matched: the default variant \"off\"");
}

TEST(HotfixctlOfflineTest, EvalExplainWorksOnEveryContextLine) {
  TempDir dir;
  const std::string file = dir.path() + "/flags.json";
  WriteFile(file, kExplainSet);
  CtlResult r =
      RunCtl({"eval", file, "beta", "--contexts", "-", "--explain"}, {},
             "{\"plan\": \"team\", \"org\": \"acme\"}\n"
             "{\"app_version\": 5}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r.out;
  rapidjson::Document first;
  ASSERT_TRUE(tools::ParseJson(lines[0], "line 1", &first).ok()) << lines[0];
  EXPECT_EQ(first["rule_index"].GetInt(), 2);
  EXPECT_EQ(std::string(first["explain"]["decided_by"].GetString()),
            "rule 2 (its split by org)");
  rapidjson::Document second;
  ASSERT_TRUE(tools::ParseJson(lines[1], "line 2", &second).ok()) << lines[1];
  EXPECT_EQ(
      std::string(
          second["explain"]["rules"][0]["clauses"][0]["outcome"].GetString()),
      "wrong_type");
}

class HotfixctlTest : public ServerTest {
 protected:
  void SetUp() override { Start(); }
};

TEST_F(HotfixctlTest, WritesRequireAReason) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"kill", "kill-recommendations"},
           {"revive", "--tag", "payments"},
           {"rollout", "fix-double-charge", "5"},
           {"rollback", "1"},
           {"delete", "fix-double-charge"},
           {"tokens", "create", "x"}}) {
    CtlResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_NE(r.err.find("--reason"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Http(server_->port(), "GET", "/v1/flags", kSdkKey)
                .Header("X-Hotfix-Version"),
            "1");
}

TEST_F(HotfixctlTest, ExitCodesSayWhatWentWrong) {
  EXPECT_EQ(Ctl({"kill", "no-such-flag", "--reason", "x"}).exit_code, 4);
  EXPECT_EQ(Ctl({"list"}, "wrong-token-0123456789abcdef").exit_code, 3);
  EXPECT_EQ(
      Ctl({"kill", "kill-recommendations", "--reason", "x"}, kSdkKey).exit_code,
      3);
  CtlResult conflict =
      Ctl({"kill", "kill-recommendations", "--reason", "x", "--if-match", "0"});
  EXPECT_EQ(conflict.exit_code, 5);
  EXPECT_NE(conflict.err.find("If-Match"), std::string::npos) << conflict.err;
  EXPECT_EQ(
      Ctl({"rollout", "fix-double-charge", "150", "--reason", "x"}).exit_code,
      2);
  const std::string bad = dir_.path() + "/bad.json";
  WriteFile(bad, R"({"variants":{"on":true},"default":"missing"})");
  CtlResult rejected = Ctl({"set", "f", "--file", bad, "--reason", "x"});
  EXPECT_EQ(rejected.exit_code, 1);
  EXPECT_NE(rejected.err.find("flags.f"), std::string::npos) << rejected.err;
  EXPECT_EQ(Ctl({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Ctl({"list", "--bogus"}).exit_code, 2);
  CtlResult unreachable = RunCtl(
      {"list"},
      {{"HOTFIX_URL", "http://127.0.0.1:1"}, {"HOTFIX_TOKEN", kAdminToken}});
  EXPECT_EQ(unreachable.exit_code, 6);
  EXPECT_EQ(RunCtl({"list"}, {{"HOTFIX_URL", server_->url()}}).exit_code, 2);
}

TEST_F(HotfixctlTest, AlreadyDoneIsAConflictExit5) {
  CtlResult created = Ctl({"tokens", "create", "tmp", "--kind", "reader",
                           "--reason", "x", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(created.out, "out", &doc).ok()) << created.out;
  const std::string id = doc["id"].GetString();
  ASSERT_EQ(Ctl({"tokens", "revoke", id, "--reason", "x"}).exit_code, 0);
  CtlResult again = Ctl({"tokens", "revoke", id, "--reason", "x"});
  EXPECT_EQ(again.exit_code, 5) << again.err;
  EXPECT_NE(again.err.find("already revoked"), std::string::npos) << again.err;
}

TEST_F(HotfixctlTest, TokenFileEnvironmentVariableAndCaCertificate) {
  // --token-file: the first line of the file.
  const std::string token_file = dir_.path() + "/token";
  WriteFile(token_file, std::string(kAdminToken) + "\nignored\n");
  CtlResult with_file = RunCtl({"list", "--token-file", token_file},
                               {{"HOTFIX_URL", server_->url()}});
  EXPECT_EQ(with_file.exit_code, 0) << with_file.err;
  // HOTFIX_ENV picks the environment.
  ASSERT_EQ(Ctl({"env", "create", "staging", "--reason", "x"}).exit_code, 0);
  std::map<std::string, std::string> env = CtlEnv(*server_);
  env["HOTFIX_ENV"] = "staging";
  CtlResult staging =
      RunCtl({"kill", "kill-recommendations", "--reason", "x"}, env);
  EXPECT_EQ(staging.exit_code, 4) << "staging starts empty: " << staging.err;
  env["HOTFIX_ENV"] = "production";
  EXPECT_EQ(
      RunCtl({"kill", "kill-recommendations", "--reason", "x"}, env).exit_code,
      0);
  // HOTFIX_CA_CERT: trust a server's self-signed certificate.
  const std::string cert = dir_.path() + "/cert.pem";
  const std::string key = dir_.path() + "/key.pem";
  MakeSelfSignedCertificate(cert, key);
  ServerOptions tls;
  tls.data_dir = dir_.path() + "/tls-data";
  tls.args = {"--tls-cert", cert, "--tls-key", key};
  std::unique_ptr<ServerProcess> secure = ServerProcess::Start(tls);
  ASSERT_NE(secure, nullptr);
  const std::string url = absl::StrCat("https://127.0.0.1:", secure->port());
  CtlResult untrusted =
      RunCtl({"list"}, {{"HOTFIX_URL", url}, {"HOTFIX_TOKEN", kAdminToken}});
  EXPECT_EQ(untrusted.exit_code, 6) << "an unknown CA must not be trusted";
  CtlResult trusted = RunCtl({"list"}, {{"HOTFIX_URL", url},
                                        {"HOTFIX_TOKEN", kAdminToken},
                                        {"HOTFIX_CA_CERT", cert}});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  EXPECT_NE(trusted.out.find("kill-recommendations"), std::string::npos);
}

TEST_F(HotfixctlTest, HumanAndJsonOutput) {
  CtlResult list = Ctl({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(
                "fix-double-charge     bool  live   rollout on 25% / off 75%"),
            std::string::npos)
      << list.out;
  CtlResult json = Ctl({"list", "--json"});
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(json.out, "out", &doc).ok()) << json.out;
  EXPECT_EQ(doc["flags"].Size(), 2u);

  CtlResult kill =
      Ctl({"kill", "kill-recommendations", "--reason", "incident", "--json"});
  ASSERT_EQ(kill.exit_code, 0) << kill.err;
  ASSERT_TRUE(tools::ParseJson(kill.out, "out", &doc).ok()) << kill.out;
  EXPECT_EQ(doc["version"].GetUint64(), 2u);
  EXPECT_EQ(std::string(doc["event"].GetString()), "patch");

  CtlResult history = Ctl({"history"});
  ASSERT_EQ(history.exit_code, 0);
  EXPECT_NE(history.out.find("bootstrap-admin  flag.kill"), std::string::npos)
      << history.out;
  EXPECT_NE(history.out.find("incident"), std::string::npos);
  CtlResult audit = Ctl({"audit", "--json"});
  ASSERT_TRUE(tools::ParseJson(audit.out, "out", &doc).ok()) << audit.out;
  EXPECT_EQ(std::string(doc["entries"][0]["reason"].GetString()), "incident");

  CtlResult envs = Ctl({"envs"});
  EXPECT_NE(envs.out.find("production  2"), std::string::npos) << envs.out;
  CtlResult who = Ctl({"whoami"});
  EXPECT_NE(who.out.find("bootstrap-admin"), std::string::npos) << who.out;
}

TEST_F(HotfixctlTest, SetRejectedByTheCompilerPrintsEveryError) {
  const std::string flag = dir_.path() + "/flag.json";
  WriteFile(flag, R"({"variants":{"on":true,"off":false},"default":"onn",
                      "rules":[{"if":[{"attribute":"a","op":"betwen",
                                       "value":1}],"serve":"on"}]})");
  CtlResult r = Ctl({"set", "bad-fix", "--file", flag, "--reason", "add"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "hotfixctl: flags.bad-fix.default: unknown variant \"onn\"\n"
            "  flags.bad-fix.rules[0].if[0].op: unknown operator "
            "\"betwen\"\n");
}

TEST_F(HotfixctlTest, SetGetAndWholeSetRoundTrip) {
  const std::string flag = dir_.path() + "/flag.json";
  WriteFile(flag, R"({"variants":{"on":true,"off":false},"off_variant":"off",
                      "default":"off","owner":"me"})");
  ASSERT_EQ(Ctl({"set", "my-fix", "--file", flag, "--reason", "add"}).exit_code,
            0);
  CtlResult get = Ctl({"get", "my-fix"});
  ASSERT_EQ(get.exit_code, 0);
  EXPECT_NE(get.out.find("\"owner\": \"me\""), std::string::npos) << get.out;

  // get (whole set) -> edit -> set --file: a full round trip.
  CtlResult whole = Ctl({"get", "--json"});
  ASSERT_EQ(whole.exit_code, 0);
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(whole.out, "out", &doc).ok());
  doc["flags"].RemoveMember("my-fix");
  const std::string set_file = dir_.path() + "/set.json";
  WriteFile(set_file, tools::ToJson(doc));
  // Deleting a flag through a whole-set write must be asked for.
  CtlResult refused = Ctl({"set", "--file", set_file, "--reason", "drop my-fix",
                           "--if-match", "2"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("deletes 1 flag (my-fix)"), std::string::npos)
      << refused.err;
  CtlResult set = Ctl({"set", "--file", set_file, "--reason", "drop my-fix",
                       "--if-match", "2", "--allow-delete"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find("version 3 (patch: my-fix)"), std::string::npos)
      << set.out;
  EXPECT_EQ(Ctl({"get", "my-fix"}).exit_code, 4);
  CtlResult at = Ctl({"get", "--at", "2"});
  EXPECT_NE(at.out.find("my-fix"), std::string::npos);

  CtlResult rollout =
      Ctl({"rollout", "fix-double-charge", "40%", "--reason", "ramp"});
  ASSERT_EQ(rollout.exit_code, 0) << rollout.err;
  CtlResult list = Ctl({"list"});
  EXPECT_NE(list.out.find("rollout on 40% / off 60%"), std::string::npos)
      << list.out;
  CtlResult rollback = Ctl({"rollback", "1", "--reason", "undo"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  EXPECT_NE(Ctl({"list"}).out.find("rollout on 25% / off 75%"),
            std::string::npos);
}

TEST_F(HotfixctlTest, StaleListsExpiredFlags) {
  CtlResult none = Ctl({"stale"});
  ASSERT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("no stale flags"), std::string::npos) << none.out;
  const std::string flag = dir_.path() + "/flag.json";
  WriteFile(flag, R"({"variants":{"on":true},"default":"on","owner":"payments",
                      "ticket":"PAY-9","expires":"2021-06-30"})");
  CtlResult set = Ctl({"set", "fix-2021", "--file", flag, "--reason", "old"});
  ASSERT_EQ(set.exit_code, 0);
  // Accepted, with a warning that it is already stale.
  EXPECT_NE(set.err.find("warning: flags.fix-2021.expires: 2021-06-30 is in "
                         "the past"),
            std::string::npos)
      << set.err;
  // A CI gate: stale flags make the step fail, with --json too.
  CtlResult stale = Ctl({"stale"});
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_EQ(Ctl({"stale", "--json"}).exit_code, 1);
  EXPECT_NE(stale.out.find("fix-2021"), std::string::npos) << stale.out;
  EXPECT_NE(stale.out.find("PAY-9"), std::string::npos) << stale.out;
  EXPECT_EQ(stale.out.find("kill-recommendations"), std::string::npos);
}

TEST_F(HotfixctlTest, TokensCreateUseAndRevoke) {
  CtlResult created = Ctl(
      {"tokens", "create", "deploy-bot", "--kind", "admin", "--reason", "ci"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string secret = created.out.substr(0, created.out.find('\n'));
  EXPECT_EQ(secret.substr(0, 4), "hfa_");
  CtlResult who = Ctl({"whoami"}, secret);
  EXPECT_NE(who.out.find("deploy-bot"), std::string::npos) << who.out;
  CtlResult list = Ctl({"tokens", "list", "--json"});
  rapidjson::Document doc;
  ASSERT_TRUE(tools::ParseJson(list.out, "out", &doc).ok());
  std::string id;
  for (const rapidjson::Value& t : doc["tokens"].GetArray()) {
    if (std::string(t["name"].GetString()) == "deploy-bot")
      id = t["id"].GetString();
  }
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(list.out.find(secret), std::string::npos);
  ASSERT_EQ(Ctl({"tokens", "revoke", id, "--reason", "rotated"}).exit_code, 0);
  EXPECT_EQ(Ctl({"whoami"}, secret).exit_code, 3);
  // An SDK key for the current environment.
  CtlResult sdk = Ctl({"tokens", "create", "web", "--reason", "new service"});
  ASSERT_EQ(sdk.exit_code, 0) << sdk.err;
  const std::string key = sdk.out.substr(0, sdk.out.find('\n'));
  EXPECT_EQ(Http(server_->port(), "GET", "/v1/flags", key).status, 200);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
