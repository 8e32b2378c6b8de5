// src/snapshot/compile.h
//
// The compiler from the native JSON format (docs/flag-format.md) to the
// compiled model. Public callers use hotfix::Compile (snapshot.h); the Client
// uses CompileFlagSet with its own StringPool so that returned string views
// outlive individual snapshots.

#ifndef HOTFIX_SRC_SNAPSHOT_COMPILE_H_
#define HOTFIX_SRC_SNAPSHOT_COMPILE_H_

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hotfix/snapshot.h"
#include "model/model.h"
#include "model/string_pool.h"

namespace hotfix {
namespace internal {

// CompileFlagSet()
//
// Parses, validates and compiles `json`. Every error is InvalidArgument with a
// message "<json path>: <problem>", e.g.
//   flags.fix-123.rules[2].if[0].op: unknown operator "betwen"
// `pool` must be non-null; interned strings go there.
//
// Thread-safe. Cost: allocates the whole compiled set.
absl::StatusOr<std::unique_ptr<CompiledFlagSet>> CompileFlagSet(
    std::string_view json, const CompileOptions& options,
    std::shared_ptr<StringPool> pool);

// CompileErrorList
//
// The errors of one compilation, in the order the compiler meets them. The
// native compiler goes on past an error wherever what follows does not depend
// on it (another flag, segment, rule or clause; another field of a flag), so
// one pass can report every independent error; an error that would only
// repeat an earlier one (a flag whose variants failed, or the prerequisites
// naming it) is not reported. Compilation stops once `stop_after` errors are
// recorded; the first `keep` are kept, the rest only counted. Syntax errors,
// flagd documents and the document's shape report one error.
//
// Thread-compatible.
class CompileErrorList {
 public:
  CompileErrorList(std::size_t stop_after, std::size_t keep)
      : stop_after_(stop_after), keep_(keep) {}

  // Records a non-OK `status`.
  void Add(absl::Status status) {
    ++count_;
    if (kept_.size() < keep_) kept_.push_back(std::move(status));
  }
  bool stopped() const { return count_ >= stop_after_; }
  // Every error recorded (may exceed kept().size()).
  std::size_t count() const { return count_; }
  const std::vector<absl::Status>& kept() const { return kept_; }

 private:
  std::size_t stop_after_;
  std::size_t keep_;
  std::size_t count_ = 0;
  std::vector<absl::Status> kept_;
};

// CollectCompileErrors()
//
// Compiles `json` like CompileFlagSet but without stopping at the first
// error: records every error into `errors` (see CompileErrorList; its first
// error is the one CompileFlagSet returns). Records nothing when `json`
// compiles.
//
// Thread-safe. Cost: a whole compilation, however many errors there are.
void CollectCompileErrors(std::string_view json, const CompileOptions& options,
                          CompileErrorList* errors);

// RenewRegexesInForkedChild()
//
// In a forked child, before any thread of the child evaluates `set`: replaces
// the RE2 object of every `matches` clause with a fresh one for the same
// pattern and options. RE2 keeps mutable state behind locks of its own (its
// DFA caches, lazily built programs); a parent thread that was inside one at
// the fork leaves it held in the child, whose next evaluation needing it
// would wait forever. The old objects are abandoned, not destroyed (their
// locks may be held).
//
// Not thread-safe: only for the single thread of a child inside fork().
// Cost: compiling every regex of `set` again.
void RenewRegexesInForkedChild(const CompiledFlagSet& set);

// Wraps a compiled set into the public Snapshot type.
struct SnapshotAccess {
  static std::unique_ptr<Snapshot> Wrap(std::unique_ptr<CompiledFlagSet> set);
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SNAPSHOT_COMPILE_H_
