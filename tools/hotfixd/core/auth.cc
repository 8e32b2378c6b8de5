// tools/hotfixd/core/auth.cc

#include "core/auth.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/json_util.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr std::size_t kMaxTokenBytes = 512;

struct ScopeName {
  std::uint32_t bit;
  const char* name;
};
constexpr ScopeName kScopeNames[] = {
    {kScopeSdk, "sdk"},         {kScopeRead, "read"},
    {kScopeWrite, "write"},     {kScopeTokens, "tokens"},
    {kScopeApprove, "approve"},
};

std::string TokenDetail(const TokenRow& t) {
  tools::JsonOut out;
  out.Begin()
      .Str("token_id", t.id)
      .Str("name", t.name)
      .Str("scopes", t.scopes)
      .Str("env", t.env)
      .End();
  return out.Take();
}

}  // namespace

absl::StatusOr<std::uint32_t> ParseScopes(std::string_view text,
                                          std::string_view field) {
  std::uint32_t scopes = 0;
  for (absl::string_view part :
       absl::StrSplit(internal::ToAbsl(text), ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    bool found = false;
    for (const ScopeName& s : kScopeNames) {
      if (part == s.name) {
        scopes |= s.bit;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat(internal::ToAbsl(field), ": unknown scope \"", part,
                       "\" (expected sdk, read, write, tokens or approve)"));
    }
  }
  if (scopes == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::ToAbsl(field), ": no scopes"));
  }
  return scopes;
}

std::string ScopesToString(std::uint32_t scopes) {
  std::vector<std::string> names;
  for (const ScopeName& s : kScopeNames) {
    if (scopes & s.bit) names.push_back(s.name);
  }
  return absl::StrJoin(names, ",");
}

absl::Status CheckSecretShape(std::string_view secret, std::string_view what) {
  const absl::string_view w = internal::ToAbsl(what);
  if (secret.size() < 16 || secret.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(w, ": a token must be 16 to 512 characters long"));
  }
  for (char c : secret) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          absl::StrCat(w, ": a token must be printable ASCII without spaces"));
    }
  }
  return absl::OkStatus();
}

std::uint64_t Authenticator::NextId() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

absl::StatusOr<std::vector<std::string>> Authenticator::Reload() {
  auto rows = store_->ListTokens();
  if (!rows.ok()) return rows.status();
  std::vector<Entry> entries;
  for (const TokenRow& row : *rows) {
    if (row.revoked_at != 0) continue;
    Entry e;
    if (!ParseSha256Hex(row.hash, &e.hash)) {
      return absl::DataLossError(
          absl::StrCat("token \"", row.id, "\": malformed stored hash"));
    }
    auto scopes = ParseScopes(row.scopes, "tokens.scopes");
    if (!scopes.ok()) return scopes.status();
    e.principal.token_id = row.id;
    e.principal.name = row.name;
    e.principal.scopes = *scopes;
    e.principal.env = row.env;
    entries.push_back(std::move(e));
  }
  absl::MutexLock lock(&mu_);
  std::vector<std::string> gone;
  for (const Entry& old : entries_) {
    bool kept = false;
    for (const Entry& e : entries)
      kept = kept || e.principal.token_id == old.principal.token_id;
    if (!kept) gone.push_back(old.principal.token_id);
  }
  entries_ = std::move(entries);
  generation_.fetch_add(1, std::memory_order_release);
  return gone;
}

namespace {

// The last token this thread authenticated (an SDK polling on a keep-alive
// connection sends the same one every time), valid while the token set's
// generation is unchanged.
struct LastToken {
  std::uint64_t owner = 0;  // the Authenticator's id
  std::uint64_t generation = 0;
  std::string token;
  Principal principal;
};

bool SameToken(const std::string& cached, std::string_view token) {
  return cached.size() == token.size() &&
         CRYPTO_memcmp(cached.data(), token.data(), token.size()) == 0;
}

}  // namespace

std::optional<Principal> Authenticator::Authenticate(
    std::string_view authorization) const {
  // RFC 6750: "Bearer" is case-insensitive, one or more spaces.
  if (authorization.size() < 7) return std::nullopt;
  const absl::string_view scheme(authorization.data(), 6);
  if (!absl::EqualsIgnoreCase(scheme, "bearer") || authorization[6] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > kMaxTokenBytes) return std::nullopt;
  thread_local LastToken last;
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  if (last.owner == id_ && last.generation == generation &&
      SameToken(last.token, token)) {
    return last.principal;
  }
  const Sha256Digest digest = Sha256(token);
  absl::ReaderMutexLock lock(&mu_);
  const Entry* match = nullptr;
  for (const Entry& e : entries_) {
    // Every entry is compared; no early exit.
    const bool equal = DigestEquals(e.hash, digest);
    if (equal) match = &e;
  }
  if (match == nullptr) return std::nullopt;
  // Remember it only if no Load() came in between (the generation read
  // before the lookup is still current).
  if (generation_.load(std::memory_order_relaxed) == generation) {
    last.owner = id_;
    last.generation = generation;
    last.token.assign(token.data(), token.size());
    last.principal = match->principal;
  }
  return match->principal;
}

std::optional<Principal> Authenticator::FindActive(
    const std::string& token_id) const {
  absl::ReaderMutexLock lock(&mu_);
  for (const Entry& e : entries_) {
    if (e.principal.token_id == token_id) return e.principal;
  }
  return std::nullopt;
}

absl::StatusOr<CreatedToken> Authenticator::CreateToken(
    const std::string& name, std::uint32_t scopes, const std::string& env,
    const Principal& actor, const std::string& reason) {
  CreatedToken created;
  const bool admin = (scopes & (kScopeWrite | kScopeTokens)) != 0;
  created.secret = RandomToken(admin ? "hfa_" : "hfs_", 32);
  TokenRow& t = created.row;
  t.id = RandomToken("tok_", 9);
  t.name = name;
  t.hash = Sha256Hex(created.secret);
  t.scopes = ScopesToString(scopes);
  t.env = env;
  t.created_at = NowMicros();
  t.created_by = actor.name;
  AuditRow audit;
  audit.created_at = t.created_at;
  audit.actor = actor.name;
  audit.action = "token.create";
  audit.env = env;
  audit.reason = reason;
  audit.detail = TokenDetail(t);
  absl::Status st = store_->InsertToken(t, &audit);
  if (!st.ok()) return st;
  st = Load();
  if (!st.ok()) return st;
  return created;
}

absl::Status Authenticator::RevokeToken(const std::string& id,
                                        const Principal& actor,
                                        const std::string& reason) {
  auto rows = store_->ListTokens();
  if (!rows.ok()) return rows.status();
  const TokenRow* row = nullptr;
  for (const TokenRow& r : *rows) {
    if (r.id == id) row = &r;
  }
  if (row == nullptr) {
    return absl::NotFoundError(absl::StrCat("no token with id \"", id, "\""));
  }
  AuditRow audit;
  audit.created_at = NowMicros();
  audit.actor = actor.name;
  audit.action = "token.revoke";
  audit.env = row->env;
  audit.reason = reason;
  audit.detail = TokenDetail(*row);
  absl::Status st = store_->RevokeToken(id, audit.created_at, audit);
  if (!st.ok()) return st;
  return Load();
}

absl::StatusOr<bool> Authenticator::EnsureToken(const std::string& secret,
                                                const std::string& name,
                                                std::uint32_t scopes,
                                                const std::string& env,
                                                bool* revoked) {
  *revoked = false;
  auto rows = store_->ListTokens();
  if (!rows.ok()) return rows.status();
  const std::string hash = Sha256Hex(secret);
  for (const TokenRow& r : *rows) {
    if (r.hash == hash) {
      *revoked = r.revoked_at != 0;
      return false;
    }
  }
  TokenRow t;
  t.id = RandomToken("tok_", 9);
  t.name = name;
  t.hash = hash;
  t.scopes = ScopesToString(scopes);
  t.env = env;
  t.created_at = NowMicros();
  t.created_by = "hotfixd";
  AuditRow audit;
  audit.created_at = t.created_at;
  audit.actor = "hotfixd";
  audit.action = "token.bootstrap";
  audit.env = env;
  audit.reason = "bootstrap token configured at start-up";
  audit.detail = TokenDetail(t);
  absl::Status st = store_->InsertToken(t, &audit);
  if (absl::IsAlreadyExists(st)) {
    // A replica starting at the same time registered it.
    st = Load();
    if (!st.ok()) return st;
    return false;
  }
  if (!st.ok()) return st;
  st = Load();
  if (!st.ok()) return st;
  return true;
}

}  // namespace hotfixd
}  // namespace hotfix
