// src/util/status_macros.h
//
// Early-return helpers for absl::Status / absl::StatusOr, shared by the
// library and the tools (which see src/util/ and nothing else of src/):
//
//   HOTFIX_RETURN_IF_ERROR(WriteHeader(out));
//   HOTFIX_ASSIGN_OR_RETURN(Document doc, Parse(text));
//   HOTFIX_ASSIGN_OR_RETURN(auto rows, store->ListTokens());
//
// The returned value is the failing Status itself, so a function returning
// StatusOr<T> can use both. Header-only.

#ifndef HOTFIX_SRC_UTIL_STATUS_MACROS_H_
#define HOTFIX_SRC_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once; returns it from the enclosing
// function unless it is OK.
#define HOTFIX_RETURN_IF_ERROR(expr)                            \
  do {                                                          \
    ::absl::Status hotfix_status_macro_status = (expr);         \
    if (ABSL_PREDICT_FALSE(!hotfix_status_macro_status.ok())) { \
      return hotfix_status_macro_status;                        \
    }                                                           \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; returns its status from the
// enclosing function unless it is OK, else moves the value into `lhs` (a
// declaration such as `auto x` or an existing variable).
#define HOTFIX_ASSIGN_OR_RETURN(lhs, rexpr) \
  HOTFIX_ASSIGN_OR_RETURN_IMPL_(            \
      HOTFIX_STATUS_MACRO_CONCAT_(hotfix_statusor_, __LINE__), lhs, rexpr)

#define HOTFIX_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                 \
    return std::move(statusor).status();                    \
  }                                                         \
  lhs = *std::move(statusor)

#define HOTFIX_STATUS_MACRO_CONCAT_INNER_(a, b) a##b
#define HOTFIX_STATUS_MACRO_CONCAT_(a, b) \
  HOTFIX_STATUS_MACRO_CONCAT_INNER_(a, b)

#endif  // HOTFIX_SRC_UTIL_STATUS_MACROS_H_
