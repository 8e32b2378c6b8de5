// tests/integration/hostile_test.cc
//
// What hostile clients did to hotfixd, replayed against a real server on
// loopback (small limits so that each attack is quick): without a token —
// oversize bodies declared or chunked, header floods, slow headers and slow
// bodies, connection floods from one address, a stream reader that stops
// reading — and with one — a body nested 140,000 levels deep, escalation
// through the tokens scope, forged If-Match values, form-encoded JSON,
// out-of-range paging, duplicate Authorization headers, control bytes in
// headers, "." and ".." as names, a revoked key's open stream, one key taking
// every stream, reasons measured in bytes. Each is answered as specified,
// the server keeps serving /healthz and admin writes meanwhile, and its
// memory returns near where it was.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr std::size_t kMaxBody = 64 << 10;
constexpr absl::Duration kWait = absl::Seconds(10);
// Liveness bound for /healthz and an admin write during and after an
// attack. The target is 100 ms (docs/benchmarks.md has the measured
// figures); a sanitizer build on a loaded CI machine is given more, and the
// assertion is about not being starved, not about speed.
constexpr absl::Duration kLive = absl::Seconds(2);

// A raw request head; the connection closes after the answer.
std::string Request(const std::string& method, const std::string& path,
                    const std::string& extra_headers = "") {
  return absl::StrCat(method, " ", path,
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                      extra_headers, "\r\n");
}

class HostileTest : public ServerTest {
 protected:
  void SetUp() override { Start(kMaxBody); }

  void Start(std::size_t max_body) {
    ServerTest::Start({"--max-body-bytes",
                       absl::StrCat(max_body),
                       "--max-header-bytes",
                       "8192",
                       "--max-header-count",
                       "50",
                       "--header-timeout",
                       "1s",
                       "--request-timeout",
                       "2s",
                       "--keep-alive-timeout",
                       "2s",
                       "--io-timeout",
                       "2s",
                       "--max-connections-per-address",
                       "64",
                       "--max-stream-backlog",
                       "65536",
                       "--max-streams-per-key",
                       "3"});
    if (server_ == nullptr) return;
    baseline_rss_ = RssKiB(server_->pid());
  }

  // /healthz and an admin write (kill, then revive) still answer, each
  // within kLive; prints how long they took.
  void ExpectStillServing(const std::string& during) {
    absl::Time start = absl::Now();
    HttpReply health = Call("GET", "/healthz", "", "");
    const absl::Duration health_took = absl::Now() - start;
    EXPECT_EQ(health.status, 200) << during;
    start = absl::Now();
    HttpReply write = Call(
        "POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
        R"({"reason":"still writable"})");
    const absl::Duration write_took = absl::Now() - start;
    EXPECT_EQ(write.status, 200) << during << ": " << write.body;
    Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/revive",
         R"({"reason":"and back"})");
    EXPECT_LT(health_took, kLive) << during;
    EXPECT_LT(write_took, kLive) << during;
    std::printf("%s: /healthz %.1f ms, admin write %.1f ms\n", during.c_str(),
                absl::ToDoubleMilliseconds(health_took),
                absl::ToDoubleMilliseconds(write_took));
  }

  // Memory is back within `slack_kib` of where it started, waiting (bounded)
  // for the server to let go of what the attack made it hold.
  void ExpectMemoryBack(std::int64_t slack_kib = 32 << 10) {
    std::int64_t rss = 0;
    WaitUntil(
        [&] {
          rss = RssKiB(server_->pid());
          return rss <= baseline_rss_ + slack_kib;
        },
        kWait);
    EXPECT_LE(rss, baseline_rss_ + slack_kib)
        << "RSS " << rss << " KiB, baseline " << baseline_rss_ << " KiB";
  }

  std::int64_t baseline_rss_ = 0;
};

// ------------------------------------------------------- without a token

TEST_F(HostileTest, ChunkedBodyOverTheLimitGets413BeforeAuthentication) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Request("POST", "/v1/admin/tokens",
                             "Transfer-Encoding: chunked\r\n"
                             "Content-Type: application/json\r\n")));
  const std::string chunk =
      absl::StrCat("2000\r\n", std::string(8192, ' '), "\r\n");
  std::size_t sent = 0;
  while (sent < (std::size_t{200} << 20) && c.Send(chunk)) sent += 8192;
  // The server answered and closed long before 200 MB: it never buffered
  // the body, and never looked at a token.
  EXPECT_LT(sent, std::size_t{32} << 20);
  const std::string response = c.ReadAll(kWait);
  EXPECT_EQ(StatusOf(response), 413) << response;
  EXPECT_NE(response.find("request body exceeds 65536 bytes"),
            std::string::npos);
  ExpectStillServing("after a chunked flood");
  ExpectMemoryBack();
}

TEST_F(HostileTest, DeclaredOversizeBodyIsRefusedBeforeAnyOfItIsRead) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send(
      Request("POST", "/v1/admin/tokens", "Content-Length: 100000000000\r\n")));
  const std::string response = c.ReadHead(kWait);
  EXPECT_EQ(StatusOf(response), 413) << response;
  EXPECT_TRUE(c.WaitClosed(kWait));
}

TEST_F(HostileTest, HeaderFloodGets431) {
  RawClient c(server_->port());
  std::string flood = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100000; ++i) flood += "X-A: b\r\n";
  std::size_t sent = 0;
  for (std::size_t at = 0; at < flood.size(); at += 65536) {
    if (!c.Send(std::string_view(flood).substr(at, 65536))) break;
    sent = at;
  }
  const std::string response = c.ReadAll(kWait);
  EXPECT_EQ(StatusOf(response), 431) << response;
  ExpectStillServing("after a header flood");
  ExpectMemoryBack();
}

TEST_F(HostileTest, TooManyHeaderFieldsGet431) {
  RawClient c(server_->port());
  std::string headers;
  for (int i = 0; i < 60; ++i) absl::StrAppend(&headers, "X-", i, ": v\r\n");
  ASSERT_TRUE(c.Send(Request("GET", "/healthz", headers)));
  const std::string response = c.ReadAll(kWait);
  EXPECT_EQ(StatusOf(response), 431) << response;
  EXPECT_NE(response.find("more than 50 header fields"), std::string::npos);
}

// A client trickling bytes keeps sending until the server hangs up; returns
// true if that happened within `bound`.
bool TrickleUntilCut(RawClient& c, absl::Duration bound) {
  const absl::Time deadline = absl::Now() + bound;
  while (absl::Now() < deadline) {
    if (!c.Send("x")) return true;
    if (c.WaitClosed(absl::Milliseconds(100))) return true;
  }
  return false;
}

TEST_F(HostileTest, SlowHeadersAreCutAtTheHeaderDeadline) {
  // --header-timeout 1s: the whole header block, not each byte.
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nX-Slow: "));
  EXPECT_TRUE(TrickleUntilCut(c, kWait));
  ExpectStillServing("after slow headers");
}

TEST_F(HostileTest, SlowBodyIsCutAtTheRequestDeadline) {
  // --request-timeout 2s from the request's first byte.
  RawClient c(server_->port());
  ASSERT_TRUE(
      c.Send(Request("POST", "/v1/admin/tokens", "Content-Length: 60000\r\n")));
  EXPECT_TRUE(TrickleUntilCut(c, kWait));
}

TEST_F(HostileTest, ManySlowClientsDoNotStarveOthers) {
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(std::make_unique<RawClient>(server_->port()));
    slow.back()->Send("GET /healthz HTTP/1.1\r\nX-Slow: ");
  }
  ExpectStillServing("while 50 slowloris connections are open");
}

TEST_F(HostileTest, ConnectionsFromOneAddressAreCapped) {
  // --max-connections-per-address 64: the next ones are refused at once.
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 64; ++i) {
    held.push_back(std::make_unique<RawClient>(server_->port()));
    ASSERT_TRUE(held.back()->connected());
  }
  // Wait until the server has accepted all of them.
  RawClient extra(server_->port());
  ASSERT_TRUE(extra.connected());
  const std::string refused = extra.ReadAll(kWait);
  EXPECT_EQ(StatusOf(refused), 503) << refused;
  EXPECT_NE(refused.find("Retry-After"), std::string::npos);
  held.clear();
  // Once they are gone the address is welcome again.
  EXPECT_TRUE(WaitUntil(
      [&] { return Call("GET", "/healthz", "", "").status == 200; }, kWait));
}

TEST_F(HostileTest, StalledStreamReaderIsDisconnected) {
  RawClient c(server_->port());
  ASSERT_TRUE(
      c.Send(Request("GET", "/v1/stream",
                     absl::StrCat("Authorization: Bearer ", kSdkKey, "\r\n"))));
  EXPECT_EQ(StatusOf(c.ReadHead(kWait)), 200);
  // Big changes while the client reads nothing: its backlog (64 KiB here,
  // besides a kernel buffer of a quarter of it) fills, and the server
  // drops the stream rather than buffer without end.
  const std::string description(40000, 'd');
  for (int i = 0; i < 40; ++i) {
    HttpReply r =
        Call("PUT", absl::StrCat("/v1/admin/envs/production/flags/big-", i),
             absl::StrCat(R"({"reason":"fill","flag":{"variants":{"on":true},)",
                          R"("default":"on","description":")", description,
                          R"("}})"));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_TRUE(WaitUntil(
      [&] {
        HttpReply h = Call("GET", "/healthz", "", "");
        return h.status == 200 && h.Json()["streams"].GetInt() == 0;
      },
      kWait))
      << "the stalled stream is still open";
  EXPECT_TRUE(c.WaitClosed(kWait));
  ExpectStillServing("after dropping a stalled stream");
}

// --------------------------------------------------------- with a token

TEST_F(HostileTest, DeeplyNestedBodyGets400) {
  // The original attack: 280 KB, well under the default body limit, nested
  // 140,000 levels (a recursive parser overflows its stack).
  Start(std::size_t{16} << 20);
  const int depth = 140000;
  const std::string body =
      absl::StrCat(R"({"reason":"x","document":)", std::string(depth, '['),
                   std::string(depth, ']'), "}");
  HttpReply r = Call("PUT", "/v1/admin/envs/production/flags", body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("nested deeper than 128 levels"), std::string::npos)
      << r.body;
  ExpectStillServing("after a deeply nested body");
}

TEST_F(HostileTest, ATokenGrantsAndRevokesOnlyWhatItHolds) {
  HttpReply created =
      Call("POST", "/v1/admin/tokens",
           R"({"reason":"x","name":"token-admin","scopes":"tokens"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string tokens_only = created.Json()["token"].GetString();
  // The bootstrap admin holds read, write and tokens.
  HttpReply list = Call("GET", "/v1/admin/tokens");
  std::string admin_id;
  std::string sdk_id;
  const rapidjson::Document tokens = list.Json();  // outlives the loop
  for (const auto& t : tokens["tokens"].GetArray()) {
    const std::string name = t["name"].GetString();
    if (name == "bootstrap-admin") admin_id = t["id"].GetString();
    if (name == "sdk-production") sdk_id = t["id"].GetString();
  }
  ASSERT_FALSE(admin_id.empty());
  ASSERT_FALSE(sdk_id.empty());
  HttpReply revoke = Call("DELETE", "/v1/admin/tokens/" + admin_id,
                          R"({"reason":"take over"})", tokens_only);
  EXPECT_EQ(revoke.status, 403) << revoke.body;
  EXPECT_NE(revoke.body.find("holds scopes this token lacks: read,write"),
            std::string::npos)
      << revoke.body;
  HttpReply grant =
      Call("POST", "/v1/admin/tokens",
           R"({"reason":"x","name":"evil","kind":"admin"})", tokens_only);
  EXPECT_EQ(grant.status, 403) << grant.body;
  // Nor an SDK key (the sdk scope comes with read).
  EXPECT_EQ(Call("DELETE", "/v1/admin/tokens/" + sdk_id, R"({"reason":"x"})",
                 tokens_only)
                .status,
            403);
  // The admin still works.
  EXPECT_EQ(Call("GET", "/v1/admin/whoami").status, 200);
}

TEST_F(HostileTest, IfMatchAcceptsOnlyTheDocumentedForms) {
  const std::string path =
      "/v1/admin/envs/production/flags/kill-recommendations/kill";
  for (const char* bad : {"\"staging-1\"", "garbage-1", "W/\"production-x\"",
                          "\"production-1-1\"", "1.0", "-1"}) {
    HttpReply r = Call("POST", path, R"({"reason":"x"})", kAdminToken,
                       {{"If-Match", bad}});
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  // Every accepted form, each against the then-current version.
  for (const char* form :
       {"%", "\"%\"", "\"production-%\"", "W/\"production-%\""}) {
    HttpReply current = Call("GET", "/v1/admin/envs/production/flags");
    std::string value = form;
    value.replace(value.find('%'), 1, current.Header("X-Hotfix-Version"));
    HttpReply r = Call("POST", path, R"({"reason":"x"})", kAdminToken,
                       {{"If-Match", value}});
    EXPECT_EQ(r.status, 200) << value << ": " << r.body;
    Call("POST", "/v1/admin/envs/production/flags/kill-recommendations/revive",
         R"({"reason":"x"})");
  }
}

TEST_F(HostileTest, JsonIsReadWhateverTheContentTypeSays) {
  // curl's default for -d is the form content type; a large body must not
  // meet a false size error.
  const std::string description(20000, 'x');
  const std::string body = absl::StrCat(
      R"({"reason":"form","flag":{"variants":{"on":true},"default":"on","description":")",
      description, R"("}})");
  HttpReply r =
      Call("PUT", "/v1/admin/envs/production/flags/formed", body, kAdminToken,
           {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(HostileTest, PagingBoundsPastSigned64BitsListEverything) {
  HttpReply history = Call(
      "GET", "/v1/admin/envs/production/history?before=18446744073709551615");
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_GT(history.Json()["versions"].Size(), 0u);
  HttpReply audit = Call("GET", "/v1/admin/audit?before=9223372036854775808");
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_GT(audit.Json()["entries"].Size(), 0u);
}

TEST_F(HostileTest, DuplicateAuthorizationHeadersAreRefused) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send(Request(
      "GET", "/v1/admin/whoami",
      absl::StrCat("Authorization: Bearer ", kAdminToken,
                   "\r\nAuthorization: Bearer someone-else-entirely\r\n"))));
  const std::string response = c.ReadAll(kWait);
  EXPECT_EQ(StatusOf(response), 400) << response;
  EXPECT_NE(response.find("more than one Authorization header"),
            std::string::npos);
}

TEST_F(HostileTest, ControlBytesInAHeaderValueAreRefused) {
  for (const std::string value :
       {std::string("a\0b", 3), std::string("a\x01")}) {
    RawClient c(server_->port());
    ASSERT_TRUE(c.Send(Request(
        "POST", "/v1/admin/envs/production/flags/kill-recommendations/kill",
        absl::StrCat("Authorization: Bearer ", kAdminToken,
                     "\r\nX-Hotfix-Reason: ", value, "\r\n"))));
    const std::string response = c.ReadAll(kWait);
    EXPECT_EQ(StatusOf(response), 400) << response;
  }
  EXPECT_FALSE(Call("GET", "/v1/admin/envs/production/flags").body.empty());
}

TEST_F(HostileTest, DotSegmentsAreNeverNames) {
  for (const char* path : {"/v1/admin/envs/../flags", "/v1/admin/envs/./flags",
                           "/v1/admin/envs/production/flags/..",
                           "/v1/admin/envs/production/flags/./kill"}) {
    RawClient c(server_->port());
    ASSERT_TRUE(c.Send(
        Request("GET", path,
                absl::StrCat("Authorization: Bearer ", kAdminToken, "\r\n"))));
    const std::string response = c.ReadAll(kWait);
    const int status = StatusOf(response);
    EXPECT_TRUE(status == 400 || status == 405) << path << ": " << response;
  }
  HttpReply create =
      Call("PUT", "/v1/admin/envs/production/flags/..",
           R"({"reason":"x","flag":{"variants":{"on":true},"default":"on"}})");
  EXPECT_EQ(create.status, 400) << create.body;
  HttpReply env =
      Call("POST", "/v1/admin/envs", R"({"reason":"x","name":".."})");
  EXPECT_EQ(env.status, 400) << env.body;
}

TEST_F(HostileTest, RevokedKeyLosesItsOpenStream) {
  HttpReply created =
      Call("POST", "/v1/admin/tokens",
           R"({"reason":"x","name":"svc","kind":"sdk","env":"production"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = created.Json()["token"].GetString();
  const std::string id = created.Json()["id"].GetString();
  SseReader reader(server_->port(), key);
  ASSERT_TRUE(reader.WaitForVersion(1, kWait).has_value());
  ASSERT_EQ(
      Call("DELETE", "/v1/admin/tokens/" + id, R"({"reason":"leaked"})").status,
      200);
  EXPECT_TRUE(reader.WaitForEnd(kWait));
}

TEST_F(HostileTest, OneKeyCannotTakeEveryStream) {
  // --max-streams-per-key 3.
  std::vector<std::unique_ptr<SseReader>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(std::make_unique<SseReader>(server_->port(), kSdkKey));
    ASSERT_TRUE(readers.back()->WaitForVersion(1, kWait).has_value());
  }
  HttpReply fourth = Call("GET", "/v1/stream", "", kSdkKey);
  EXPECT_EQ(fourth.status, 503) << fourth.body;
  EXPECT_NE(fourth.body.find("--max-streams-per-key"), std::string::npos);
  HttpReply other =
      Call("POST", "/v1/admin/tokens",
           R"({"reason":"x","name":"svc2","kind":"sdk","env":"production"})");
  SseReader another(server_->port(), other.Json()["token"].GetString());
  EXPECT_TRUE(another.WaitForVersion(1, kWait).has_value());
}

TEST_F(HostileTest, ReasonsAreMeasuredInCharacters) {
  std::string accented;
  for (int i = 0; i < 1024; ++i) accented += "\xC3\xA9";  // é: 2 bytes
  const std::string path =
      "/v1/admin/envs/production/flags/kill-recommendations/kill";
  HttpReply ok =
      Call("POST", path, absl::StrCat(R"({"reason":")", accented, R"("})"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  HttpReply too_long =
      Call("POST", path, absl::StrCat(R"({"reason":")", accented, R"(e"})"));
  EXPECT_EQ(too_long.status, 400) << too_long.body;
  EXPECT_NE(too_long.body.find("at most 1024 characters, got 1025"),
            std::string::npos);
}

TEST_F(HostileTest, WrongMethodGets405WithAllow) {
  HttpReply r = Call("POST", "/metrics", "", "");
  EXPECT_EQ(r.status, 405) << r.body;
  EXPECT_EQ(r.Header("Allow"), "GET, HEAD");
  HttpReply missing = Call("GET", "/v1/nowhere", "", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no such path: /v1/nowhere"), std::string::npos);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
