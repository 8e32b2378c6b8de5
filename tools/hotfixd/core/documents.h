// tools/hotfixd/core/documents.h
//
// Edits of a flag-set document (docs/flag-format.md) held as a RapidJSON DOM,
// one function per admin operation (core/diff.h compares two documents).
// These functions only reshape JSON; the result is always validated
// afterwards by hotfix::Compile before anything is stored, so they check only
// what they need to do their edit. Errors are InvalidArgument / NotFound
// with messages naming the JSON path.
//
// Thread-compatible: pure functions over caller-owned documents.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_DOCUMENTS_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_DOCUMENTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rapidjson/document.h"

namespace hotfix {
namespace hotfixd {

// Checks `doc` is an object with a "flags" object (the minimum every edit
// needs); InvalidArgument otherwise.
absl::Status CheckShape(const rapidjson::Value& doc, std::string_view what);

// Sets the document's "version" member (adding it first if absent).
void SetVersion(rapidjson::Document& doc, std::uint64_t version);

// Adds or replaces flags[key] with a deep copy of `flag`.
absl::Status PutFlag(rapidjson::Document& doc, std::string_view key,
                     const rapidjson::Value& flag);

// Returns true if flags[key] exists.
bool HasFlag(const rapidjson::Value& doc, std::string_view key);

// Removes flags[key]; NotFound if absent, InvalidArgument naming the flags
// that require it as a prerequisite.
absl::Status DeleteFlag(rapidjson::Document& doc, std::string_view key);

// The keys of the flags in `before` that `after` lacks, sorted.
std::vector<std::string> MissingFlags(const rapidjson::Value& before,
                                      const rapidjson::Value& after);

// The keys of the flags that list flags[key] as a prerequisite, sorted.
std::vector<std::string> RequiredBy(const rapidjson::Value& doc,
                                    std::string_view key);

// SetKilled()
//
// Kill (killed = true) or revive (killed = false, and "enabled": false
// becomes true) flags[key]; in a flagd document ("$schema" is flagd's),
// "state" becomes "DISABLED" / "ENABLED". NotFound if absent.
absl::Status SetKilled(rapidjson::Document& doc, std::string_view key,
                       bool killed);

// SetKilledByTag()
//
// Kill or revive every flag whose "tags" contain `tag`. Returns the keys of
// the flags carrying the tag (sorted), changed or not; NotFound if none does.
absl::StatusOr<std::vector<std::string>> SetKilledByTag(
    rapidjson::Document& doc, std::string_view tag, bool killed);

// SetRollout()
//
// Sets the percentage of flags[key]'s fallthrough (`default`):
//  - a percentage split with exactly two entries: the first entry's weight
//    becomes `percent`, the second's 100 - `percent` (bucket_by and salt are
//    kept, so raising the percentage only adds keys);
//  - a fixed variant on a boolean flag with one true and one false variant:
//    becomes the split [true-variant: percent, false-variant: 100 - percent]
//    (salt: the flag key, the default).
// In a flagd document: a targeting of exactly {"fractional": [[a, w],
// [b, w]]} gets the weights [percent * 1000, 100000 - percent * 1000]
// (flagd's integer weights; raising the percentage only adds keys), and a
// boolean flag without targeting gets that fractional.
// `percent` must be in [0, 100] with at most three decimals. Anything else is
// InvalidArgument naming the field.
absl::Status SetRollout(rapidjson::Document& doc, std::string_view key,
                        double percent);

// StampHotfixExpiry()
//
// Gives every flag tagged "hotfix" that has no "expires" the given date
// (YYYY-MM-DD). hotfixd applies it to its embedded demo set on first start, so
// the demo's hotfix goes stale a fixed time after the server was set up
// rather than on a date written into the repository. Returns the keys
// stamped, sorted.
std::vector<std::string> StampHotfixExpiry(rapidjson::Document& doc,
                                           std::string_view date);

// A short human description of flags[key]'s fallthrough: `on`, or
// `rollout on 25% / off 75%`.
std::string DescribeFallthrough(const rapidjson::Value& flag);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_DOCUMENTS_H_
