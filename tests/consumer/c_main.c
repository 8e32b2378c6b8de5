/* tests/consumer/c_main.c
 *
 * Smoke test of the installed C API (hotfix/hotfix_c.h, library hotfix_c):
 * creates a client from an embedded document, evaluates a flag, and cleans
 * up, from plain C99. Exits non-zero (and says why) on a wrong answer. */

#include <stdio.h>

#include "hotfix/hotfix_c.h"

int main(void) {
  static const char kFlags[] =
      "{\"version\": 3, \"flags\": {\"fix-123\": {\"variants\": {\"on\": true, "
      "\"off\": false}, \"off_variant\": \"off\", \"default\": \"on\"}}}";
  char* err = NULL;
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = NULL;
  if (options == NULL ||
      hotfix_options_set_bootstrap_json(options, kFlags) != HOTFIX_OK ||
      hotfix_client_create(options, &client, &err) != HOTFIX_OK) {
    fprintf(stderr, "FAIL: %s\n", err != NULL ? err : "cannot create a client");
    hotfix_free(err);
    return 1;
  }
  hotfix_options_destroy(options);
  const int on = hotfix_client_enabled(client, "fix-123", NULL);
  const int unknown = hotfix_client_enabled(client, "nope", NULL);
  hotfix_client_destroy(client);
  if (!on || unknown) {
    fprintf(stderr, "FAIL: fix-123 %d, nope %d\n", on, unknown);
    return 1;
  }
  printf("hotfix C consumer OK\n");
  return 0;
}
