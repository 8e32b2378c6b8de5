// tests/hotfixd/auth_test.cc
//
// Token scopes (tools/hotfixd/core/auth.h): parsing names the bad scope,
// printing is canonical, and bootstrap secrets must have a sane shape.

#include "core/auth.h"

#include <string>

#include "gtest/gtest.h"

namespace hotfix {
namespace hotfixd {
namespace {

TEST(ScopesTest, ParseAndPrintRoundTrip) {
  auto scopes = ParseScopes("tokens, read,write,approve", "body.scopes");
  ASSERT_TRUE(scopes.ok());
  EXPECT_EQ(*scopes, kAdminScopes);
  EXPECT_EQ(ScopesToString(*scopes), "read,write,tokens,approve");
  EXPECT_EQ(ScopesToString(kScopeSdk), "sdk");
}

TEST(ScopesTest, UnknownOrEmptyScopesNameTheField) {
  auto bad = ParseScopes("read,admin", "body.scopes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()),
            "body.scopes: unknown scope \"admin\" (expected sdk, read, write, "
            "tokens or approve)");
  EXPECT_FALSE(ParseScopes(" , ", "body.scopes").ok());
}

TEST(PrincipalTest, EnvironmentBindingAndScopeChecks) {
  Principal p;
  p.scopes = kScopeRead | kScopeWrite;
  p.env = "staging";
  EXPECT_TRUE(p.Has(kScopeRead));
  EXPECT_TRUE(p.Has(kScopeRead | kScopeWrite));
  EXPECT_FALSE(p.Has(kScopeTokens));
  EXPECT_TRUE(p.CanUseEnv("staging"));
  EXPECT_FALSE(p.CanUseEnv("production"));
  p.env.clear();
  EXPECT_TRUE(p.CanUseEnv("production"));
}

TEST(SecretShapeTest, LengthAndCharacters) {
  EXPECT_TRUE(CheckSecretShape("abcdefghijklmnop", "x").ok());
  EXPECT_FALSE(CheckSecretShape("short", "x").ok());
  EXPECT_FALSE(CheckSecretShape("abcdefgh ijklmnop", "x").ok());
  EXPECT_FALSE(CheckSecretShape(std::string(513, 'a'), "x").ok());
}

}  // namespace
}  // namespace hotfixd
}  // namespace hotfix
