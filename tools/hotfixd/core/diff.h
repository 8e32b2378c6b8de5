// tools/hotfixd/core/diff.h
//
// What changed between two flag-set documents, flag by flag and field by
// field: the answer of a dry run, `hotfixctl diff` and promote, the summary a
// webhook carries, and what decides whether SSE clients get a `patch` (one
// flag changed) or a `put`.
//
//   flags.fix-123            changed
//     killed                 false → true
//     default.rollout.split[0].weight   10 → 25
//
// Thread-compatible: pure functions over caller-owned documents.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_DIFF_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_DIFF_H_

#include <string>
#include <vector>

#include "rapidjson/document.h"

namespace hotfix {
namespace hotfixd {

// One field that differs; values are compact JSON, "" where the field is
// absent on that side.
struct FieldChange {
  std::string path;  // relative to the flag (or document, for `other`)
  std::string before;
  std::string after;
};

struct FlagChange {
  enum class Kind { kAdded, kRemoved, kChanged };
  // "added", "removed", "changed".
  static const char* KindName(Kind kind);
  std::string key;
  Kind kind = Kind::kChanged;
  // For kChanged: every differing leaf (arrays of different lengths count as
  // one change of the whole array).
  std::vector<FieldChange> fields;
};

struct DocumentDiff {
  // Flags added, removed or changed, sorted; `flags` says how, same order.
  std::vector<std::string> changed_keys;
  std::vector<FlagChange> flags;
  // Changes under "segments" (paths like "beta.included").
  std::vector<FieldChange> segments;
  // Any other top-level member ("environment", "x-*", ...), "version" aside.
  std::vector<FieldChange> other;

  bool empty() const {
    return flags.empty() && segments.empty() && other.empty();
  }
  bool segments_changed() const { return !segments.empty(); }
  // A single-flag change that SSE clients can receive as a patch.
  bool is_single_flag() const {
    return flags.size() == 1 && segments.empty() && other.empty();
  }
  // Keys of the flags the change removes.
  std::vector<std::string> removed_keys() const;
};

// DiffDocuments()
//
// Compares two flag-set documents (objects with a "flags" object), ignoring
// "version".
//
// Cost: O(flags) with a hash index, plus the size of the changed flags.
DocumentDiff DiffDocuments(const rapidjson::Value& before,
                           const rapidjson::Value& after);

// A short human account of one flag's change: "added", "removed", "killed",
// "revived", "rollout on 10% / off 90% → on 25% / off 75%", or the changed
// fields' names.
std::string DescribeChange(const FlagChange& change,
                           const rapidjson::Value* before_flag,
                           const rapidjson::Value* after_flag);

// SummarizeDiff()
//
// One line per changed flag ("fix-123: killed", via DescribeChange), plus
// "segments changed" when they did; `before` and `after` are the documents
// `diff` compared.
std::vector<std::string> SummarizeDiff(const DocumentDiff& diff,
                                       const rapidjson::Value& before,
                                       const rapidjson::Value& after);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_DIFF_H_
