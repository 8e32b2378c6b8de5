/* examples/c_hello/hello.c
 *
 * The smallest hotfix program in C (the same guard as examples/hello/hello.cc):
 * a client built from an embedded flag set, one guarded code path, and one
 * evaluation that explains its answer. */

#include <inttypes.h>
#include <stdio.h>

#include "hotfix/hotfix_c.h"

static const char kFlags[] =
    "{\"version\": 1, \"flags\": {"
    "  \"fix-123\": {"
    "    \"variants\": {\"on\": true, \"off\": false},"
    "    \"off_variant\": \"off\", \"default\": \"on\","
    "    \"owner\": \"payments-oncall\", \"ticket\": \"PAY-123\"}}}";

int main(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* flags = NULL;
  hotfix_detail_t* detail;
  char* err = NULL;

  hotfix_options_set_bootstrap_json(options, kFlags);
  if (hotfix_client_create(options, &flags, &err) != HOTFIX_OK) {
    fprintf(stderr, "hello: %s\n", err);
    hotfix_free(err);
    hotfix_options_destroy(options);
    return 1;
  }
  hotfix_options_destroy(options);

  if (hotfix_client_enabled(flags, "fix-123", NULL)) {
    printf("fix-123 is on: taking the new code path\n");
  } else {
    printf("fix-123 is off: taking the old code path\n");
  }

  detail = hotfix_detail_create();
  hotfix_client_evaluate(flags, "fix-123", NULL, HOTFIX_VALUE_BOOL, detail);
  printf("value=%s variant=%s reason=%s version=%" PRIu64 "\n",
         hotfix_detail_bool_value(detail) ? "true" : "false",
         hotfix_detail_variant(detail),
         hotfix_reason_name(hotfix_detail_reason(detail)),
         hotfix_detail_version(detail));
  hotfix_detail_destroy(detail);
  hotfix_client_destroy(flags);
  return 0;
}
