/* bindings/c/tests/c_misuse_test.c
 *
 * The C API under misuse, compiled as C99: NULL for every pointer argument,
 * unknown flags, invalid JSON and options, double destroy, out-of-range enum
 * values, and calls a change callback must not make. None may crash; each
 * returns an error code (with a message where the function takes errptr) or
 * the caller's default. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hotfix/hotfix_c.h"

static hotfix_client_t* NewClient(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = NULL;
  CHECK(hotfix_options_set_bootstrap_json(options, kTestFlags) == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, NULL) == HOTFIX_OK);
  hotfix_options_destroy(options);
  return client;
}

/* Checks that `code` failed with INVALID_ARGUMENT and that *err (filled by
 * the call that produced `code`) contains `needle`; frees the message. */
static void ExpectInvalid(hotfix_code_t code, char** err, const char* needle) {
  CHECK(code == HOTFIX_INVALID_ARGUMENT);
  CHECK(*err != NULL);
  if (*err != NULL) {
    if (strstr(*err, needle) == NULL) {
      fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", *err, needle);
      CHECK(strstr(*err, needle) != NULL);
    }
    hotfix_free(*err);
    *err = NULL;
  }
}

static void NullArgumentsToEveryFunctionAreHarmless(void) {
  hotfix_client_t* client = NewClient();
  hotfix_context_t* ctx = hotfix_context_create("k");
  hotfix_detail_t* d = hotfix_detail_create();
  hotfix_flag_t* flag = (hotfix_flag_t*)1;
  hotfix_client_status_t* status = (hotfix_client_status_t*)1;
  hotfix_client_t* out = (hotfix_client_t*)1;
  char* err = NULL;
  int id = 0;

  /* Destroy / free of NULL. */
  hotfix_free(NULL);
  hotfix_options_destroy(NULL);
  hotfix_client_destroy(NULL);
  hotfix_context_destroy(NULL);
  hotfix_flag_destroy(NULL);
  hotfix_detail_destroy(NULL);
  hotfix_client_status_destroy(NULL);
  hotfix_context_clear(NULL);

  /* Options. */
  CHECK(hotfix_options_set_bootstrap_json(NULL, "{}") ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_bootstrap_path(NULL, "x") ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_file_path(NULL, "x") == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_file_poll_interval_ms(NULL, 1) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_file_max_bytes(NULL, 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_unknown_operators(
            NULL, HOTFIX_UNKNOWN_OPERATORS_REJECT) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_max_document_bytes(NULL, 1) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_server_url(NULL, "http://x") ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_add_server_url(NULL, "http://x") ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_sdk_key(NULL, "k") == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_remote_mode(NULL, HOTFIX_REMOTE_POLLING) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_remote_poll_interval_ms(NULL, 1) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_connect_timeout_ms(NULL, 1) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_read_timeout_ms(NULL, 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_heartbeat_timeout_ms(NULL, 1) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_verify_tls(NULL, 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_ca_file(NULL, "x") == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_cache_path(NULL, "x") == HOTFIX_INVALID_ARGUMENT);

  /* Creation. */
  ExpectInvalid(hotfix_client_create(NULL, &out, &err), &err,
                "options is NULL");
  CHECK(out == NULL);
  {
    hotfix_options_t* options = hotfix_options_create();
    ExpectInvalid(hotfix_client_create(options, NULL, &err), &err,
                  "client is NULL");
    /* errptr may be NULL. */
    CHECK(hotfix_client_create(NULL, NULL, NULL) == HOTFIX_INVALID_ARGUMENT);
    hotfix_options_destroy(options);
  }

  /* Outcomes and guard status with NULL arguments do nothing. */
  hotfix_client_report(NULL, "fix-123", 1, NULL);
  hotfix_client_report(client, NULL, 0, ctx);
  hotfix_client_report(client, "no-such-flag", 0, NULL);
  CHECK(hotfix_client_status_guard_trip_count(NULL) == 0);
  CHECK(hotfix_client_status_guard_trip_flag(NULL, 0) == NULL);
  CHECK(hotfix_client_status_guard_trip_variant(NULL, 3) == NULL);
  CHECK(hotfix_client_status_guard_trip_detail(NULL, 0) == NULL);
  CHECK(hotfix_client_status_telemetry_posts(NULL) == 0);
  CHECK(hotfix_client_status_telemetry_dropped(NULL) == 0);
  CHECK(hotfix_options_set_counting(NULL, 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_telemetry_send(NULL, 0) == HOTFIX_INVALID_ARGUMENT);
  {
    hotfix_options_t* options = hotfix_options_create();
    CHECK(hotfix_options_set_telemetry_flush_interval_ms(options, 0) ==
          HOTFIX_INVALID_ARGUMENT);
    CHECK(hotfix_options_set_guard_interval_ms(options, -5) ==
          HOTFIX_INVALID_ARGUMENT);
    CHECK(hotfix_options_set_telemetry_instance(options, NULL) ==
          HOTFIX_INVALID_ARGUMENT);
    CHECK(hotfix_options_set_counting(options, 0) == HOTFIX_OK);
    hotfix_options_destroy(options);
  }

  /* Evaluation with a NULL client, flag or context. */
  CHECK(hotfix_client_enabled(NULL, "fix-123", NULL) == 0);
  CHECK(hotfix_client_enabled(client, NULL, NULL) == 0);
  CHECK(hotfix_client_enabled(client, "fix-123", NULL) == 1);
  CHECK(hotfix_client_get_bool(NULL, "fix-123", 5, ctx) == 5);
  CHECK(hotfix_client_get_bool(client, NULL, 5, ctx) == 5);
  CHECK_STREQ(hotfix_client_get_string(NULL, "banner", "d", ctx), "d");
  CHECK_STREQ(hotfix_client_get_string(client, NULL, "d", ctx), "d");
  CHECK(hotfix_client_get_string(NULL, "banner", NULL, ctx) == NULL);
  CHECK(hotfix_client_get_int(NULL, "limit", 5, ctx) == 5);
  CHECK(hotfix_client_get_int(client, NULL, 5, ctx) == 5);
  CHECK(hotfix_client_get_double(NULL, "limit", 5.5, ctx) == 5.5);
  CHECK(hotfix_client_get_double(client, NULL, 5.5, ctx) == 5.5);
  CHECK_STREQ(hotfix_client_get_json(NULL, "config", "[]", ctx), "[]");
  CHECK_STREQ(hotfix_client_get_json(client, NULL, "[]", ctx), "[]");
  CHECK(hotfix_client_get_json(client, "missing", NULL, ctx) == NULL);

  CHECK(hotfix_client_evaluate(client, "fix-123", NULL, HOTFIX_VALUE_NONE,
                               NULL) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_client_evaluate(NULL, "fix-123", NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_NOT_READY);
  CHECK(hotfix_client_evaluate(client, NULL, NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_FLAG_NOT_FOUND);

  CHECK(hotfix_client_version(NULL) == 0);
  CHECK(hotfix_client_wait_until_ready(NULL, 10) == 0);
  ExpectInvalid(hotfix_client_get_status(NULL, &status, &err), &err,
                "client is NULL");
  CHECK(status == NULL);
  ExpectInvalid(hotfix_client_get_status(client, NULL, &err), &err,
                "status is NULL");
  CHECK(hotfix_client_after_fork(NULL) == HOTFIX_INVALID_ARGUMENT);
  ExpectInvalid(hotfix_client_publish(NULL, "{}", &err), &err,
                "client is NULL");
  ExpectInvalid(hotfix_client_publish(client, NULL, &err), &err,
                "json is NULL");

  /* Listeners. */
  ExpectInvalid(hotfix_client_add_listener(NULL, NULL, NULL, &id, &err), &err,
                "client is NULL");
  ExpectInvalid(hotfix_client_add_listener(client, NULL, NULL, &id, &err), &err,
                "callback is NULL");
  CHECK(hotfix_client_remove_listener(NULL, 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_client_remove_listener(client, 12345) == HOTFIX_OK);
  CHECK(hotfix_change_event_old_version(NULL) == 0);
  CHECK(hotfix_change_event_new_version(NULL) == 0);
  CHECK(hotfix_change_event_origin(NULL) == HOTFIX_ORIGIN_NONE);
  CHECK(hotfix_change_event_key_count(NULL) == 0);
  CHECK(hotfix_change_event_key(NULL, 0) == NULL);

  /* Contexts. */
  CHECK(hotfix_context_set_key(NULL, "k") == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_key(ctx, NULL) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_string(NULL, "a", "b") == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_string(ctx, NULL, "b") == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_string(ctx, "a", NULL) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_number(NULL, "a", 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_number(ctx, NULL, 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_bool(NULL, "a", 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_bool(ctx, NULL, 1) == HOTFIX_INVALID_ARGUMENT);

  /* Flag handles. */
  ExpectInvalid(hotfix_client_flag(NULL, "fix-123", &flag, &err), &err,
                "client is NULL");
  CHECK(flag == NULL);
  ExpectInvalid(hotfix_client_flag(client, NULL, &flag, &err), &err,
                "key is NULL");
  ExpectInvalid(hotfix_client_flag(client, "fix-123", NULL, &err), &err,
                "flag is NULL");
  CHECK(hotfix_flag_key(NULL) == NULL);
  CHECK(hotfix_flag_enabled(NULL, ctx) == 0);
  CHECK(hotfix_flag_get_bool(NULL, 3, ctx) == 3);
  CHECK_STREQ(hotfix_flag_get_string(NULL, "d", ctx), "d");
  CHECK(hotfix_flag_get_int(NULL, 3, ctx) == 3);
  CHECK(hotfix_flag_get_double(NULL, 3.5, ctx) == 3.5);
  CHECK_STREQ(hotfix_flag_get_json(NULL, "{}", ctx), "{}");
  CHECK(hotfix_flag_evaluate(NULL, ctx, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_FLAG_NOT_FOUND);
  CHECK(hotfix_flag_evaluate(NULL, ctx, HOTFIX_VALUE_NONE, NULL) ==
        HOTFIX_INVALID_ARGUMENT);

  /* Details and statuses. */
  CHECK(hotfix_detail_value_type(NULL) == HOTFIX_VALUE_NONE);
  CHECK(hotfix_detail_bool_value(NULL) == 0);
  CHECK(hotfix_detail_number_value(NULL) == 0);
  CHECK(hotfix_detail_string_value(NULL, NULL) == NULL);
  CHECK(hotfix_detail_variant(NULL) == NULL);
  CHECK(hotfix_detail_reason(NULL) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(NULL) == HOTFIX_ERROR_NONE);
  CHECK(hotfix_detail_rule_index(NULL) == -1);
  CHECK(hotfix_detail_version(NULL) == 0);
  CHECK(hotfix_client_status_state(NULL) == HOTFIX_STATE_OFF);
  CHECK(hotfix_client_status_origin(NULL) == HOTFIX_ORIGIN_NONE);
  CHECK(hotfix_client_status_version(NULL) == 0);
  CHECK(hotfix_client_status_snapshot_time_us(NULL) == 0);
  CHECK(hotfix_client_status_last_success_us(NULL) == 0);
  CHECK(hotfix_client_status_last_error_code(NULL) == HOTFIX_OK);
  CHECK(hotfix_client_status_last_error(NULL) == NULL);
  CHECK(hotfix_client_status_last_error_time_us(NULL) == 0);
  CHECK(hotfix_client_status_config_error(NULL) == 0);
  CHECK(hotfix_client_status_connection(NULL) == HOTFIX_CONNECTION_NONE);
  CHECK(hotfix_client_status_server(NULL) == NULL);
  CHECK(hotfix_client_status_last_rejection_code(NULL) == HOTFIX_OK);
  CHECK(hotfix_client_status_last_rejection(NULL) == NULL);
  CHECK(hotfix_client_status_last_rejection_time_us(NULL) == 0);

  /* Library. */
  ExpectInvalid(hotfix_validate(NULL, &err), &err, "json is NULL");

  hotfix_detail_destroy(d);
  hotfix_context_destroy(ctx);
  hotfix_client_destroy(client);
}

static void UnknownFlagsServeDefaults(void) {
  hotfix_client_t* client = NewClient();
  hotfix_detail_t* d = hotfix_detail_create();
  hotfix_flag_t* flag = NULL;
  CHECK(hotfix_client_enabled(client, "", NULL) == 0);
  CHECK(hotfix_client_enabled(client, "no-such-flag", NULL) == 0);
  CHECK(hotfix_client_get_bool(client, "no-such-flag", 1, NULL) == 1);
  CHECK_STREQ(hotfix_client_get_string(client, "no-such-flag", "d", NULL), "d");
  CHECK(hotfix_client_get_int(client, "no-such-flag", -7, NULL) == -7);
  CHECK(hotfix_client_evaluate(client, "no-such-flag", NULL, HOTFIX_VALUE_BOOL,
                               d) == HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_FLAG_NOT_FOUND);
  CHECK(hotfix_detail_version(d) == 3);
  /* A handle to an unknown flag is fine too. */
  CHECK(hotfix_client_flag(client, "no-such-flag", &flag, NULL) == HOTFIX_OK);
  CHECK(hotfix_flag_enabled(flag, NULL) == 0);
  CHECK(hotfix_flag_get_int(flag, 9, NULL) == 9);
  /* An out-of-range expected type is just another type. */
  CHECK(hotfix_client_evaluate(client, "fix-123", NULL, (hotfix_value_type_t)77,
                               d) == HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_TYPE_MISMATCH);
  hotfix_flag_destroy(flag);
  hotfix_detail_destroy(d);
  hotfix_client_destroy(client);
}

static void InvalidJsonIsRejectedWithItsPath(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = (hotfix_client_t*)1;
  char* err = NULL;

  ExpectInvalid(hotfix_validate("{\"version\": 1, \"flags\": ", &err), &err,
                "");
  ExpectInvalid(hotfix_validate("", &err), &err, "");
  ExpectInvalid(
      hotfix_validate("{\"version\": 1, \"flags\": {\"f\": {\"variants\": "
                      "{\"on\": true}, \"default\": \"onn\"}}}",
                      &err),
      &err, "flags.f");
  ExpectInvalid(
      hotfix_validate("{\"version\": 1, \"flags\": {}, \"kiled\": 1}", &err),
      &err, "kiled");

  CHECK(hotfix_options_set_bootstrap_json(options, "{\"version\": 1,") ==
        HOTFIX_OK);
  ExpectInvalid(hotfix_client_create(options, &client, &err), &err,
                "bootstrap");
  CHECK(client == NULL);

  /* A bad publish changes nothing. */
  client = NewClient();
  ExpectInvalid(hotfix_client_publish(client, "[]", &err), &err, "");
  ExpectInvalid(hotfix_client_publish(
                    client,
                    "{\"version\": 4, \"flags\": {\"x\": {\"variants\": "
                    "{\"a\": 1, \"b\": \"s\"}, \"default\": \"a\"}}}",
                    &err),
                &err, "flags.x");
  CHECK(hotfix_client_version(client) == 3);
  CHECK(hotfix_client_enabled(client, "fix-123", NULL) == 1);
  hotfix_client_destroy(client);
  hotfix_options_destroy(options);
}

static void InvalidOptionsAreRejected(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = NULL;
  char* err = NULL;
  CHECK(hotfix_options_set_file_poll_interval_ms(options, -1) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_file_max_bytes(options, 0) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_max_document_bytes(options, 0) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_unknown_operators(
            options, (hotfix_unknown_operators_t)5) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_set_log_callback(NULL, NULL, (hotfix_log_level_t)9) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_remote_mode(options, (hotfix_remote_mode_t)3) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_remote_poll_interval_ms(options, 0) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_connect_timeout_ms(options, -5) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_read_timeout_ms(options, 0) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_options_set_heartbeat_timeout_ms(options, 0) ==
        HOTFIX_INVALID_ARGUMENT);

  /* A server URL the core cannot use is rejected at creation, by name. */
  CHECK(hotfix_options_set_server_url(options, "ftp://example.com") ==
        HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, &err) != HOTFIX_OK);
  CHECK(err != NULL && strstr(err, "ftp") != NULL);
  if (err != NULL) fprintf(stderr, "  (bad URL: %s)\n", err);
  hotfix_free(err);
  err = NULL;
  CHECK(client == NULL);
  CHECK(hotfix_options_set_server_url(options, NULL) == HOTFIX_OK);

  /* Exclusive bootstrap sources. */
  CHECK(hotfix_options_set_bootstrap_json(options, kTestFlags) == HOTFIX_OK);
  CHECK(hotfix_options_set_bootstrap_path(options, "/nonexistent/flags.json") ==
        HOTFIX_OK);
  ExpectInvalid(hotfix_client_create(options, &client, &err), &err,
                "exclusive");
  /* A missing bootstrap file is NOT_FOUND, naming the option. */
  CHECK(hotfix_options_set_bootstrap_json(options, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, &err) == HOTFIX_NOT_FOUND);
  CHECK(err != NULL && strstr(err, "bootstrap_path") != NULL);
  hotfix_free(err);
  CHECK(client == NULL);

  /* A compile limit applies to the bootstrap document. */
  CHECK(hotfix_options_set_bootstrap_path(options, NULL) == HOTFIX_OK);
  CHECK(hotfix_options_set_bootstrap_json(options, kTestFlags) == HOTFIX_OK);
  CHECK(hotfix_options_set_max_document_bytes(options, 10) == HOTFIX_OK);
  ExpectInvalid(hotfix_client_create(options, &client, &err), &err, "");
  CHECK(client == NULL);

  /* Unknown operators: rejected by default, fail closed when asked. */
  CHECK(hotfix_options_set_max_document_bytes(options, 1 << 20) == HOTFIX_OK);
  CHECK(hotfix_options_set_bootstrap_json(
            options,
            "{\"version\": 1, \"flags\": {\"f\": {\"variants\": {\"on\": true, "
            "\"off\": false}, \"default\": \"off\", \"rules\": [{\"if\": "
            "[{\"attribute\": \"a\", \"op\": \"betwen\", \"value\": 1}], "
            "\"serve\": \"on\"}]}}}") == HOTFIX_OK);
  ExpectInvalid(hotfix_client_create(options, &client, &err), &err, "betwen");
  CHECK(hotfix_options_set_unknown_operators(
            options, HOTFIX_UNKNOWN_OPERATORS_FAIL_CLOSED) == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, &err) == HOTFIX_OK);
  CHECK(err == NULL);
  CHECK(hotfix_client_enabled(client, "f", NULL) == 0);
  hotfix_client_destroy(client);
  hotfix_options_destroy(options);
}

static void DoubleDestroyOfLongLivedHandlesIsIgnored(void) {
  hotfix_client_t* client = NewClient();
  hotfix_flag_t* flag = NULL;
  hotfix_options_t* options = hotfix_options_create();
  CHECK(hotfix_client_flag(client, "fix-123", &flag, NULL) == HOTFIX_OK);
  hotfix_flag_destroy(flag);
  hotfix_flag_destroy(flag);
  hotfix_client_destroy(client);
  hotfix_client_destroy(client);
  hotfix_options_destroy(options);
  hotfix_options_destroy(options);
  /* A pointer that never was a handle is ignored too. */
  hotfix_client_destroy((hotfix_client_t*)&check_failures);
  hotfix_options_destroy((hotfix_options_t*)&check_failures);
  hotfix_flag_destroy((hotfix_flag_t*)&check_failures);
}

struct Misbehaving {
  hotfix_client_t* client;
  hotfix_code_t publish_code;
  char* publish_error;
  int calls;
  int self_id;
};

static void MisbehavingCallback(void* user_data,
                                const hotfix_change_event_t* event) {
  struct Misbehaving* m = (struct Misbehaving*)user_data;
  (void)event;
  ++m->calls;
  /* Publishing from a callback fails; destroying the client is ignored. */
  m->publish_code =
      hotfix_client_publish(m->client, kTestFlags, &m->publish_error);
  hotfix_client_destroy(m->client);
  /* Removing oneself from a callback is allowed. */
  CHECK(hotfix_client_remove_listener(m->client, m->self_id) == HOTFIX_OK);
}

static void CallbacksCannotPublishOrDestroy(void) {
  struct Misbehaving m;
  memset(&m, 0, sizeof m);
  m.client = NewClient();
  CHECK(hotfix_client_add_listener(m.client, MisbehavingCallback, &m,
                                   &m.self_id, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_publish(
            m.client,
            "{\"version\": 5, \"flags\": {\"dark\": {\"variants\": "
            "{\"on\": true}, \"default\": \"on\"}}}",
            NULL) == HOTFIX_OK);
  CHECK(m.calls == 1);
  CHECK(m.publish_code == HOTFIX_FAILED_PRECONDITION);
  CHECK(m.publish_error != NULL && strstr(m.publish_error, "listener") != NULL);
  hotfix_free(m.publish_error);
  /* Still alive, and the listener is gone. */
  CHECK(hotfix_client_enabled(m.client, "dark", NULL) == 1);
  CHECK(hotfix_client_publish(m.client, kTestFlags, NULL) == HOTFIX_OK);
  CHECK(m.calls == 1);
  hotfix_client_destroy(m.client);
}

int main(void) {
  RUN(NullArgumentsToEveryFunctionAreHarmless);
  RUN(UnknownFlagsServeDefaults);
  RUN(InvalidJsonIsRejectedWithItsPath);
  RUN(InvalidOptionsAreRejected);
  RUN(DoubleDestroyOfLongLivedHandlesIsIgnored);
  RUN(CallbacksCannotPublishOrDestroy);
  return check_failures == 0 ? 0 : 1;
}
