// tests/integration/ofrep_test.cc
//
// hotfixd's OpenFeature Remote Evaluation Protocol endpoints, over real HTTP
// against a real hotfixd on 127.0.0.1: bodies, reasons, error codes and
// statuses; the bulk ETag and 304; Bearer and X-API-Key (only on OFREP
// routes); hostile bodies answered 400 with nothing else affected; 429 with
// Retry-After; a kill seen on the next evaluation; flagd-format sets stored,
// served unchanged and evaluated. (tests/openfeature/ofrep_test.js drives
// the same endpoints with the OpenFeature clients.)

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "harness.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kNativeFlags[] = R"({"version": 1, "flags": {
  "on": {"variants": {"on": true, "off": false}, "off_variant": "off",
         "default": "on", "owner": "team-a", "ticket": "T-1", "tags": ["x", "y"]},
  "greeting": {"variants": {"hello": "Hello", "hallo": "Hallo"}, "default": "hello",
    "rules": [{"if": [{"attribute": "country", "op": "eq", "value": "DE"}], "serve": "hallo"}]},
  "split": {"variants": {"a": 1, "b": 2},
    "default": {"rollout": {"split": [{"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}},
  "gone": {"variants": {"a": "A"}, "default": "a", "killed": true}
}})";

constexpr char kFlagdFlags[] = R"({
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "metadata": {"flagSetId": "ofrep-test"},
  "flags": {
    "banner": {"state": "ENABLED", "variants": {"on": true, "off": false},
      "defaultVariant": "off", "metadata": {"owner": "web"},
      "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", null]}},
    "ramp": {"state": "ENABLED", "variants": {"on": true, "off": false},
      "defaultVariant": "off", "targeting": {"fractional": [["on", 50], ["off", 50]]}}
  }})";

class OfrepTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    WriteFile(dir_.path() + "/flags.json", kNativeFlags);
    ServerOptions options;
    options.data_dir = dir_.path() + "/data";
    options.args = {"--bootstrap-flags", dir_.path() + "/flags.json"};
    options.args.insert(options.args.end(), extra.begin(), extra.end());
    server_ = ServerProcess::Start(options);
    ASSERT_NE(server_, nullptr);
  }
  HttpReply Eval(const std::string& flag, const std::string& body,
                 const httplib::Headers& headers = {},
                 const std::string& token = kSdkKey) {
    return Http(server_->port(), "POST", "/ofrep/v1/evaluate/flags/" + flag,
                token, body, headers);
  }
  HttpReply Bulk(const std::string& body, const httplib::Headers& headers = {},
                 const std::string& token = kSdkKey) {
    return Http(server_->port(), "POST", "/ofrep/v1/evaluate/flags", token,
                body, headers);
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(OfrepTest, SingleFlagAnswersValueReasonVariantAndMetadata) {
  Start();
  HttpReply r = Eval("on", R"({"context": {"targetingKey": "u1"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("Content-Type").find("application/json"),
            std::string::npos);
  auto doc = r.Json();
  EXPECT_STREQ(doc["key"].GetString(), "on");
  EXPECT_TRUE(doc["value"].GetBool());
  EXPECT_STREQ(doc["reason"].GetString(), "STATIC");
  EXPECT_STREQ(doc["variant"].GetString(), "on");
  EXPECT_STREQ(doc["metadata"]["owner"].GetString(), "team-a");
  EXPECT_STREQ(doc["metadata"]["ticket"].GetString(), "T-1");
  EXPECT_STREQ(doc["metadata"]["tags"].GetString(), "x,y");
  EXPECT_TRUE(doc["metadata"]["version"].IsNumber());

  auto de = Eval("greeting", R"({"context": {"country": "DE"}})").Json();
  EXPECT_STREQ(de["value"].GetString(), "Hallo");
  EXPECT_STREQ(de["reason"].GetString(), "TARGETING_MATCH");
  auto split = Eval("split", R"({"context": {"targetingKey": "u1"}})").Json();
  EXPECT_STREQ(split["reason"].GetString(), "SPLIT");
  EXPECT_TRUE(split["value"].IsNumber());
  // Killed without an off variant: DISABLED, no value (the code default).
  auto gone = Eval("gone", R"({"context": {}})").Json();
  EXPECT_STREQ(gone["reason"].GetString(), "DISABLED");
  EXPECT_FALSE(gone.HasMember("value"));
  EXPECT_FALSE(gone.HasMember("variant"));
  // No body at all: an empty context, as flagd accepts.
  EXPECT_EQ(Eval("on", "").status, 200);
}

TEST_F(OfrepTest, ErrorsCarryOfrepCodesAndStatuses) {
  Start();
  HttpReply missing = Eval("no-such-flag", R"({"context": {}})");
  EXPECT_EQ(missing.status, 404);
  auto m = missing.Json();
  EXPECT_STREQ(m["key"].GetString(), "no-such-flag");
  EXPECT_STREQ(m["errorCode"].GetString(), "FLAG_NOT_FOUND");
  HttpReply no_key = Eval("split", R"({"context": {}})");
  EXPECT_EQ(no_key.status, 400);
  EXPECT_STREQ(no_key.Json()["errorCode"].GetString(), "TARGETING_KEY_MISSING");
  // In bulk the same failure is an item, not a failed request.
  HttpReply bulk = Bulk(R"({"context": {}})");
  ASSERT_EQ(bulk.status, 200);
  bool found = false;
  const rapidjson::Document answer = bulk.Json();  // outlives the loop
  for (const auto& item : answer["flags"].GetArray()) {
    if (std::string(item["key"].GetString()) == "split") {
      EXPECT_STREQ(item["errorCode"].GetString(), "TARGETING_KEY_MISSING");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(OfrepTest, BulkEtagHashesTheAnswerAndHonoursIfNoneMatch) {
  Start();
  HttpReply a = Bulk(R"({"context": {"targetingKey": "u1"}})");
  ASSERT_EQ(a.status, 200);
  const std::string etag = a.Header("ETag");
  ASSERT_FALSE(etag.empty());
  HttpReply same =
      Bulk(R"({"context": {"targetingKey": "u1"}})", {{"If-None-Match", etag}});
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.Header("ETag"), etag);
  // The same targetingKey with other attributes is another answer.
  HttpReply other =
      Bulk(R"({"context": {"targetingKey": "u1", "country": "DE"}})",
           {{"If-None-Match", etag}});
  EXPECT_EQ(other.status, 200);
  EXPECT_NE(other.Header("ETag"), etag);
  // A change of the flags is another answer too.
  ASSERT_EQ(
      RunCtl({"kill", "on", "--reason", "etag"}, CtlEnv(*server_)).exit_code,
      0);
  EXPECT_EQ(
      Bulk(R"({"context": {"targetingKey": "u1"}})", {{"If-None-Match", etag}})
          .status,
      200);
}

TEST_F(OfrepTest, AcceptsBearerOrApiKeyAndOnlyOnOfrepRoutes) {
  Start();
  EXPECT_EQ(Eval("on", "{}", {}, "").status, 401);
  EXPECT_EQ(Eval("on", "{}", {{"X-API-Key", kSdkKey}}, "").status, 200);
  EXPECT_EQ(
      Eval("on", "{}", {{"X-API-Key", "wrong-key-0000000000"}}, "").status,
      401);
  EXPECT_EQ(Eval("on", "{}", {}, "wrong-key-0000000000").status, 401);
  // X-API-Key is not accepted elsewhere.
  EXPECT_EQ(Http(server_->port(), "GET", "/v1/flags", "", "",
                 {{"X-API-Key", kSdkKey}})
                .status,
            401);
  // A token without the sdk or read scope is refused.
  CtlResult created = RunCtl(
      {"tokens", "create", "writer", "--scopes", "write", "--reason", "test"},
      CtlEnv(*server_));
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string writer = created.out;
  while (!writer.empty() && (writer.back() == '\n' || writer.back() == ' ')) {
    writer.pop_back();
  }
  EXPECT_EQ(Eval("on", "{}", {}, writer).status, 403);
}

TEST_F(OfrepTest, HostileBodiesGet400AndChangeNothing) {
  Start();
  const std::string deep = "{\"context\":{\"a\":" + std::string(20000, '[') +
                           std::string(20000, ']') + "}}";
  const std::string big =
      "{\"context\":{\"targetingKey\":\"" + std::string(10 << 20, 'x') + "\"}}";
  const std::vector<std::string> bodies = {
      "not json",
      R"({"context": [1, 2]})",
      R"({"context": "u"})",
      R"([{"context": {}}])",
      deep,
      big,
      R"({"context": {"roles": ["a"]}})",
      R"({"context": {"targetingKey": 7}})",
      R"({"context": {"key": "k"}})"};
  for (const std::string& body : bodies) {
    HttpReply single = Eval("on", body);
    EXPECT_EQ(single.status, 400) << body.substr(0, 60);
    if (single.status == 400) {
      auto doc = single.Json();
      EXPECT_STREQ(doc["errorCode"].GetString(), "INVALID_CONTEXT");
      EXPECT_STREQ(doc["key"].GetString(), "on");
    }
    HttpReply bulk = Bulk(body);
    EXPECT_EQ(bulk.status, 400) << body.substr(0, 60);
  }
  HttpReply ok = Eval("on", R"({"context": {}})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Http(server_->port(), "GET", "/healthz", "").status, 200);
}

TEST_F(OfrepTest, RateLimitAnswers429WithRetryAfter) {
  Start({"--ofrep-rate-limit", "1", "--ofrep-burst", "2"});
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    HttpReply r = Eval("on", "{}");
    if (r.status == 429) {
      ++limited;
      retry_after = r.Header("Retry-After");
    }
  }
  EXPECT_GE(limited, 1);
  EXPECT_GE(std::atoi(retry_after.c_str()), 1);
  // The limit is per token: the admin token (read scope) is not affected.
  EXPECT_EQ(Eval("on", "{}", {}, kAdminToken).status, 200);
}

TEST_F(OfrepTest, KillIsSeenOnTheNextEvaluation) {
  Start();
  EXPECT_TRUE(Eval("on", "{}").Json()["value"].GetBool());
  ASSERT_EQ(
      RunCtl({"kill", "on", "--reason", "test"}, CtlEnv(*server_)).exit_code,
      0);
  auto killed = Eval("on", "{}").Json();
  EXPECT_STREQ(killed["reason"].GetString(), "DISABLED");
  EXPECT_FALSE(killed["value"].GetBool());
  EXPECT_STREQ(killed["variant"].GetString(), "off");
}

TEST_F(OfrepTest, FlagdSetsAreStoredServedUnchangedAndEvaluated) {
  Start();
  ASSERT_EQ(RunCtl({"env", "create", "web", "--file",
                    (WriteFile(dir_.path() + "/flagd.json", kFlagdFlags),
                     dir_.path() + "/flagd.json"),
                    "--reason", "flagd set"},
                   CtlEnv(*server_))
                .exit_code,
            0);
  auto env = CtlEnv(*server_);
  env["HOTFIX_ENV"] = "web";
  CtlResult key = RunCtl(
      {"tokens", "create", "web-sdk", "--kind", "sdk", "--reason", "t"}, env);
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string sdk = key.out;
  while (!sdk.empty() && sdk.back() == '\n') sdk.pop_back();
  // Served as flagd wrote it (hotfixd adds only its version number).
  HttpReply flags = Http(server_->port(), "GET", "/v1/flags", sdk);
  ASSERT_EQ(flags.status, 200);
  auto served = flags.Json();
  EXPECT_STREQ(served["$schema"].GetString(),
               "https://flagd.dev/schema/v0/flags.json");
  EXPECT_STREQ(served["flags"]["ramp"]["state"].GetString(), "ENABLED");
  EXPECT_TRUE(served["flags"]["ramp"]["targeting"].HasMember("fractional"));
  // Evaluated with flagd's semantics.
  auto hit =
      Eval("banner", R"({"context": {"email": "a@example.com"}})", {}, sdk)
          .Json();
  EXPECT_TRUE(hit["value"].GetBool());
  EXPECT_STREQ(hit["reason"].GetString(), "TARGETING_MATCH");
  EXPECT_STREQ(hit["metadata"]["owner"].GetString(), "web");
  EXPECT_STREQ(hit["metadata"]["flagSetId"].GetString(), "ofrep-test");
  auto miss = Eval("banner", R"({"context": {}})", {}, sdk).Json();
  EXPECT_STREQ(miss["reason"].GetString(), "DEFAULT");
  // flagd-core: hash("rampuser1") decides; fractional is TARGETING_MATCH.
  EXPECT_STREQ(
      Eval("ramp", R"({"context": {"targetingKey": "user1"}})", {}, sdk)
          .Json()["reason"]
          .GetString(),
      "TARGETING_MATCH");
  // Per-flag operations: kill sets state, rollout sets the weights, and an
  // unsupported rollout says why.
  EXPECT_EQ(RunCtl({"kill", "banner", "--reason", "t"}, env).exit_code, 0);
  auto disabled = Eval("banner", R"({"context": {}})", {}, sdk).Json();
  EXPECT_STREQ(disabled["reason"].GetString(), "DISABLED");
  EXPECT_FALSE(disabled.HasMember("value"));
  EXPECT_EQ(RunCtl({"rollout", "ramp", "100", "--reason", "t"}, env).exit_code,
            0);
  auto full =
      Eval("ramp", R"({"context": {"targetingKey": "anyone"}})", {}, sdk)
          .Json();
  EXPECT_TRUE(full["value"].GetBool());
  CtlResult refused = RunCtl({"rollout", "banner", "10", "--reason", "t"}, env);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("flagd flag takes a rollout percentage"),
            std::string::npos)
      << refused.err;
}

TEST_F(OfrepTest, BootstrapFlagsMayBeAFlagdFile) {
  WriteFile(dir_.path() + "/flagd.json", kFlagdFlags);
  ServerOptions options;
  options.data_dir = dir_.path() + "/data";
  options.args = {"--bootstrap-flags", dir_.path() + "/flagd.json"};
  server_ = ServerProcess::Start(options);
  ASSERT_NE(server_, nullptr);
  auto hit =
      Eval("banner", R"({"context": {"email": "b@example.com"}})").Json();
  EXPECT_TRUE(hit["value"].GetBool());
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
