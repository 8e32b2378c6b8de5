// src/snapshot/fingerprint.h
//
// Flag fingerprints: a hash of a flag's JSON definition that changes whenever
// its evaluation could change (ChangeEvent::changed_keys, handle cells). The
// hash is over a canonical binary encoding of the JSON (type tags, lengths,
// raw bytes; member order kept) rather than Writer output: the same
// information at a fraction of the cost.
//
// Thread-compatible.

#ifndef HOTFIX_SRC_SNAPSHOT_FINGERPRINT_H_
#define HOTFIX_SRC_SNAPSHOT_FINGERPRINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "rapidjson/document.h"

namespace hotfix {
namespace internal {

// HashJson()
//
// XXH3-64 of `key`, a NUL and the canonical encoding of `v`. `scratch` is a
// reusable buffer (its content is overwritten).
std::uint64_t HashJson(std::string_view key, const rapidjson::Value& v,
                       std::string* scratch);

// Folds `dependency` (another fingerprint or hash) into `fingerprint`.
std::uint64_t CombineFingerprint(std::uint64_t fingerprint,
                                 std::uint64_t dependency);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SNAPSHOT_FINGERPRINT_H_
