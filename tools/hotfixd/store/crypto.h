// tools/hotfixd/store/crypto.h
//
// The few cryptographic primitives hotfixd needs, all from OpenSSL: SHA-256
// (token hashes, document checksums), HMAC-SHA256 (webhook signatures), a
// CSPRNG for tokens and ids, and a constant-time comparison.
//
// Thread-safe: OpenSSL 1.1+ initializes itself and these calls share no
// state.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_CRYPTO_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_CRYPTO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotfix {
namespace hotfixd {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Sha256()
//
// Cost: about 3 ns per byte plus ~200 ns.
Sha256Digest Sha256(std::string_view data);

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// Lower-case hex of HMAC-SHA256(key, data): how webhook deliveries are
// signed.
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Lower-case hex of `bytes`.
std::string ToHex(const std::uint8_t* bytes, std::size_t size);

// Parses 64 hex characters into a digest; false if malformed.
bool ParseSha256Hex(std::string_view hex, Sha256Digest* out);

// RandomToken()
//
// `prefix` followed by `bytes` random bytes from the OpenSSL CSPRNG, encoded
// as unpadded base64url. Aborts if the CSPRNG fails (never silently weak).
std::string RandomToken(std::string_view prefix, std::size_t bytes);

// Constant-time equality of two digests (CRYPTO_memcmp).
bool DigestEquals(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_CRYPTO_H_
