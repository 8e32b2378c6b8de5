// tests/integration/console_test.cc
//
// The operator console as hotfixd serves it (docs/console.md): its files
// need no token and are the same for everyone; every answer carries the
// security headers (a CSP without inline script or style and with Trusted
// Types, no framing, no sniffing, no referrer); files are revalidated by
// ETag (304) and sent gzip-compressed to browsers that accept it; anything
// else under /ui/ is a 404 that carries the headers too. What the console
// does in a browser is tested by tests/ui/ (./scripts/dev test ui).

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'";

class ConsoleTest : public ServerTest {
 protected:
  void SetUp() override { Start(); }

  HttpReply Get(const std::string& path, const httplib::Headers& headers = {},
                const std::string& token = "") {
    return Http(server_->port(), "GET", path, token, "", headers);
  }

  static void ExpectSecurityHeaders(const HttpReply& r) {
    EXPECT_EQ(r.Header("Content-Security-Policy"), kPolicy);
    EXPECT_EQ(r.Header("X-Frame-Options"), "DENY");
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r.Header("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(r.Header("Cross-Origin-Opener-Policy"), "same-origin");
  }
};

TEST_F(ConsoleTest, ThePageNeedsNoTokenAndCarriesTheSecurityHeaders) {
  HttpReply page = Get("/ui/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.Header("Cache-Control"), "no-cache");
  ExpectSecurityHeaders(page);
  EXPECT_NE(page.body.find("<script type=\"module\" src=\"app.mjs\">"),
            std::string::npos);
  // The same bytes with a token, a wrong token, or by name.
  EXPECT_EQ(Get("/ui/", {}, kAdminToken).body, page.body);
  EXPECT_EQ(Get("/ui/", {}, "not-a-token").body, page.body);
  EXPECT_EQ(Get("/ui/index.html").body, page.body);
}

TEST_F(ConsoleTest, SlashlessPathRedirects) {
  HttpReply r = Get("/ui");
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(r.Header("Location"), "/ui/");
  ExpectSecurityHeaders(r);
}

TEST_F(ConsoleTest, FilesHaveTheirTypesAndRevalidateByEtag) {
  HttpReply js = Get("/ui/app.mjs");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  ExpectSecurityHeaders(js);
  const std::string etag = js.Header("ETag");
  ASSERT_EQ(etag.size(), 18u) << etag;  // "<16 hex digits>"
  HttpReply again = Get("/ui/app.mjs", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.Header("ETag"), etag);
  ExpectSecurityHeaders(again);
  EXPECT_EQ(Get("/ui/app.mjs", {{"If-None-Match", "\"0000\""}}).status, 200);

  HttpReply css = Get("/ui/console.css");
  EXPECT_EQ(css.Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_NE(css.Header("ETag"), etag);
  EXPECT_EQ(Get("/ui/favicon.svg").Header("Content-Type"), "image/svg+xml");
}

TEST_F(ConsoleTest, LargeFilesAreGzippedForBrowsersThatAcceptIt) {
  HttpReply plain = Get("/ui/console.css");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("Content-Encoding"), "");
  EXPECT_EQ(plain.Header("Vary"), "Accept-Encoding");
  // cpp-httplib decompresses transparently: the same text arrives.
  HttpReply gz = Get("/ui/console.css", {{"Accept-Encoding", "gzip, br"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(gz.body, plain.body);
  EXPECT_EQ(gz.Header("ETag"), plain.Header("ETag"));
}

TEST_F(ConsoleTest, HeadAnswersWithoutABody) {
  RawClient raw(server_->port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(
      raw.Send("HEAD /ui/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string response = raw.ReadAll(absl::Seconds(10));
  EXPECT_EQ(StatusOf(response), 200) << response;
  EXPECT_TRUE(absl::StrContains(response, "Content-Security-Policy: "));
  EXPECT_TRUE(absl::EndsWith(response, "\r\n\r\n")) << response;
}

TEST_F(ConsoleTest, UnknownFilesAndOtherMethodsAreRefused) {
  for (const char* path : {"/ui/nope.mjs", "/ui/index.html.bak"}) {
    HttpReply r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    ExpectSecurityHeaders(r);
  }
  // Sent as they are (an HTTP library might tidy them): files are names in
  // a table, never paths on a disk.
  for (const char* path : {"/ui/..", "/ui/%2e%2e", "/ui/a/b.mjs", "/ui//",
                           "/ui/../v1/admin/envs"}) {
    RawClient raw(server_->port());
    ASSERT_TRUE(raw.Send(absl::StrCat("GET ", path,
                                      " HTTP/1.1\r\nHost: x\r\n"
                                      "Connection: close\r\n\r\n")));
    EXPECT_EQ(StatusOf(raw.ReadAll(absl::Seconds(10))), 404) << path;
  }
  HttpReply post = Call("POST", "/ui/", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
