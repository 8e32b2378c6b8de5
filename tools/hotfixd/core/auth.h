// tools/hotfixd/core/auth.h
//
// Bearer-token authentication. A token is a random secret shown once at
// creation; only its SHA-256 is stored. Each token has a name (the *actor*
// recorded with every write it makes), scopes and optionally one environment:
//
//   sdk     read one environment's flags (GET /v1/flags, /v1/stream); an SDK
//           key is exactly this scope plus an environment
//   read    read the admin API and any permitted environment's flags
//   write   change flag sets (and create environments)
//   tokens  create, list and revoke tokens
//   approve approve or reject change requests to protected environments
//           (never one's own)
//
// Authentication hashes the presented token and compares it against every
// active token's hash with CRYPTO_memcmp, without stopping at a match, so the
// time taken does not depend on the secret. Tokens are never logged.
//
// The active tokens are cached in memory. With replicas, tokens created or
// revoked on another replica arrive through Reload() (core/replication.h):
// at once when the change notification arrives, at the latest after
// --replica-sync-interval.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_AUTH_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_AUTH_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/crypto.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

enum Scope : std::uint32_t {
  kScopeSdk = 1,
  kScopeRead = 2,
  kScopeWrite = 4,
  kScopeTokens = 8,
  kScopeApprove = 16,
};
inline constexpr std::uint32_t kAdminScopes =
    kScopeRead | kScopeWrite | kScopeTokens | kScopeApprove;

// Parses "read,write" into scope bits; InvalidArgument naming the bad scope.
absl::StatusOr<std::uint32_t> ParseScopes(std::string_view text,
                                          std::string_view field);
// "read,write,tokens" (canonical order).
std::string ScopesToString(std::uint32_t scopes);

// Who is calling.
struct Principal {
  std::string token_id;
  std::string name;  // the actor recorded in history and audit
  std::uint32_t scopes = 0;
  std::string env;  // empty: every environment

  bool Has(std::uint32_t scope) const { return (scopes & scope) == scope; }
  bool CanUseEnv(std::string_view e) const { return env.empty() || env == e; }
};

struct CreatedToken {
  TokenRow row;
  std::string secret;  // shown once; never stored
};

class Authenticator {
 public:
  explicit Authenticator(Store* store) : store_(store), id_(NextId()) {}

  // Load()
  //
  // (Re)reads the active tokens from the store.
  absl::Status Load() { return Reload().status(); }

  // Reload()
  //
  // Load(), returning the ids of tokens that were active and no longer are
  // (revoked by another replica: their streams must close).
  //
  // Cost: one query over the tokens table.
  absl::StatusOr<std::vector<std::string>> Reload();

  // Authenticate()
  //
  // `authorization` is the Authorization header value ("Bearer <token>").
  // Returns the token's principal, or nullopt for a missing, malformed,
  // unknown or revoked token (callers answer 401 without saying which).
  //
  // Cost: when this thread's previous call had the same token and no token
  // changed since, one constant-time compare of the token; otherwise one
  // SHA-256 of the token plus one 32-byte constant-time compare per active
  // token, under a shared lock.
  std::optional<Principal> Authenticate(std::string_view authorization) const;

  // The principal of active (not revoked) token `token_id`, if any.
  std::optional<Principal> FindActive(const std::string& token_id) const;

  // CreateToken()
  //
  // Generates a secret ("hfa_..." with write or tokens scope, else "hfs_..."),
  // stores its hash with an audit entry, and returns it.
  absl::StatusOr<CreatedToken> CreateToken(const std::string& name,
                                           std::uint32_t scopes,
                                           const std::string& env,
                                           const Principal& actor,
                                           const std::string& reason);

  // RevokeToken()
  //
  // Revokes token `id` (effective for the next request) with an audit entry.
  absl::Status RevokeToken(const std::string& id, const Principal& actor,
                           const std::string& reason);

  // EnsureToken()
  //
  // Start-up: makes `secret` a valid token named `name` unless a token with
  // that secret already exists (a revoked one stays revoked: *revoked is set).
  // Returns true if it inserted one.
  absl::StatusOr<bool> EnsureToken(const std::string& secret,
                                   const std::string& name,
                                   std::uint32_t scopes, const std::string& env,
                                   bool* revoked);

 private:
  struct Entry {
    Sha256Digest hash;
    Principal principal;
  };

  static std::uint64_t NextId();

  Store* const store_;
  // Unique per instance (per-thread caches name the instance they hold for).
  const std::uint64_t id_;
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Bumped by every Load() (every change): invalidates per-thread caches.
  std::atomic<std::uint64_t> generation_{1};
};

// Returns InvalidArgument unless `secret` is 16-512 printable ASCII
// characters without spaces (what hotfixd accepts as a bootstrap token).
absl::Status CheckSecretShape(std::string_view secret, std::string_view what);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_AUTH_H_
