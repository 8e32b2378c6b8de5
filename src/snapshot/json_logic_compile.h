// src/snapshot/json_logic_compile.h
//
// Compiles a flagd targeting rule (JSON Logic) into a JlProgram: operators
// resolved, constant sub-expressions folded as json-logic-engine folds them
// (one that always fails is a compile error, where flagd reports
// PARSE_ERROR), variant names of constant results resolved. Operators hotfix
// does not support are compile errors naming the JSON path; the list is in
// docs/openfeature.md.
//
// Thread-compatible.

#ifndef HOTFIX_SRC_SNAPSHOT_JSON_LOGIC_COMPILE_H_
#define HOTFIX_SRC_SNAPSHOT_JSON_LOGIC_COMPILE_H_

#include "absl/status/status.h"
#include "model/json_logic.h"
#include "model/model.h"
#include "model/string_pool.h"
#include "snapshot/json_reader.h"

namespace hotfix {
namespace internal {

// CompileJsonLogic()
//
// Compiles `rule`, found at `path`, for `flag` (its key and variants must be
// set) into *out. Errors are InvalidArgument "<path>: <problem>".
absl::Status CompileJsonLogic(const Json& rule, const Path& path,
                              const CompiledFlag& flag, StringPool* pool,
                              JlProgram* out);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SNAPSHOT_JSON_LOGIC_COMPILE_H_
