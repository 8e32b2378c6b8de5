// tools/hotfixd/store/epoch.h
//
// Epochs: how a version number is never reused, also after a database is
// restored from a backup or migrated (docs/protocol.md, "Versions and
// epochs").
//
// Every database has an epoch, an incarnation number stored in its `meta`
// table. Inside hotfixd and in the admin API an environment's versions are
// local: 1, 2, 3, ... per environment. What SDKs see (the document's
// "version", the ETag, X-Hotfix-Version on /v1/flags, SSE ids, Last-Event-ID)
// is the *wire version*
//
//   wire = epoch * 2^32 + local
//
// A database created by hotfixd has epoch 0, so its wire versions equal its
// local ones (what every existing SDK already holds). A new incarnation of a
// database — a restored backup (`hotfixd new-epoch`), a migration (`hotfixd
// migrate`) — gets an epoch greater than the one it had and than the hours
// since 2025-01-01, so its wire versions are greater than every version any
// earlier incarnation can have handed out: SDKs, old ones included, take the
// restored history as newer. Wire versions stay below 2^53 until the year
// 2264, so they are exact in JSON parsers that use doubles.
//
// Thread-safe: pure functions.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_EPOCH_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_EPOCH_H_

#include <cstdint>

namespace hotfix {
namespace hotfixd {

inline constexpr int kEpochShift = 32;
// Local versions are below this (4,294,967,295 changes per environment and
// epoch).
inline constexpr std::uint64_t kMaxLocalVersion =
    (std::uint64_t{1} << kEpochShift) - 1;
// Epochs fit in 21 bits, so wire versions fit in 53.
inline constexpr std::uint32_t kMaxEpoch = (1u << 21) - 1;

inline std::uint64_t WireVersion(std::uint32_t epoch, std::uint64_t local) {
  return (static_cast<std::uint64_t>(epoch) << kEpochShift) | local;
}

// The local version a wire version (or a plain local one) names in `epoch`;
// nullopt-like kNoVersion when it belongs to another epoch.
inline constexpr std::uint64_t kNoVersion = ~std::uint64_t{0};
inline std::uint64_t LocalVersion(std::uint32_t epoch, std::uint64_t number) {
  if (number <= kMaxLocalVersion) return number;
  if ((number >> kEpochShift) != epoch) return kNoVersion;
  return number & kMaxLocalVersion;
}

// NextEpoch()
//
// The epoch of a new incarnation of a database whose epoch was `current`, at
// Unix time `now_seconds`: greater than `current` and at least the hours
// since 2025-01-01 UTC, so that it also exceeds the epoch of any other
// incarnation made from the same backup more than an hour earlier.
inline std::uint32_t NextEpoch(std::uint32_t current,
                               std::int64_t now_seconds) {
  constexpr std::int64_t k2025 = 1735689600;  // 2025-01-01T00:00:00Z
  const std::int64_t hours =
      now_seconds > k2025 ? (now_seconds - k2025) / 3600 : 0;
  std::int64_t next = static_cast<std::int64_t>(current) + 1;
  if (hours > next) next = hours;
  return next > kMaxEpoch ? kMaxEpoch : static_cast<std::uint32_t>(next);
}

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_EPOCH_H_
