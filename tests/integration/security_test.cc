// tests/integration/security_test.cc
//
// hotfixd's security promises: SDK keys cannot write (403); missing, wrong,
// malformed or revoked tokens get 401 with the same detail-free body; tokens
// never reach the log or the database in clear; oversize bodies get 413;
// malformed JSON, unknown fields, missing reasons and invalid flags get 400
// naming the problem — and an invalid flag never reaches clients. TLS serves
// HTTPS with the configured certificate.

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kUnauthenticatedBody[] =
    R"({"error":{"code":"UNAUTHENTICATED","message":"unauthenticated"}})";

class SecurityTest : public ServerTest {
 protected:
  void SetUp() override { Start({"--log-requests"}); }

  // Every call here names its token (many use the wrong one on purpose).
  HttpReply Call(const std::string& method, const std::string& path,
                 const std::string& token, const std::string& body = "") {
    return ServerTest::Call(method, path, body, token);
  }

  // The id of the bootstrap admin token, as the token list `token` may read
  // shows it ("" if it does not).
  std::string BootstrapAdminId(const std::string& token) {
    // The document outlives the loop (a temporary's member would not).
    const rapidjson::Document tokens =
        Call("GET", "/v1/admin/tokens", token).Json();
    if (!tokens.IsObject() || !tokens.HasMember("tokens")) return "";
    for (const auto& t : tokens["tokens"].GetArray()) {
      if (std::string(t["name"].GetString()) == "bootstrap-admin") {
        return t["id"].GetString();
      }
    }
    return "";
  }
};

struct Endpoint {
  const char* method;
  const char* path;
  const char* body;
};

const std::vector<Endpoint>& WriteEndpoints() {
  static const std::vector<Endpoint> kEndpoints = {
      {"PUT", "/v1/admin/envs/production/flags",
       R"({"reason":"x","document":{"flags":{}}})"},
      {"PUT", "/v1/admin/envs/production/flags/f",
       R"({"reason":"x","flag":{"variants":{"on":true},"default":"on"}})"},
      {"POST", "/v1/admin/envs/production/flags/f",
       R"({"reason":"x","flag":{"variants":{"on":true},"default":"on"}})"},
      {"DELETE", "/v1/admin/envs/production/flags/kill-recommendations",
       R"({"reason":"x"})"},
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
       R"({"reason":"x"})"},
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/revive",
       R"({"reason":"x"})"},
      {"POST", "/v1/admin/envs/production/flags/fix-double-charge/rollout",
       R"({"reason":"x","percent":50})"},
      {"POST", "/v1/admin/envs/production/tags/payments/kill",
       R"({"reason":"x"})"},
      {"POST", "/v1/admin/envs/production/rollback",
       R"({"reason":"x","version":1})"},
      {"POST", "/v1/admin/envs", R"({"reason":"x","name":"qa"})"},
      {"POST", "/v1/admin/tokens",
       R"({"reason":"x","name":"t","kind":"admin"})"},
      {"DELETE", "/v1/admin/tokens/tok_x", R"({"reason":"x"})"},
  };
  return kEndpoints;
}

TEST_F(SecurityTest, SdkKeyCannotWriteAnything) {
  for (const Endpoint& e : WriteEndpoints()) {
    HttpReply r = Call(e.method, e.path, kSdkKey, e.body);
    EXPECT_EQ(r.status, 403) << e.method << " " << e.path << ": " << r.body;
    EXPECT_NE(r.body.find("PERMISSION_DENIED"), std::string::npos);
  }
  // Nor read the admin API.
  EXPECT_EQ(Call("GET", "/v1/admin/audit", kSdkKey).status, 403);
  EXPECT_EQ(Call("GET", "/v1/admin/envs/production/history", kSdkKey).status,
            403);
  EXPECT_EQ(Call("GET", "/v1/admin/tokens", kSdkKey).status, 403);
  // Nothing changed.
  EXPECT_EQ(Call("GET", "/v1/flags", kSdkKey).Header("X-Hotfix-Version"), "1");
}

TEST_F(SecurityTest, BadTokensGet401WithoutDetail) {
  // A token that existed and was revoked.
  HttpReply created = Call("POST", "/v1/admin/tokens", kAdminToken,
                           R"({"reason":"x","name":"temp","kind":"admin"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string revoked = created.Json()["token"].GetString();
  const std::string id = created.Json()["id"].GetString();
  ASSERT_EQ(Call("GET", "/v1/admin/whoami", revoked).status, 200);
  ASSERT_EQ(Call("DELETE", "/v1/admin/tokens/" + id, kAdminToken,
                 R"({"reason":"rotate"})")
                .status,
            200);

  const std::vector<std::string> bad_tokens = {
      "", "wrong-token-0123456789abcdef", std::string(kAdminToken) + "x",
      std::string(kAdminToken).substr(1), revoked};
  for (const std::string& token : bad_tokens) {
    for (const char* path :
         {"/v1/flags", "/v1/stream", "/v1/admin/envs", "/v1/admin/audit"}) {
      HttpReply r = Call("GET", path, token);
      EXPECT_EQ(r.status, 401) << path << " with \"" << token << "\"";
      EXPECT_EQ(r.body, kUnauthenticatedBody);
    }
    for (const Endpoint& e : WriteEndpoints()) {
      HttpReply r = Call(e.method, e.path, token, e.body);
      EXPECT_EQ(r.status, 401) << e.method << " " << e.path;
      EXPECT_EQ(r.body, kUnauthenticatedBody);
    }
  }
  // Other schemes and malformed headers.
  for (const char* header :
       {"Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer",
        "Token test-admin-token-5a1b0c9d8e7f6a5b"}) {
    HttpReply r = Http(server_->port(), "GET", "/v1/admin/envs", "", "",
                       {{"Authorization", header}});
    EXPECT_EQ(r.status, 401) << header;
    EXPECT_EQ(r.body, kUnauthenticatedBody);
  }
}

TEST_F(SecurityTest, TokensNeverAppearInLogsOrDatabase) {
  HttpReply created = Call("POST", "/v1/admin/tokens", kAdminToken,
                           R"({"reason":"x","name":"ops","kind":"admin"})");
  ASSERT_EQ(created.status, 201);
  const std::string secret = created.Json()["token"].GetString();
  ASSERT_EQ(
      Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
           secret, R"({"reason":"logged write"})")
          .status,
      200);
  ASSERT_EQ(Call("GET", "/v1/flags", kSdkKey).status, 200);
  ASSERT_EQ(Call("GET", "/v1/flags", "wrong-token-0123456789abcdef").status,
            401);
  // The database and its write-ahead log, while the server runs and after
  // a kill -9 (a clean shutdown folds the WAL back, hiding what it held).
  const auto expect_no_secret_on_disk = [&](const char* when) {
    bool read_wal = false;
    for (const char* file : {"/data/hotfixd.db", "/data/hotfixd.db-wal"}) {
      const std::string bytes = ReadFile(dir_.path() + file);
      if (std::string(file).find("-wal") != std::string::npos) {
        read_wal = !bytes.empty();
      }
      for (const std::string& token :
           {std::string(kAdminToken), std::string(kSdkKey), secret}) {
        EXPECT_EQ(bytes.find(token), std::string::npos)
            << "token in " << file << " " << when;
      }
    }
    EXPECT_TRUE(read_wal) << "no write-ahead log to check " << when;
  };
  expect_no_secret_on_disk("while running");
  const std::string log = server_->Stderr();
  server_->Kill9();
  expect_no_secret_on_disk("after kill -9");
  ASSERT_NE(log.find("GET /v1/flags 200"), std::string::npos)
      << log;  // logging on
  EXPECT_NE(log.find("flag.kill by ops"), std::string::npos) << log;
  for (const std::string& token :
       {std::string(kAdminToken), std::string(kSdkKey), secret,
        std::string("wrong-token-0123456789abcdef")}) {
    EXPECT_EQ(log.find(token), std::string::npos) << "token in the log";
  }
}

TEST_F(SecurityTest, SecretsLeaveTheEnvironmentAndFilesAreOwnerOnly) {
  // hotfixd removes HOTFIX_ADMIN_TOKEN / HOTFIX_SDK_KEY from its environment
  // once read, so nothing it could start inherits them.
  const std::string environ =
      ReadFile(absl::StrCat("/proc/", server_->pid(), "/environ"));
  EXPECT_EQ(environ.find("HOTFIX_ADMIN_TOKEN"), std::string::npos);
  EXPECT_EQ(environ.find("HOTFIX_SDK_KEY"), std::string::npos);
  EXPECT_EQ(environ.find(kAdminToken), std::string::npos);
  // The data directory and everything in it are the owner's alone.
  struct stat st {};
  ASSERT_EQ(stat((dir_.path() + "/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const char* file : {"hotfixd.db", "hotfixd.db-wal", "hotfixd.lock"}) {
    ASSERT_EQ(stat((dir_.path() + "/data/" + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0077, 0u) << file << " is readable by others";
  }
}

TEST_F(SecurityTest, TokenFilesAreReadAndARevokedConfiguredTokenStaysRevoked) {
  ASSERT_EQ(server_->Terminate(), 0);
  const std::string admin_file = dir_.path() + "/admin.token";
  const std::string sdk_file = dir_.path() + "/sdk.key";
  const std::string admin = "file-admin-token-0123456789abcdef";
  const std::string sdk = "file-sdk-key-0123456789abcdef0123";
  WriteFile(admin_file, admin + "\n");
  WriteFile(sdk_file, sdk + "\n");
  ServerOptions options;
  options.data_dir = dir_.path() + "/data2";
  options.admin_token = "";  // no environment variables this time
  options.sdk_key = "";
  options.args = {"--admin-token-file", admin_file, "--sdk-key-file", sdk_file};
  server_ = ServerProcess::Start(options);
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(Call("GET", "/v1/admin/whoami", admin).status, 200);
  EXPECT_EQ(Call("GET", "/v1/flags", sdk).status, 200);
  // Revoke the configured admin token (with another admin), restart: the
  // file still names it, and it stays revoked.
  HttpReply other = Call("POST", "/v1/admin/tokens", admin,
                         R"({"reason":"x","name":"second","kind":"admin"})");
  ASSERT_EQ(other.status, 201);
  const std::string second = other.Json()["token"].GetString();
  const std::string id = BootstrapAdminId(admin);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(
      Call("DELETE", "/v1/admin/tokens/" + id, second, R"({"reason":"leaked"})")
          .status,
      200);
  // Re-revoking says it is already revoked.
  EXPECT_EQ(
      Call("DELETE", "/v1/admin/tokens/" + id, second, R"({"reason":"again"})")
          .status,
      409);
  ASSERT_EQ(server_->Terminate(), 0);
  server_ = ServerProcess::Start(options);
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(Call("GET", "/v1/admin/whoami", admin).status, 401);
  EXPECT_NE(server_->Stderr().find("has been revoked; it stays revoked"),
            std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/admin/whoami", second).status, 200);
}

TEST_F(SecurityTest, OversizeBodyGets413) {
  ASSERT_EQ(server_->Terminate(), 0);
  Start({"--max-body-bytes", "4096"});
  const std::string big =
      absl::StrCat(R"({"reason":")", std::string(8000, 'x'), R"("})");
  HttpReply r =
      Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
           kAdminToken, big);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("RESOURCE_EXHAUSTED"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("4096"), std::string::npos) << r.body;
  // Also without credentials: the limit applies before anything else.
  EXPECT_EQ(Call("PUT", "/v1/admin/envs/production/flags", "", big).status,
            413);
  EXPECT_EQ(Call("GET", "/v1/flags", kSdkKey).Header("X-Hotfix-Version"), "1");
}

TEST_F(SecurityTest, MalformedJsonGets400NamingTheProblem) {
  HttpReply r = Call("PUT", "/v1/admin/envs/production/flags/f", kAdminToken,
                     R"({"reason": "x", "flag": {"variants": })");
  EXPECT_EQ(r.status, 400);
  const std::string message = r.Json()["error"]["message"].GetString();
  EXPECT_NE(message.find("body: invalid JSON at line 1, column"),
            std::string::npos)
      << message;
  r = Call("POST", "/v1/admin/envs/production/flags/f/kill", kAdminToken,
           R"(["reason"])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("must be a JSON object"), std::string::npos) << r.body;
}

TEST_F(SecurityTest, BadRequestsGet400NamingTheField) {
  struct Case {
    const char* method;
    const char* path;
    const char* body;
    const char* expect;  // substring of the message
  };
  const Case cases[] = {
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
       "{}", "reason: required"},
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
       R"({"reason":"   "})", "reason: required"},
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
       R"({"reason":"x","resaon":"typo"})", "body.resaon: unknown field"},
      {"POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
       R"({"reason":42})", "body.reason: must be a string"},
      {"PUT", "/v1/admin/envs/production/flags/f", R"({"reason":"x"})",
       "body.flag: required"},
      {"POST", "/v1/admin/envs/production/flags/fix-double-charge/rollout",
       R"({"reason":"x","percent":"half"})", "body.percent: must be a number"},
      {"POST", "/v1/admin/envs/production/flags/fix-double-charge/rollout",
       R"({"reason":"x","percent":101})", "percent: must be between 0 and 100"},
      {"POST", "/v1/admin/envs/production/flags/fix-double-charge/rollout",
       R"({"reason":"x","percent":12.3456})",
       "percent: at most three decimals"},
      {"PUT", "/v1/admin/envs/production/flags",
       R"({"reason":"x","document":{"flagz":{}}})",
       "body.document.flags: required"},
  };
  for (const Case& c : cases) {
    HttpReply r = Call(c.method, c.path, kAdminToken, c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_NE(r.body.find("INVALID_ARGUMENT"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(c.expect), std::string::npos)
        << "expected \"" << c.expect << "\" in " << r.body;
  }
  // The reason may also come in a header.
  HttpReply r =
      Http(server_->port(), "POST",
           "/v1/admin/envs/production/flags/kill-recommendations/kill",
           kAdminToken, "", {{"X-Hotfix-Reason", "from a header"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(SecurityTest, InvalidFlagIsRejectedWithCompilerMessageAndNeverServed) {
  SseReader stream(server_->port(), kSdkKey);
  ASSERT_TRUE(stream.WaitForVersion(1, absl::Seconds(10)).has_value());
  const char* bad_flags[] = {
      // unknown operator
      R"({"variants":{"on":true,"off":false},"default":"off",
          "rules":[{"if":[{"attribute":"region","op":"betwen","value":"eu"}],"serve":"on"}]})",
      // a typo'd field must never be ignored in a kill-switch library
      R"({"variants":{"on":true,"off":false},"default":"off","kiled":true})",
      // weights not summing to 100
      R"({"variants":{"on":true,"off":false},"default":{"rollout":{"split":[
          {"variant":"on","weight":10},{"variant":"off","weight":80}]}}})",
  };
  for (const char* flag : bad_flags) {
    HttpReply r =
        Call("PUT", "/v1/admin/envs/production/flags/fix-123", kAdminToken,
             absl::StrCat(R"({"reason":"x","flag":)", flag, "}"));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("flags.fix-123"), std::string::npos) << r.body;
  }
  HttpReply r =
      Call("PUT", "/v1/admin/envs/production/flags/fix-123", kAdminToken,
           absl::StrCat(R"({"reason":"x","flag":)", bad_flags[0], "}"));
  EXPECT_NE(r.body.find("betwen"), std::string::npos) << r.body;
  // Deleting a flag another one depends on is refused the same way.
  HttpReply dep =
      Call("PUT", "/v1/admin/envs/production/flags/needs-recs", kAdminToken,
           R"({"reason":"x","flag":{"variants":{"on":true,"off":false},
                           "off_variant":"off","default":"on",
                           "prerequisites":[{"flag":"kill-recommendations","variant":"on"}]}})");
  ASSERT_EQ(dep.status, 200) << dep.body;
  HttpReply del =
      Call("DELETE", "/v1/admin/envs/production/flags/kill-recommendations",
           kAdminToken, R"({"reason":"x"})");
  EXPECT_EQ(del.status, 400) << del.body;
  EXPECT_NE(del.body.find("cannot delete kill-recommendations: needs-recs "
                          "requires it"),
            std::string::npos)
      << del.body;
  // Clients saw exactly one change (the valid flag), nothing else.
  EXPECT_EQ(Call("GET", "/v1/flags", kSdkKey).Header("X-Hotfix-Version"), "2");
  ASSERT_TRUE(stream.WaitForVersion(2, absl::Seconds(10)).has_value());
  for (const SseEvent& e : stream.Events()) {
    EXPECT_EQ(e.data.find("fix-123"), std::string::npos) << e.data;
  }
}

TEST_F(SecurityTest, SdkKeyIsScopedToItsEnvironment) {
  ASSERT_EQ(Call("POST", "/v1/admin/envs", kAdminToken,
                 R"({"reason":"x","name":"staging","copy_from":"production"})")
                .status,
            201);
  HttpReply created =
      Call("POST", "/v1/admin/tokens", kAdminToken,
           R"({"reason":"x","name":"staging-sdk","env":"staging"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string staging_key = created.Json()["token"].GetString();
  EXPECT_EQ(Call("GET", "/v1/flags", staging_key).Header("ETag"),
            "\"staging-1\"");
  EXPECT_EQ(Call("GET", "/v1/flags?env=staging", staging_key).status, 200);
  EXPECT_EQ(Call("GET", "/v1/flags?env=production", staging_key).status, 403);
  EXPECT_EQ(Call("GET", "/v1/stream?env=production", staging_key).status, 403);
  EXPECT_EQ(Call("GET", "/v1/flags?env=staging", kSdkKey).status, 403);
  // An admin token reads any environment with ?env=.
  EXPECT_EQ(Call("GET", "/v1/flags?env=staging", kAdminToken).Header("ETag"),
            "\"staging-1\"");
  EXPECT_EQ(Call("GET", "/v1/flags?env=nope", kAdminToken).status, 404);
  // An environment-bound admin token cannot touch production.
  HttpReply bound = Call("POST", "/v1/admin/tokens", kAdminToken,
                         R"({"reason":"x","name":"staging-admin",
                             "scopes":"read,write","env":"staging"})");
  ASSERT_EQ(bound.status, 201) << bound.body;
  const std::string staging_admin = bound.Json()["token"].GetString();
  EXPECT_EQ(
      Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
           staging_admin, R"({"reason":"x"})")
          .status,
      403);
  EXPECT_EQ(
      Call("POST", "/v1/admin/envs/staging/flags/kill-recommendations/kill",
           staging_admin, R"({"reason":"x"})")
          .status,
      200);
  // It manages only its own environment's tokens and reads only its audit.
  EXPECT_EQ(Call("GET", "/v1/admin/audit?env=production", staging_admin).status,
            403);
  const rapidjson::Document audit =
      Call("GET", "/v1/admin/audit", staging_admin).Json();
  for (const auto& e : audit["entries"].GetArray()) {
    EXPECT_EQ(std::string(e["env"].GetString()), "staging");
  }
}

TEST_F(SecurityTest, NobodyHandsOutOrTakesAwayScopesTheyDoNotHave) {
  // A token that may manage tokens but not write flags.
  HttpReply created = Call("POST", "/v1/admin/tokens", kAdminToken,
                           R"({"reason":"x","name":"token-desk",
                               "scopes":"read,tokens"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string desk = created.Json()["token"].GetString();
  HttpReply escalate =
      Call("POST", "/v1/admin/tokens", desk,
           R"({"reason":"x","name":"escalate","kind":"admin"})");
  EXPECT_EQ(escalate.status, 403) << escalate.body;
  EXPECT_NE(escalate.body.find("cannot grant scopes this token lacks: write"),
            std::string::npos)
      << escalate.body;
  // It may hand out what it has (read, and sdk through read).
  EXPECT_EQ(Call("POST", "/v1/admin/tokens", desk,
                 R"({"reason":"x","name":"viewer","kind":"reader"})")
                .status,
            201);
  // And may not revoke a full admin.
  const std::string admin_id = BootstrapAdminId(desk);
  ASSERT_FALSE(admin_id.empty());
  HttpReply revoke = Call("DELETE", "/v1/admin/tokens/" + admin_id, desk,
                          R"({"reason":"coup"})");
  EXPECT_EQ(revoke.status, 403) << revoke.body;
  // A read token cannot write anything.
  HttpReply reader = Call("POST", "/v1/admin/tokens", kAdminToken,
                          R"({"reason":"x","name":"auditor","kind":"reader"})");
  const std::string read_only = reader.Json()["token"].GetString();
  for (const Endpoint& e : WriteEndpoints()) {
    EXPECT_EQ(Call(e.method, e.path, read_only, e.body).status, 403)
        << e.method << " " << e.path;
  }
}

TEST_F(SecurityTest, TlsServesHttpsWithTheConfiguredCertificate) {
  const std::string cert = dir_.path() + "/cert.pem";
  const std::string key = dir_.path() + "/key.pem";
  MakeSelfSignedCertificate(cert, key);
  ASSERT_EQ(server_->Terminate(), 0);
  Start({"--tls-cert", cert, "--tls-key", key});
  httplib::SSLClient client("127.0.0.1", server_->port());
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(10, 0);
  httplib::Result r = client.Get(
      "/v1/flags", {{"Authorization", std::string("Bearer ") + kSdkKey}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("ETag"), "\"production-1\"");
  // Plain HTTP on the TLS port gets nothing.
  EXPECT_NE(Http(server_->port(), "GET", "/v1/flags", kSdkKey).status, 200);
  // hotfixctl verifies the server with --ca-cert.
  std::map<std::string, std::string> env = {
      {"HOTFIX_URL", absl::StrCat("https://127.0.0.1:", server_->port())},
      {"HOTFIX_TOKEN", kAdminToken}};
  CtlResult ctl = RunCtl({"envs", "--ca-cert", cert}, env);
  EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
  EXPECT_NE(ctl.out.find("production"), std::string::npos);
  ctl = RunCtl({"envs"}, env);  // unknown CA: refused
  EXPECT_EQ(ctl.exit_code, 6) << ctl.out;
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
