// src/util/forced_unwind.h
//
// Catch clauses that let pthread_exit() and thread cancellation through:
//
//   HOTFIX_LETS_FORCED_UNWIND_THROUGH
//   void CallUserCode() {
//     try { user(); }
//     catch (abi::__forced_unwind&) { throw; }  // the thread must end
//     catch (...) { /* log, carry on */ }
//   }
//
// glibc's forced unwind has no exception object, so binding the catch
// clause's reference is a null reference binding to UBSan (a false report:
// the reference is never used). Functions with such a clause carry this
// attribute, which turns UBSan off in them (keep them small).

#ifndef HOTFIX_UTIL_FORCED_UNWIND_H_
#define HOTFIX_UTIL_FORCED_UNWIND_H_

#include <cxxabi.h>

#if defined(__GNUC__) || defined(__clang__)
#define HOTFIX_LETS_FORCED_UNWIND_THROUGH \
  __attribute__((no_sanitize("undefined")))
#else
#define HOTFIX_LETS_FORCED_UNWIND_THROUGH
#endif

#endif  // HOTFIX_UTIL_FORCED_UNWIND_H_
