// tests/integration/admin_api_test.cc
//
// The admin API's behaviour (docs/admin-api.md): audit and history record
// actor, reason and what changed for every write; rollout semantics; no-op
// writes; create-only; rollback; independent environments; metadata and
// staleness; /healthz and /metrics; bootstrap tokens on first start.

#include <memory>
#include <set>
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

class AdminApiTest : public ServerTest {
 protected:
  void SetUp() override { Start(); }

  // The fallthrough ("default") of `flag` in the current production set.
  std::string Fallthrough(const std::string& flag) {
    HttpReply r = Call("GET", "/v1/admin/envs/production/flags/" + flag);
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc = r.Json();
    return tools::ToJson(doc["flag"]["default"]);
  }
};

TEST_F(AdminApiTest, EveryWriteIsAuditedWithActorReasonAndWhatChanged) {
  HttpReply alice =
      Call("POST", "/v1/admin/tokens",
           R"({"reason":"onboarding","name":"alice","kind":"admin"})");
  ASSERT_EQ(alice.status, 201) << alice.body;
  const std::string token = alice.Json()["token"].GetString();
  struct Write {
    const char* method;
    std::string path;
    std::string body;
    const char* action;
  };
  const std::vector<Write> writes = {
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
       R"({"reason":"INC-1 recs down"})", "flag.kill"},
      {"POST", "/v1/admin/envs/production/flags/fix-double-charge/rollout",
       R"({"reason":"INC-2 ramp","percent":50})", "flag.rollout"},
      {"PUT", "/v1/admin/envs/production/flags/new-flag",
       R"({"reason":"INC-3 add","flag":{"variants":{"on":true},"default":"on"}})",
       "flag.create"},
      {"PUT", "/v1/admin/envs/production/flags/new-flag",
       R"({"reason":"INC-4 edit","flag":{"variants":{"on":true,"off":false},"default":"off"}})",
       "flag.update"},
      {"DELETE", "/v1/admin/envs/production/flags/new-flag",
       R"({"reason":"INC-5 remove"})", "flag.delete"},
      {"POST", "/v1/admin/envs/production/tags/checkout/revive",
       R"({"reason":"INC-6 recover"})", "tag.revive"},
      {"POST", "/v1/admin/envs/production/rollback",
       R"({"reason":"INC-7 undo","version":2})", "rollback"},
  };
  for (const Write& w : writes) {
    HttpReply r = Call(w.method, w.path, w.body, token);
    ASSERT_EQ(r.status, 200) << w.path << ": " << r.body;
  }
  HttpReply audit = Call("GET", "/v1/admin/audit?env=production&limit=7");
  ASSERT_EQ(audit.status, 200);
  rapidjson::Document doc = audit.Json();
  const rapidjson::Value& entries = doc["entries"];
  ASSERT_EQ(entries.Size(), writes.size());
  for (rapidjson::SizeType i = 0; i < entries.Size(); ++i) {
    const Write& w = writes[writes.size() - 1 - i];  // newest first
    const rapidjson::Value& e = entries[i];
    EXPECT_EQ(std::string(e["actor"].GetString()), "alice");
    EXPECT_EQ(std::string(e["action"].GetString()), w.action);
    rapidjson::Document body;
    ASSERT_TRUE(tools::ParseJson(w.body, "write", &body).ok());
    EXPECT_EQ(std::string(e["reason"].GetString()),
              std::string(body["reason"].GetString()));
    EXPECT_EQ(e["version"].GetUint64(), 8 - i);
    EXPECT_TRUE(e["detail"].HasMember("changed_keys"));
    EXPECT_FALSE(std::string(e["time"].GetString()).empty());
  }
  EXPECT_EQ(tools::ToJson(entries[6]["detail"]["changed_keys"]),
            R"(["kill-recommendations"])");
  EXPECT_EQ(entries[5]["detail"]["percent"].GetDouble(), 50);
  EXPECT_EQ(entries[0]["detail"]["rollback_to"].GetUint64(), 2u);
  // History carries the same attribution.
  HttpReply history = Call("GET", "/v1/admin/envs/production/history?limit=3");
  rapidjson::Document h = history.Json();
  EXPECT_EQ(h["current_version"].GetUint64(), 8u);
  EXPECT_EQ(std::string(h["versions"][0]["actor"].GetString()), "alice");
  EXPECT_EQ(std::string(h["versions"][0]["reason"].GetString()), "INC-7 undo");
  EXPECT_EQ(h["next_before"].GetUint64(), 6u);
  // Token management is audited too, without the secret.
  HttpReply all = Call("GET", "/v1/admin/audit?limit=100");
  EXPECT_NE(all.body.find("\"token.create\""), std::string::npos);
  EXPECT_EQ(all.body.find(token), std::string::npos);
}

TEST_F(AdminApiTest, RolloutSetsATwoWaySplitOrConvertsABooleanFlag) {
  HttpReply r =
      Call("POST", "/v1/admin/envs/production/flags/fix-double-charge/rollout",
           R"({"reason":"ramp","percent":12.5})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      Fallthrough("fix-double-charge"),
      R"({"rollout":{"bucket_by":"key","split":[{"variant":"on","weight":12.5},{"variant":"off","weight":87.5}]}})");
  // A static boolean flag becomes a split of its true and false variants.
  r = Call("POST",
           "/v1/admin/envs/production/flags/kill-recommendations/rollout",
           R"({"reason":"convert","percent":30})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      Fallthrough("kill-recommendations"),
      R"({"rollout":{"split":[{"variant":"on","weight":30},{"variant":"off","weight":70}]}})");
  // Not applicable: a string flag, and a three-way split.
  ASSERT_EQ(
      Call(
          "PUT", "/v1/admin/envs/production/flags/color",
          R"({"reason":"x","flag":{"variants":{"a":"red","b":"blue"},"default":"a"}})")
          .status,
      200);
  r = Call("POST", "/v1/admin/envs/production/flags/color/rollout",
           R"({"reason":"x","percent":10})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("flags.color.default"), std::string::npos) << r.body;
  ASSERT_EQ(Call("PUT", "/v1/admin/envs/production/flags/three",
                 R"({"reason":"x","flag":{"variants":{"a":1,"b":2,"c":3},
                     "default":{"rollout":{"split":[{"variant":"a","weight":50},
                     {"variant":"b","weight":25},{"variant":"c","weight":25}]}}}})")
                .status,
            200);
  r = Call("POST", "/v1/admin/envs/production/flags/three/rollout",
           R"({"reason":"x","percent":10})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("flags.three.default.rollout.split: has 3 entries"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Call("POST", "/v1/admin/envs/production/flags/missing/rollout",
                 R"({"reason":"x","percent":10})")
                .status,
            404);
}

TEST_F(AdminApiTest, ARejectedFlagSetListsEveryCompileError) {
  HttpReply r =
      Call("PUT", "/v1/admin/envs/production/flags/broken",
           R"({"reason":"x","flag":{"variants":{"on":true,"off":false},
          "default":"onn","off_variant":"of",
          "rules":[{"if":[{"attribute":"a","op":"betwen","value":1}],
                    "serve":"on"}]}})");
  EXPECT_EQ(r.status, 400);
  rapidjson::Document doc = r.Json();
  const rapidjson::Value& error = doc["error"];
  EXPECT_EQ(std::string(error["code"].GetString()), "INVALID_ARGUMENT");
  // "message" is the first error, as before; "errors" lists them all.
  EXPECT_EQ(std::string(error["message"].GetString()),
            "flags.broken.default: unknown variant \"onn\"");
  ASSERT_TRUE(error["errors"].IsArray()) << r.body;
  ASSERT_EQ(error["errors"].Size(), 3u) << r.body;
  EXPECT_EQ(std::string(error["errors"][1].GetString()),
            "flags.broken.off_variant: unknown variant \"of\"");
  EXPECT_EQ(std::string(error["errors"][2].GetString()),
            "flags.broken.rules[0].if[0].op: unknown operator \"betwen\"");
  EXPECT_EQ(error["error_count"].GetUint64(), 3u);
  // Other errors keep their two members.
  r = Call("PUT", "/v1/admin/envs/production/flags/broken", R"({"flag":{}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.Json()["error"].HasMember("errors")) << r.body;
}

TEST_F(AdminApiTest, NoOpWriteCreatesNoVersion) {
  HttpReply r = Call(
      "POST", "/v1/admin/envs/production/flags/kill-recommendations/revive",
      R"({"reason":"already live"})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_FALSE(doc["changed"].GetBool());
  EXPECT_EQ(doc["version"].GetUint64(), 1u);
  EXPECT_EQ(Call("GET", "/v1/admin/envs/production/history")
                .Json()["versions"]
                .Size(),
            1u);
  // Nor an audit entry: the audit log records changes.
  rapidjson::Document audit =
      Call("GET", "/v1/admin/audit?env=production").Json();
  for (const auto& e : audit["entries"].GetArray()) {
    EXPECT_NE(std::string(e["action"].GetString()), "flag.revive");
  }
}

TEST_F(AdminApiTest, RolloutKeepsAKilledFlagKilledAndItsBucketing) {
  ASSERT_EQ(Call("PUT", "/v1/admin/envs/production/flags/salted",
                 R"({"reason":"x","flag":{"variants":{"on":true,"off":false},
                     "off_variant":"off","killed":true,
                     "default":{"rollout":{"bucket_by":"account","salt":"s-7",
                       "split":[{"variant":"on","weight":5},
                                {"variant":"off","weight":95}]}}}})")
                .status,
            200);
  ASSERT_EQ(Call("POST", "/v1/admin/envs/production/flags/salted/rollout",
                 R"({"reason":"ramp","percent":50})")
                .status,
            200);
  HttpReply flag = Call("GET", "/v1/admin/envs/production/flags/salted");
  rapidjson::Document doc = flag.Json();
  EXPECT_TRUE(doc["flag"]["killed"].GetBool());
  EXPECT_EQ(std::string(doc["flag"]["default"]["rollout"]["salt"].GetString()),
            "s-7");
  EXPECT_EQ(
      std::string(doc["flag"]["default"]["rollout"]["bucket_by"].GetString()),
      "account");
}

TEST_F(AdminApiTest, ABodylessPostTakesItsReasonFromTheHeader) {
  // curl -X POST -H "X-Hotfix-Reason: ..." .../kill: no body, no length.
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send(absl::StrCat(
      "POST /v1/admin/envs/production/flags/kill-recommendations/kill "
      "HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer ",
      kAdminToken, "\r\nX-Hotfix-Reason: recs melting\r\n\r\n")));
  const std::string reply = c.ReadAll(absl::Seconds(10));
  EXPECT_EQ(StatusOf(reply), 200) << reply;
  rapidjson::Document audit = Call("GET", "/v1/admin/audit?limit=1").Json();
  EXPECT_EQ(std::string(audit["entries"][0]["reason"].GetString()),
            "recs melting");
}

TEST_F(AdminApiTest, RequestMetricsCarryTheRealStatus) {
  ASSERT_EQ(Call("GET", "/healthz", "", "").status, 200);
  ASSERT_EQ(Call("GET", "/metrics", "", "").status, 200);
  const std::string metrics = Call("GET", "/metrics", "", "").body;
  EXPECT_NE(metrics.find("hotfixd_http_requests_total{route=\"/healthz\","
                         "method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("route=\"/metrics\",method=\"GET\",status=\"200\""),
            std::string::npos);
  EXPECT_EQ(metrics.find("status=\"-1\""), std::string::npos);
}

TEST_F(AdminApiTest, AConflictCarriesTheCurrentEtag) {
  HttpReply first =
      Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
           R"({"reason":"x"})");
  ASSERT_EQ(first.status, 200);
  HttpReply stale =
      Http(server_->port(), "POST",
           "/v1/admin/envs/production/flags/kill-recommendations/revive",
           kAdminToken, R"({"reason":"based on version 1"})",
           {{"If-Match", "\"production-1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(stale.Header("ETag"), "\"production-2\"");
  EXPECT_EQ(stale.Header("X-Hotfix-Version"), "2");
  EXPECT_NE(stale.body.find("If-Match: version 1 is not the current version"),
            std::string::npos)
      << stale.body;
}

TEST_F(AdminApiTest, CreateOnlyConflictsAndUnknownThingsAre404) {
  const std::string flag =
      R"({"reason":"x","flag":{"variants":{"on":true},"default":"on"}})";
  EXPECT_EQ(
      Call("POST", "/v1/admin/envs/production/flags/brand-new", flag).status,
      201);
  HttpReply again =
      Call("POST", "/v1/admin/envs/production/flags/brand-new", flag);
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("already exists"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/admin/envs/production/flags/nope").status, 404);
  EXPECT_EQ(Call("POST", "/v1/admin/envs/production/flags/nope/kill",
                 R"({"reason":"x"})")
                .status,
            404);
  EXPECT_EQ(Call("POST", "/v1/admin/envs/production/tags/nope/kill",
                 R"({"reason":"x"})")
                .status,
            404);
  EXPECT_EQ(Call("GET", "/v1/admin/envs/nope/flags").status, 404);
  EXPECT_EQ(Call("POST", "/v1/admin/envs/production/rollback",
                 R"({"reason":"x","version":99})")
                .status,
            404);
  HttpReply unknown = Call("GET", "/v1/admin/nothing-here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("NOT_FOUND"), std::string::npos);
}

TEST_F(AdminApiTest, KillByTagKillsEveryTaggedFlagInOneVersion) {
  ASSERT_EQ(Call("PUT", "/v1/admin/envs/production/flags/payments-retry",
                 R"({"reason":"x","flag":{"variants":{"on":true,"off":false},
                     "off_variant":"off","default":"on","tags":["payments"]}})")
                .status,
            200);
  HttpReply r = Call("POST", "/v1/admin/envs/production/tags/payments/kill",
                     R"({"reason":"payments incident"})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document doc = r.Json();
  EXPECT_EQ(doc["version"].GetUint64(), 3u);
  EXPECT_EQ(std::string(doc["event"].GetString()), "put");  // two flags
  EXPECT_EQ(tools::ToJson(doc["changed_keys"]),
            R"(["fix-double-charge","payments-retry"])");
  HttpReply meta =
      Call("GET", "/v1/admin/envs/production/metadata?tag=payments");
  rapidjson::Document m = meta.Json();
  ASSERT_EQ(m["flags"].Size(), 2u);
  for (const rapidjson::Value& f : m["flags"].GetArray()) {
    EXPECT_TRUE(f["killed"].GetBool());
  }
}

TEST_F(AdminApiTest, EnvironmentsHaveIndependentSetsAndVersions) {
  HttpReply staging =
      Call("POST", "/v1/admin/envs",
           R"({"reason":"new env","name":"staging","copy_from":"production"})");
  ASSERT_EQ(staging.status, 201) << staging.body;
  HttpReply empty =
      Call("POST", "/v1/admin/envs", R"({"reason":"x","name":"dev"})");
  ASSERT_EQ(empty.status, 201) << empty.body;
  EXPECT_EQ(
      Call("POST", "/v1/admin/envs", R"({"reason":"x","name":"dev"})").status,
      409);
  EXPECT_EQ(
      Call("POST", "/v1/admin/envs", R"({"reason":"x","name":"bad name"})")
          .status,
      400);
  ASSERT_EQ(
      Call("POST", "/v1/admin/envs/staging/flags/kill-recommendations/kill",
           R"({"reason":"x"})")
          .status,
      200);
  ASSERT_EQ(
      Call("POST", "/v1/admin/envs/staging/flags/kill-recommendations/revive",
           R"({"reason":"x"})")
          .status,
      200);
  HttpReply envs = Call("GET", "/v1/admin/envs");
  rapidjson::Document doc = envs.Json();
  std::map<std::string, std::uint64_t> versions;
  std::map<std::string, std::uint64_t> flags;
  for (const rapidjson::Value& e : doc["environments"].GetArray()) {
    versions[e["name"].GetString()] = e["version"].GetUint64();
    flags[e["name"].GetString()] = e["flags"].GetUint64();
  }
  EXPECT_EQ(versions["production"], 1u);
  EXPECT_EQ(versions["staging"], 3u);
  EXPECT_EQ(versions["dev"], 1u);
  EXPECT_EQ(flags["staging"], 2u);
  EXPECT_EQ(flags["dev"], 0u);
}

TEST_F(AdminApiTest, MetadataListsStaleFlags) {
  ASSERT_EQ(Call("PUT", "/v1/admin/envs/production/flags/old-fix",
                 R"({"reason":"x","flag":{"variants":{"on":true},"default":"on",
                     "owner":"team-a","expires":"2020-01-01"}})")
                .status,
            200);
  HttpReply stale =
      Call("GET", "/v1/admin/envs/production/metadata?stale=true");
  ASSERT_EQ(stale.status, 200);
  rapidjson::Document doc = stale.Json();
  ASSERT_EQ(doc["flags"].Size(), 1u);
  EXPECT_EQ(std::string(doc["flags"][0]["key"].GetString()), "old-fix");
  EXPECT_EQ(std::string(doc["flags"][0]["owner"].GetString()), "team-a");
  EXPECT_TRUE(doc["flags"][0]["stale"].GetBool());
  HttpReply all = Call("GET", "/v1/admin/envs/production/metadata");
  rapidjson::Document a = all.Json();
  EXPECT_EQ(a["flags"].Size(), 3u);
  EXPECT_EQ(std::string(a["flags"][0]["fallthrough"].GetString()),
            "rollout on 25% / off 75%");
}

TEST_F(AdminApiTest, HealthzAndMetricsAnswerWithoutToken) {
  HttpReply health = Call("GET", "/healthz", "", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Json()["status"].GetString(), std::string("ok"));
  EXPECT_EQ(health.Json()["environments"].GetInt(), 1);
  ASSERT_EQ(Call("GET", "/v1/flags", "", kSdkKey).status, 200);
  ASSERT_EQ(
      Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
           R"({"reason":"x"})")
          .status,
      200);
  SseReader stream(server_->port(), kSdkKey);
  ASSERT_TRUE(stream.WaitForVersion(2, absl::Seconds(10)).has_value());
  HttpReply metrics = Call("GET", "/metrics", "", "");
  ASSERT_EQ(metrics.status, 200);
  for (const char* line : {
           "hotfixd_http_requests_total{route=\"/v1/"
           "flags\",method=\"GET\",status=\"200\"} 1",
           "hotfixd_http_requests_total{route=\"/v1/admin/envs/{env}/flags/"
           "{key}/kill\",method=\"POST\",status=\"200\"} 1",
           "hotfixd_flag_changes_total{env=\"production\",action=\"flag.kill\"}"
           " 1",
           "hotfixd_stream_connections{env=\"production\"} 1",
           "hotfixd_flag_set_version{env=\"production\"} 2",
           "hotfixd_flags{env=\"production\"} 2",
           "# TYPE hotfixd_http_requests_total counter",
       }) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n"
                                                          << metrics.body;
  }
}

TEST_F(AdminApiTest, GetFlagsHonoursEtagAndGzip) {
  HttpReply first = Call("GET", "/v1/flags", "", kSdkKey);
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.Header("ETag");
  EXPECT_EQ(etag, "\"production-1\"");
  EXPECT_EQ(first.Header("Cache-Control"), "no-cache");
  HttpReply again = Http(server_->port(), "GET", "/v1/flags", kSdkKey, "",
                         {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  HttpReply list = Http(server_->port(), "GET", "/v1/flags", kSdkKey, "",
                        {{"If-None-Match", "\"production-0\", " + etag}});
  EXPECT_EQ(list.status, 304);
  // A large set is served gzip-compressed to clients that accept it
  // (cpp-httplib's client decompresses transparently).
  std::string document = R"({"flags":{)";
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&document, i ? "," : "", "\"flag-", i,
                    R"(":{"variants":{"on":true,"off":false},"default":"on"})");
  }
  document += "}}";
  ASSERT_EQ(
      Call("PUT", "/v1/admin/envs/production/flags",
           absl::StrCat(R"({"reason":"big","allow_delete":true,"document":)",
                        document, "}"))
          .status,
      200);
  HttpReply big = Http(server_->port(), "GET", "/v1/flags", kSdkKey, "",
                       {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(big.status, 200);
  EXPECT_EQ(big.Header("Content-Encoding"), "gzip");
  rapidjson::Document doc = big.Json();
  EXPECT_EQ(doc["flags"].MemberCount(), 200u);
  EXPECT_EQ(doc["version"].GetUint64(), 2u);
}

TEST(AdminApiBootstrapTest, FirstStartPrintsGeneratedTokensOnce) {
  TempDir dir;
  ServerOptions options;
  options.data_dir = dir.path() + "/data";
  options.admin_token = "";
  options.sdk_key = "";
  std::string admin;
  std::string sdk;
  {
    auto server = ServerProcess::Start(options);
    ASSERT_NE(server, nullptr);
    const std::string log = server->Stderr();
    const std::string admin_marker = "admin token (shown once, store it now): ";
    const std::string sdk_marker =
        "SDK key for \"production\" (shown once, store it now): ";
    const size_t a = log.find(admin_marker);
    const size_t s = log.find(sdk_marker);
    ASSERT_NE(a, std::string::npos) << log;
    ASSERT_NE(s, std::string::npos) << log;
    admin = log.substr(a + admin_marker.size(),
                       log.find('\n', a) - a - admin_marker.size());
    sdk = log.substr(s + sdk_marker.size(),
                     log.find('\n', s) - s - sdk_marker.size());
    EXPECT_EQ(admin.substr(0, 4), "hfa_");
    EXPECT_EQ(sdk.substr(0, 4), "hfs_");
    EXPECT_EQ(Http(server->port(), "GET", "/v1/admin/whoami", admin).status,
              200);
    EXPECT_EQ(Http(server->port(), "GET", "/v1/flags", sdk).status, 200);
    EXPECT_EQ(server->Terminate(), 0);
  }
  auto server = ServerProcess::Start(options);
  ASSERT_NE(server, nullptr);
  const std::string log = server->Stderr();
  EXPECT_EQ(log.find(admin), std::string::npos);
  EXPECT_EQ(log.find(sdk), std::string::npos);
  EXPECT_EQ(log.find("shown once"), std::string::npos);
  EXPECT_EQ(Http(server->port(), "GET", "/v1/admin/whoami", admin).status, 200);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
