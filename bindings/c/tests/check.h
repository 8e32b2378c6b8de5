/* bindings/c/tests/check.h
 *
 * A minimal test harness for the C API tests (plain C, no framework): CHECK
 * records a failure with its location and keeps going; each test file's
 * main() runs its test functions with RUN and returns check_failures != 0.
 * The flag set below is shared by the tests. */

#ifndef HOTFIX_BINDINGS_C_TESTS_CHECK_H_
#define HOTFIX_BINDINGS_C_TESTS_CHECK_H_

#include <stdio.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++check_failures;                                                        \
    }                                                                          \
  } while (0)

#define CHECK_STREQ(a, b)                                                 \
  do {                                                                    \
    const char* check_a_ = (a);                                           \
    const char* check_b_ = (b);                                           \
    if (check_a_ == NULL || check_b_ == NULL ||                           \
        strcmp(check_a_, check_b_) != 0) {                                \
      fprintf(stderr,                                                     \
              "%s:%d: CHECK_STREQ failed: %s == %s (\"%s\" vs \"%s\")\n", \
              __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
              check_b_ ? check_b_ : "(null)");                            \
      ++check_failures;                                                   \
    }                                                                     \
  } while (0)

#define RUN(test)                                                          \
  do {                                                                     \
    int check_before_ = check_failures;                                    \
    test();                                                                \
    fprintf(stderr, "[%s] %s\n",                                           \
            check_failures == check_before_ ? "  OK  " : "FAILED", #test); \
  } while (0)

/* Flags every test file uses (docs/flag-format.md). */
static const char kTestFlags[] =
    "{\"version\": 3, \"flags\": {"
    " \"fix-123\": {\"variants\": {\"on\": true, \"off\": false},"
    "   \"off_variant\": \"off\", \"default\": \"on\"},"
    " \"dark\": {\"variants\": {\"on\": true, \"off\": false},"
    "   \"off_variant\": \"off\", \"default\": \"off\"},"
    " \"killed\": {\"variants\": {\"on\": true, \"off\": false},"
    "   \"off_variant\": \"off\", \"default\": \"on\", \"killed\": true},"
    " \"eu-only\": {\"variants\": {\"on\": true, \"off\": false},"
    "   \"off_variant\": \"off\", \"default\": \"off\", \"rules\": ["
    "     {\"if\": [{\"attribute\": \"region\", \"op\": \"in\","
    "               \"values\": [\"eu\", \"uk\"]}], \"serve\": \"on\"}]},"
    " \"adults-beta\": {\"variants\": {\"on\": true, \"off\": false},"
    "   \"off_variant\": \"off\", \"default\": \"off\", \"rules\": ["
    "     {\"if\": [{\"attribute\": \"region\", \"op\": \"eq\", \"value\": "
    "\"us\"}],"
    "      \"serve\": \"off\"},"
    "     {\"if\": [{\"attribute\": \"age\", \"op\": \"gte\", \"value\": 18},"
    "               {\"attribute\": \"beta\", \"op\": \"eq\", \"value\": "
    "true}],"
    "      \"serve\": \"on\"}]},"
    " \"banner\": {\"variants\": {\"en\": \"hello\", \"fr\": \"bonjour\"},"
    "   \"default\": \"en\","
    "   \"targets\": [{\"variant\": \"fr\", \"keys\": [\"user-fr\"]}]},"
    " \"limit\": {\"variants\": {\"low\": 10, \"high\": 1000.75},"
    "   \"default\": \"high\"},"
    " \"config\": {\"variants\": {\"v1\": {\"retries\": 3}},"
    "   \"default\": \"v1\"}"
    "}}";

#endif /* HOTFIX_BINDINGS_C_TESTS_CHECK_H_ */
