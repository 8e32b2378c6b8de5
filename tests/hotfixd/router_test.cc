// tests/hotfixd/router_test.cc
//
// Route matching (tools/hotfixd/http/router.h) and the route table itself:
// parameters bind one segment of [A-Za-z0-9._-], a path served for other
// methods is a 405 with Allow, and every documented endpoint is in the table
// exactly once; only health, metrics and the console's files need no token.

#include "http/router.h"

#include <set>
#include <string>
#include <utility>

#include "api/routes.h"
#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {
namespace {

TEST(RoutePatternTest, BindsParametersToSegments) {
  RoutePattern p("/v1/admin/envs/{env}/flags/{key}");
  PathParams params;
  ASSERT_TRUE(p.Match("/v1/admin/envs/production/flags/fix-123", &params));
  EXPECT_EQ(params.Get("env"), "production");
  EXPECT_EQ(params.Get("key"), "fix-123");
  EXPECT_EQ(params.Get("missing"), "");
}

TEST(RoutePatternTest, ParametersMatchOnlyKeyCharacters) {
  RoutePattern p("/v1/admin/envs/{env}/flags");
  PathParams params;
  EXPECT_FALSE(p.Match("/v1/admin/envs/a b/flags", &params));
  EXPECT_FALSE(p.Match("/v1/admin/envs//flags", &params));
  EXPECT_FALSE(p.Match("/v1/admin/envs/a/b/flags", &params));
  EXPECT_FALSE(
      p.Match(std::string("/v1/admin/envs/") + std::string(257, 'a') + "/flags",
              &params));
  // ".." is made of key characters: the handler refuses it as a name.
  EXPECT_TRUE(p.Match("/v1/admin/envs/../flags", &params));
}

TEST(RoutePatternTest, LiteralSegmentsMustMatchExactly) {
  RoutePattern p("/v1/flags");
  PathParams params;
  EXPECT_TRUE(p.Match("/v1/flags", &params));
  EXPECT_FALSE(p.Match("/v1/flags/", &params));
  EXPECT_FALSE(p.Match("/v1/flag", &params));
  EXPECT_FALSE(p.Match("v1/flags", &params));
  EXPECT_FALSE(p.Match("/v1/flags/x", &params));
}

TEST(RoutePatternTest, TrailingSlashIsALiteralEmptySegment) {
  // How the console is served: "/ui/" is its page, "/ui/{file}" its files.
  RoutePattern root("/ui/");
  RoutePattern file("/ui/{file}");
  PathParams params;
  EXPECT_TRUE(root.Match("/ui/", &params));
  EXPECT_FALSE(root.Match("/ui", &params));
  EXPECT_FALSE(root.Match("/ui//", &params));
  EXPECT_FALSE(root.Match("/ui/app.mjs", &params));
  EXPECT_FALSE(file.Match("/ui/", &params));  // a parameter is never empty
  EXPECT_FALSE(file.Match("/ui/a/b.mjs", &params));
  EXPECT_FALSE(file.Match("/ui/../v1/flags", &params));
  params.Clear();
  ASSERT_TRUE(file.Match("/ui/app.mjs", &params));
  EXPECT_EQ(params.Get("file"), "app.mjs");
}

TEST(RouterTest, OtherMethodsOfAKnownPathGiveAllow) {
  Router<int> router;
  router.Add(Method::kGet, "/metrics", 1);
  router.Add(Method::kPut, "/v1/admin/envs/{env}/flags", 2);
  router.Add(Method::kGet, "/v1/admin/envs/{env}/flags", 3);
  auto found = router.Find(Method::kPost, "/metrics");
  EXPECT_EQ(found.target, nullptr);
  EXPECT_EQ(found.allow, "GET, HEAD");
  found = router.Find(Method::kDelete, "/v1/admin/envs/x/flags");
  EXPECT_EQ(found.allow, "PUT, GET, HEAD");
  found = router.Find(Method::kGet, "/nowhere");
  EXPECT_EQ(found.target, nullptr);
  EXPECT_EQ(found.allow, "");
  found = router.Find(Method::kHead, "/metrics");
  ASSERT_NE(found.target, nullptr);
  EXPECT_EQ(*found.target, 1);
}

TEST(RouteTableTest, EveryRouteIsUniqueAndItsPatternIsItsLabel) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const RouteSpec& r : ApiRoutes()) {
    EXPECT_TRUE(
        seen.emplace(std::string(MethodName(r.method)), r.pattern).second)
        << MethodName(r.method) << " " << r.pattern << " is listed twice";
    EXPECT_NE(r.handler, nullptr) << r.pattern;
    EXPECT_EQ(r.pattern[0], '/') << r.pattern;
  }
  // Only what never blocks runs on the event loop: reads; the telemetry
  // POST, which adds to counters in memory (the store sees them later); and
  // OFREP's evaluations (memory only, their bodies bounded by
  // --ofrep-max-body-bytes and their rate by --ofrep-rate-limit), which so
  // never queue behind admin writes.
  for (const RouteSpec& r : ApiRoutes()) {
    if (r.execution != Execution::kLoop) continue;
    const std::string pattern = r.pattern;
    if (r.method == Method::kPost) {
      EXPECT_TRUE(pattern == "/v1/telemetry" ||
                  pattern.rfind("/ofrep/", 0) == 0)
          << pattern;
    } else {
      EXPECT_EQ(r.method, Method::kGet) << r.pattern;
    }
  }
}

TEST(RouteTableTest, AdminWritesNeedTheWriteScopeAndSdkReadsTheSdkOne) {
  for (const RouteSpec& r : ApiRoutes()) {
    const std::string pattern = r.pattern;
    if (pattern == "/v1/admin/envs/{env}/requests/{id}/approve") {
      EXPECT_EQ(r.access, Access::kApprove);
    } else if (pattern == "/v1/admin/envs/{env}/requests/{id}/reject") {
      // An approver rejects; a proposer withdraws (checked by the handler).
      EXPECT_EQ(r.access, Access::kReadOrApprove);
    } else if (pattern == "/v1/admin/envs/{env}/diff") {
      EXPECT_EQ(r.access, Access::kRead);  // a read with a document body
    } else if (pattern.rfind("/v1/admin/envs", 0) == 0 &&
               r.method != Method::kGet) {
      EXPECT_EQ(r.access, Access::kWrite) << pattern;
    }
    if (pattern.rfind("/v1/admin/tokens", 0) == 0) {
      EXPECT_EQ(r.access, Access::kTokens) << pattern;
    }
    if (pattern == "/v1/flags" || pattern == "/v1/stream") {
      EXPECT_EQ(r.access, Access::kSdk) << pattern;
    }
  }
}

TEST(RouteTableTest, TheConsoleServesOnlyFilesWithoutAToken) {
  int console_routes = 0;
  for (const RouteSpec& r : ApiRoutes()) {
    const std::string pattern = r.pattern;
    if (pattern == "/ui" || pattern.rfind("/ui/", 0) == 0) {
      ++console_routes;
      EXPECT_EQ(r.method, Method::kGet) << pattern;
      EXPECT_EQ(r.access, Access::kPublic) << pattern;
      EXPECT_EQ(r.execution, Execution::kLoop) << pattern;
    } else if (r.access == Access::kPublic) {
      // Nothing else is public but health and metrics.
      EXPECT_TRUE(pattern == "/healthz" || pattern == "/metrics") << pattern;
    }
  }
  EXPECT_EQ(console_routes, 3);
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
