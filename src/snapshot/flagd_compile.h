// src/snapshot/flagd_compile.h
//
// The compiler from flagd's flag definitions (the flagd-schemas flags.json
// format) to the compiled model, with flagd's semantics
// (@openfeature/flagd-core 4.0.1): `state`, `variants`, `defaultVariant`,
// `targeting` in JSON Logic (compiled once, snapshot/json_logic_compile.h),
// `$evaluators` / `$ref`, flag and flag-set `metadata`. docs/openfeature.md
// says what is supported and where hotfix is stricter than flagd.
//
// Thread-compatible.

#ifndef HOTFIX_SRC_SNAPSHOT_FLAGD_COMPILE_H_
#define HOTFIX_SRC_SNAPSHOT_FLAGD_COMPILE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "hotfix/snapshot.h"
#include "model/model.h"
#include "model/string_pool.h"
#include "rapidjson/document.h"
#include "snapshot/json_reader.h"

namespace hotfix {
namespace internal {

// Whether `root` declares flagd's schema in "$schema".
bool IsFlagdDocument(const Json& root);

// ExpandFlagdRefs()
//
// flagd's `$ref` substitution: in the compact serialization of `doc`, every
// `{"$ref":"<name>"}` becomes the serialized `$evaluators.<name>`, one
// evaluator at a time in declaration order (so an evaluator may use only
// ones declared after it, exactly as flagd-core), and the result is parsed
// again. Fails when the expansion grows past `max_bytes`.
absl::Status ExpandFlagdRefs(rapidjson::Document* doc, std::size_t max_bytes);

// CompileFlagdDocument()
//
// Compiles a flagd document (after ExpandFlagdRefs) into *out.
absl::Status CompileFlagdDocument(const Json& root,
                                  const CompileOptions& options,
                                  StringPool* pool, CompiledFlagSet* out);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SNAPSHOT_FLAGD_COMPILE_H_
