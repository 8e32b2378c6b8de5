/* bindings/c/tests/header_c89_check.c
 *
 * Compiled (never run) with -std=c89 -pedantic-errors: the C API header must
 * stay usable from strict ANSI C. */

#include "hotfix/hotfix_c.h"

int hotfix_header_c89_check(void) {
  hotfix_code_t code = HOTFIX_OK;
  hotfix_reason_t reason = HOTFIX_REASON_STATIC;
  return (int)code + (int)reason;
}
