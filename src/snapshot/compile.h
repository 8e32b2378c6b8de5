// src/snapshot/compile.h
//
// The compiler from the native JSON format (docs/flag-format.md) to the
// compiled model. Public callers use hotfix::Compile (snapshot.h); the Client
// uses CompileFlagSet with its own StringPool so that returned string views
// outlive individual snapshots.

#ifndef HOTFIX_SRC_SNAPSHOT_COMPILE_H_
#define HOTFIX_SRC_SNAPSHOT_COMPILE_H_

#include <memory>
#include <string_view>

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
