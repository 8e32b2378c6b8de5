// tests/hotfixd/auth_test.cc
//
// Tokens (tools/hotfixd/core/auth.h): scope parsing names the bad scope,
// printing is canonical, bootstrap secrets must have a sane shape, and a
// revoked token fails at once even after it was cached.

#include "core/auth.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include <string>

#include "gtest/gtest.h"
#include "store/sqlite_store.h"

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

// The per-thread cache of the last token must never outlive a revocation
// or answer for another Authenticator.
TEST(AuthenticatorTest, RevokedTokenFailsAtOnceEvenAfterBeingCached) {
  char dir[] = "/tmp/hotfixd-auth-test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string db = std::string(dir) + "/hotfixd.db";
  auto store = SqliteStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status();
  Authenticator auth(store->get());
  ASSERT_TRUE(auth.Load().ok());
  Principal admin;
  admin.name = "test";
  admin.scopes = kAdminScopes;
  auto created = auth.CreateToken("svc", kScopeRead, "", admin, "test");
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string header = "Bearer " + created->secret;
  ASSERT_TRUE(auth.Authenticate(header).has_value());
  ASSERT_TRUE(auth.Authenticate(header).has_value());  // now cached
  // Another Authenticator on the same store does not answer from the cache
  // of the first (it has not loaded the token yet).
  {
    Authenticator other(store->get());
    EXPECT_FALSE(other.Authenticate(header).has_value());
  }
  ASSERT_TRUE(auth.RevokeToken(created->row.id, admin, "test").ok());
  EXPECT_FALSE(auth.Authenticate(header).has_value());
  // A token of the same length that differs is never taken for the cached
  // one.
  std::string near = created->secret;
  near.back() = near.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(auth.Authenticate("Bearer " + near).has_value());
  store->reset();
  std::remove(db.c_str());
  std::remove((db + "-wal").c_str());
  std::remove((db + "-shm").c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace hotfixd

}  // namespace hotfix
