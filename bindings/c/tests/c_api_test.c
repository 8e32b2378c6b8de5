/* bindings/c/tests/c_api_test.c
 *
 * The C API's happy paths, compiled as C99: creating a client from a
 * bootstrap document, enabled, typed getters, evaluate with reasons and
 * variants, contexts, flag handles, publish with a change callback, status,
 * names and validation, and a creation that does not wait for a server. */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "hotfix/hotfix_c.h"

static hotfix_client_t* NewClient(const char* json) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = NULL;
  char* err = NULL;
  CHECK(options != NULL);
  CHECK(hotfix_options_set_bootstrap_json(options, json) == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, &err) == HOTFIX_OK);
  CHECK(err == NULL);
  CHECK(client != NULL);
  hotfix_options_destroy(options);
  return client;
}

static void EnabledServesBooleanFlags(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  CHECK(hotfix_client_enabled(flags, "fix-123", NULL) == 1);
  CHECK(hotfix_client_enabled(flags, "dark", NULL) == 0);
  CHECK(hotfix_client_enabled(flags, "killed", NULL) == 0);
  CHECK(hotfix_client_enabled(flags, "no-such-flag", NULL) == 0);
  /* Not boolean: false. */
  CHECK(hotfix_client_enabled(flags, "banner", NULL) == 0);
  CHECK(hotfix_client_version(flags) == 3);
  hotfix_client_destroy(flags);
}

static void ContextAttributesDriveRules(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_context_t* ctx = hotfix_context_create("user-1");
  CHECK(ctx != NULL);
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 0);
  CHECK(hotfix_context_set_string(ctx, "region", "eu") == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 1);
  /* Replacing an attribute. */
  CHECK(hotfix_context_set_string(ctx, "region", "us") == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 0);

  CHECK(hotfix_context_set_string(ctx, "region", "fr") == HOTFIX_OK);
  CHECK(hotfix_context_set_number(ctx, "age", 31) == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "adults-beta", ctx) == 0);
  CHECK(hotfix_context_set_bool(ctx, "beta", 1) == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "adults-beta", ctx) == 1);
  CHECK(hotfix_context_set_number(ctx, "age", 17.5) == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "adults-beta", ctx) == 0);

  /* Clear forgets everything; the context is reusable. */
  hotfix_context_clear(ctx);
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 0);
  CHECK(hotfix_context_set_string(ctx, "region", "uk") == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 1);
  hotfix_context_destroy(ctx);
  hotfix_client_destroy(flags);
}

static void ContextCopiesItsStrings(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_context_t* ctx = hotfix_context_create(NULL);
  char* name = malloc(16);
  char* value = malloc(16);
  char* key = malloc(16);
  strcpy(name, "region");
  strcpy(value, "eu");
  strcpy(key, "user-fr");
  CHECK(hotfix_context_set_string(ctx, name, value) == HOTFIX_OK);
  CHECK(hotfix_context_set_key(ctx, key) == HOTFIX_OK);
  /* Overwrite and free the caller's buffers: the context kept copies. */
  memset(name, 'x', 15);
  memset(value, 'y', 15);
  memset(key, 'z', 15);
  free(name);
  free(value);
  free(key);
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 1);
  CHECK_STREQ(hotfix_client_get_string(flags, "banner", "?", ctx), "bonjour");
  /* Many attributes (past the inline capacity) stay valid. */
  {
    int i;
    char attr[32];
    for (i = 0; i < 40; ++i) {
      sprintf(attr, "attr-%d", i);
      CHECK(hotfix_context_set_string(ctx, attr, attr) == HOTFIX_OK);
    }
  }
  CHECK(hotfix_client_enabled(flags, "eu-only", ctx) == 1);
  hotfix_context_destroy(ctx);
  hotfix_client_destroy(flags);
}

static void KeyAttributeIsTheContextKey(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_context_t* ctx = hotfix_context_create(NULL);
  CHECK(hotfix_context_set_string(ctx, "key", "user-fr") == HOTFIX_OK);
  CHECK_STREQ(hotfix_client_get_string(flags, "banner", "?", ctx), "bonjour");
  CHECK(hotfix_context_set_number(ctx, "key", 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK(hotfix_context_set_bool(ctx, "key", 1) == HOTFIX_INVALID_ARGUMENT);
  CHECK_STREQ(hotfix_client_get_string(flags, "banner", "?", ctx), "bonjour");
  hotfix_context_destroy(ctx);
  hotfix_client_destroy(flags);
}

static void TypedGettersServeValuesOrDefaults(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_context_t* fr = hotfix_context_create("user-fr");
  const char* json;

  CHECK(hotfix_client_get_bool(flags, "fix-123", 0, NULL) == 1);
  CHECK(hotfix_client_get_bool(flags, "killed", 7, NULL) ==
        0); /* off variant */
  CHECK(hotfix_client_get_bool(flags, "banner", 7, NULL) == 7); /* mismatch */
  CHECK(hotfix_client_get_bool(flags, "missing", 7, NULL) == 7);

  CHECK_STREQ(hotfix_client_get_string(flags, "banner", "?", NULL), "hello");
  CHECK_STREQ(hotfix_client_get_string(flags, "banner", "?", fr), "bonjour");
  CHECK_STREQ(hotfix_client_get_string(flags, "limit", "?", NULL), "?");
  CHECK(hotfix_client_get_string(flags, "missing", NULL, NULL) == NULL);

  CHECK(hotfix_client_get_int(flags, "limit", -1, NULL) == 1000);
  CHECK(hotfix_client_get_int(flags, "banner", -1, NULL) == -1);
  CHECK(fabs(hotfix_client_get_double(flags, "limit", 0, NULL) - 1000.75) <
        1e-9);
  CHECK(hotfix_client_get_double(flags, "missing", 2.5, NULL) == 2.5);

  json = hotfix_client_get_json(flags, "config", "{}", NULL);
  CHECK(json != NULL && strstr(json, "\"retries\"") != NULL);
  CHECK_STREQ(hotfix_client_get_json(flags, "banner", "{}", NULL), "{}");
  hotfix_context_destroy(fr);
  hotfix_client_destroy(flags);
}

static void EvaluateExplainsTheAnswer(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_detail_t* d = hotfix_detail_create();
  hotfix_context_t* ctx = hotfix_context_create("user-1");
  size_t length = 99;

  CHECK(d != NULL);
  /* A new detail: nothing evaluated yet. */
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_NOT_READY);

  CHECK(hotfix_client_evaluate(flags, "fix-123", NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_value_type(d) == HOTFIX_VALUE_BOOL);
  CHECK(hotfix_detail_bool_value(d) == 1);
  CHECK_STREQ(hotfix_detail_variant(d), "on");
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_STATIC);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_NONE);
  CHECK(hotfix_detail_rule_index(d) == -1);
  CHECK(hotfix_detail_version(d) == 3);

  CHECK(hotfix_context_set_string(ctx, "region", "uk") == HOTFIX_OK);
  CHECK(hotfix_client_evaluate(flags, "eu-only", ctx, HOTFIX_VALUE_BOOL, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_RULE_MATCH);
  CHECK(hotfix_detail_rule_index(d) == 0);
  CHECK_STREQ(hotfix_detail_variant(d), "on");

  CHECK(hotfix_client_evaluate(flags, "killed", NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_KILLED);
  CHECK_STREQ(hotfix_detail_variant(d), "off");
  CHECK(hotfix_detail_bool_value(d) == 0);

  CHECK(hotfix_client_evaluate(flags, "banner", NULL, HOTFIX_VALUE_STRING, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_value_type(d) == HOTFIX_VALUE_STRING);
  CHECK_STREQ(hotfix_detail_string_value(d, &length), "hello");
  CHECK(length == 5);

  CHECK(hotfix_client_evaluate(flags, "banner", NULL, HOTFIX_VALUE_BOOL, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_TYPE_MISMATCH);
  CHECK(hotfix_detail_value_type(d) == HOTFIX_VALUE_NONE);
  CHECK(hotfix_detail_string_value(d, &length) == NULL);
  CHECK(length == 0);

  CHECK(hotfix_client_evaluate(flags, "nope", NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_FLAG_NOT_FOUND);
  CHECK_STREQ(hotfix_detail_variant(d), "");

  CHECK(hotfix_client_evaluate(flags, "limit", NULL, HOTFIX_VALUE_NUMBER, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_number_value(d) == 1000.75);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_STATIC);

  hotfix_context_destroy(ctx);
  hotfix_detail_destroy(d);
  hotfix_client_destroy(flags);
}

static void FlagHandlesMatchClientResults(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_flag_t* fix = NULL;
  hotfix_flag_t* eu = NULL;
  hotfix_flag_t* banner = NULL;
  hotfix_flag_t* limit = NULL;
  hotfix_flag_t* config = NULL;
  hotfix_flag_t* later = NULL;
  hotfix_context_t* ctx = hotfix_context_create("user-fr");
  hotfix_detail_t* d = hotfix_detail_create();
  char* err = NULL;

  CHECK(hotfix_client_flag(flags, "fix-123", &fix, &err) == HOTFIX_OK);
  CHECK(err == NULL);
  CHECK(hotfix_client_flag(flags, "eu-only", &eu, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_flag(flags, "banner", &banner, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_flag(flags, "limit", &limit, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_flag(flags, "config", &config, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_flag(flags, "added-later", &later, NULL) == HOTFIX_OK);
  CHECK_STREQ(hotfix_flag_key(fix), "fix-123");

  CHECK(hotfix_flag_enabled(fix, NULL) == 1);
  CHECK(hotfix_flag_get_bool(fix, 0, NULL) == 1);
  CHECK(hotfix_flag_enabled(eu, ctx) == 0);
  CHECK(hotfix_context_set_string(ctx, "region", "eu") == HOTFIX_OK);
  CHECK(hotfix_flag_enabled(eu, ctx) == 1);
  CHECK_STREQ(hotfix_flag_get_string(banner, "?", ctx), "bonjour");
  CHECK_STREQ(hotfix_flag_get_string(banner, "?", NULL), "hello");
  CHECK(hotfix_flag_get_int(limit, 0, NULL) == 1000);
  CHECK(hotfix_flag_get_double(limit, 0, NULL) == 1000.75);
  CHECK(strstr(hotfix_flag_get_json(config, "{}", NULL), "retries") != NULL);
  CHECK(hotfix_flag_evaluate(eu, ctx, HOTFIX_VALUE_BOOL, d) == HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_RULE_MATCH);

  /* A handle follows later flag sets, including flags it did not find. */
  CHECK(hotfix_flag_enabled(later, NULL) == 0);
  CHECK(hotfix_client_publish(
            flags,
            "{\"version\": 4, \"flags\": {\"added-later\": {\"variants\": "
            "{\"on\": true}, \"default\": \"on\"}}}",
            &err) == HOTFIX_OK);
  CHECK(err == NULL);
  CHECK(hotfix_flag_enabled(later, NULL) == 1);
  CHECK(hotfix_flag_enabled(fix, NULL) == 0);
  CHECK(hotfix_flag_evaluate(fix, NULL, HOTFIX_VALUE_BOOL, d) == HOTFIX_OK);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_FLAG_NOT_FOUND);

  /* Handles may be destroyed after their client. */
  hotfix_client_destroy(flags);
  hotfix_flag_destroy(fix);
  hotfix_flag_destroy(eu);
  hotfix_flag_destroy(banner);
  hotfix_flag_destroy(limit);
  hotfix_flag_destroy(config);
  hotfix_flag_destroy(later);
  hotfix_detail_destroy(d);
  hotfix_context_destroy(ctx);
}

struct Changes {
  int calls;
  uint64_t old_version;
  uint64_t new_version;
  hotfix_origin_t origin;
  char keys[256];
  int enabled_inside;
  hotfix_client_t* client;
};

static void RecordChange(void* user_data, const hotfix_change_event_t* event) {
  struct Changes* changes = (struct Changes*)user_data;
  size_t i;
  ++changes->calls;
  changes->old_version = hotfix_change_event_old_version(event);
  changes->new_version = hotfix_change_event_new_version(event);
  changes->origin = hotfix_change_event_origin(event);
  changes->keys[0] = '\0';
  for (i = 0; i < hotfix_change_event_key_count(event); ++i) {
    strcat(changes->keys, hotfix_change_event_key(event, i));
    strcat(changes->keys, ",");
  }
  CHECK(hotfix_change_event_key(event, i) == NULL);
  /* Evaluating from a callback sees the new flags. */
  changes->enabled_inside =
      hotfix_client_enabled(changes->client, "dark", NULL);
}

static void PublishCallsChangeListeners(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  struct Changes changes;
  int id = -1;
  char* err = NULL;
  memset(&changes, 0, sizeof changes);
  changes.client = flags;

  CHECK(hotfix_client_add_listener(flags, RecordChange, &changes, &id, &err) ==
        HOTFIX_OK);
  CHECK(err == NULL);
  CHECK(hotfix_client_publish(
            flags,
            "{\"version\": 9, \"flags\": {"
            " \"dark\": {\"variants\": {\"on\": true}, \"default\": \"on\"},"
            " \"fix-123\": {\"variants\": {\"on\": true, \"off\": false},"
            "   \"off_variant\": \"off\", \"default\": \"on\"}}}",
            NULL) == HOTFIX_OK);
  CHECK(changes.calls == 1);
  CHECK(changes.old_version == 3);
  CHECK(changes.new_version == 9);
  CHECK(changes.origin == HOTFIX_ORIGIN_TEST);
  /* Removed flags and the changed one, sorted; fix-123 is unchanged. */
  CHECK_STREQ(changes.keys,
              "adults-beta,banner,config,dark,eu-only,killed,limit,");
  CHECK(changes.enabled_inside == 1);
  CHECK(hotfix_client_enabled(flags, "dark", NULL) == 1);

  CHECK(hotfix_client_remove_listener(flags, id) == HOTFIX_OK);
  CHECK(hotfix_client_publish(flags, kTestFlags, NULL) == HOTFIX_OK);
  CHECK(changes.calls == 1);
  CHECK(hotfix_client_version(flags) == 3);
  hotfix_client_destroy(flags);
}

static void StatusDescribesTheSource(void) {
  hotfix_client_t* flags = NewClient(kTestFlags);
  hotfix_client_status_t* status = NULL;
  char* err = NULL;
  CHECK(hotfix_client_get_status(flags, &status, &err) == HOTFIX_OK);
  CHECK(err == NULL);
  CHECK(status != NULL);
  CHECK(hotfix_client_status_state(status) == HOTFIX_STATE_OFF);
  CHECK(hotfix_client_status_origin(status) == HOTFIX_ORIGIN_BOOTSTRAP);
  CHECK(hotfix_client_status_version(status) == 3);
  CHECK(hotfix_client_status_snapshot_time_us(status) > 0);
  CHECK(hotfix_client_status_last_error_code(status) == HOTFIX_OK);
  CHECK_STREQ(hotfix_client_status_last_error(status), "");
  CHECK(hotfix_client_status_last_error_time_us(status) == 0);
  CHECK(hotfix_client_status_connection(status) == HOTFIX_CONNECTION_NONE);
  CHECK(hotfix_client_status_config_error(status) == 0);
  CHECK(hotfix_client_status_last_rejection_code(status) == HOTFIX_OK);
  CHECK_STREQ(hotfix_client_status_last_rejection(status), "");
  CHECK(hotfix_client_wait_until_ready(flags, 0) == 1);
  hotfix_client_status_destroy(status);
  hotfix_client_destroy(flags);
}

static void ClientWithoutFlagsServesDefaults(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* flags = NULL;
  hotfix_detail_t* d = hotfix_detail_create();
  CHECK(hotfix_client_create(options, &flags, NULL) == HOTFIX_OK);
  hotfix_options_destroy(options);
  CHECK(hotfix_client_enabled(flags, "fix-123", NULL) == 0);
  CHECK(hotfix_client_get_int(flags, "limit", 42, NULL) == 42);
  CHECK(hotfix_client_version(flags) == 0);
  CHECK(hotfix_client_wait_until_ready(flags, 1) == 0);
  CHECK(hotfix_client_evaluate(flags, "fix-123", NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_NOT_READY);
  hotfix_detail_destroy(d);
  hotfix_client_destroy(flags);
}

/* A server that never answers: it listens (so the kernel completes every
 * connection) but neither accepts nor reads until the test does. Returns the
 * listening socket and sets *port, or -1. */
static int ListenWithoutAnswering(int* port) {
  struct sockaddr_in address;
  socklen_t length = sizeof(address);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(fd, 8) != 0 ||
      getsockname(fd, (struct sockaddr*)&address, &length) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(address.sin_port);
  return fd;
}

/* Waits at most `timeout_ms` for `fd` to be readable. */
static int Readable(int fd, int timeout_ms) {
  struct pollfd p;
  p.fd = fd;
  p.events = POLLIN;
  p.revents = 0;
  return poll(&p, 1, timeout_ms) == 1;
}

static void SilentServerNeverBlocksCreation(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* flags = NULL;
  hotfix_client_status_t* status = NULL;
  char* err = NULL;
  char url[64];
  char request[4096] = {0};
  size_t received = 0;
  int port = 0;
  int connection = -1;
  const int listener = ListenWithoutAnswering(&port);
  CHECK(listener >= 0);
  if (listener < 0) return;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
  CHECK(hotfix_options_set_server_url(options, url) == HOTFIX_OK);
  CHECK(hotfix_options_set_sdk_key(options, "sdk-test-key-0123456789") ==
        HOTFIX_OK);
  CHECK(hotfix_options_set_remote_mode(options, HOTFIX_REMOTE_POLLING) ==
        HOTFIX_OK);
  CHECK(hotfix_options_set_remote_poll_interval_ms(options, 60000) ==
        HOTFIX_OK);
  /* A creation that waited for the server would last this long, and the
   * timeout would then have closed the connection. */
  CHECK(hotfix_options_set_read_timeout_ms(options, 5000) == HOTFIX_OK);
  CHECK(hotfix_options_set_bootstrap_json(options, kTestFlags) == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &flags, &err) == HOTFIX_OK);
  CHECK(err == NULL);
  hotfix_options_destroy(options);

  /* Creation has returned. Its request reaches the server in the
   * background... */
  CHECK(Readable(listener, 20000));
  connection = accept(listener, NULL, NULL);
  CHECK(connection >= 0);
  while (connection >= 0 && received < sizeof(request) - 1 &&
         strstr(request, "\r\n\r\n") == NULL && Readable(connection, 20000)) {
    const ssize_t n =
        read(connection, request + received, sizeof(request) - 1 - received);
    if (n <= 0) break;
    received += (size_t)n;
    request[received] = '\0';
  }
  CHECK(received > 0 && strncmp(request, "GET /v1/flags", 13) == 0);
  /* ...and is still unanswered and open: the client neither waited for it
   * nor gave up on it. (Once read, a GET has nothing more to send: anything
   * readable now would be the connection's end.) */
  CHECK(connection >= 0 && !Readable(connection, 0));
  /* Meanwhile the bootstrap is served. */
  CHECK(hotfix_client_enabled(flags, "fix-123", NULL) == 1);
  CHECK(hotfix_client_get_status(flags, &status, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_status_origin(status) == HOTFIX_ORIGIN_BOOTSTRAP);
  CHECK(hotfix_client_status_connection(status) != HOTFIX_CONNECTION_NONE);
  hotfix_client_status_destroy(status);
  hotfix_client_destroy(flags);
  if (connection >= 0) close(connection);
  close(listener);
}

/* Servers added with hotfix_options_add_server_url are checked at creation
 * and followed without a server URL; the status names none until one
 * answers. */
static void AddedServersAreFollowed(void) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* flags = NULL;
  hotfix_client_status_t* status = NULL;
  char* err = NULL;
  char url[64];
  int port = 0;
  const int listener = ListenWithoutAnswering(&port);
  CHECK(listener >= 0);
  if (listener < 0) return;
  CHECK(hotfix_options_add_server_url(options, "ftp://replica-b") ==
        HOTFIX_OK);
  CHECK(hotfix_client_create(options, &flags, &err) ==
        HOTFIX_INVALID_ARGUMENT);
  CHECK(err != NULL && strstr(err, "ftp://replica-b") != NULL);
  hotfix_free(err);
  err = NULL;
  CHECK(hotfix_options_add_server_url(options, NULL) == HOTFIX_OK);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
  CHECK(hotfix_options_add_server_url(options, url) == HOTFIX_OK);
  CHECK(hotfix_options_set_sdk_key(options, "sdk-test-key-0123456789") ==
        HOTFIX_OK);
  CHECK(hotfix_options_set_remote_mode(options, HOTFIX_REMOTE_POLLING) ==
        HOTFIX_OK);
  CHECK(hotfix_client_create(options, &flags, &err) == HOTFIX_OK);
  hotfix_options_destroy(options);
  CHECK(Readable(listener, 20000)); /* its request arrives */
  CHECK(hotfix_client_get_status(flags, &status, NULL) == HOTFIX_OK);
  CHECK_STREQ(hotfix_client_status_server(status), "");
  hotfix_client_status_destroy(status);
  hotfix_client_destroy(flags);
  close(listener);
}

static void NamesMatchTheDocumentedSpelling(void) {
  CHECK_STREQ(hotfix_code_name(HOTFIX_OK), "OK");
  CHECK_STREQ(hotfix_code_name(HOTFIX_INVALID_ARGUMENT), "INVALID_ARGUMENT");
  CHECK_STREQ(hotfix_code_name((hotfix_code_t)99), "UNKNOWN");
  CHECK_STREQ(hotfix_value_type_name(HOTFIX_VALUE_JSON), "json");
  CHECK_STREQ(hotfix_reason_name(HOTFIX_REASON_RULE_MATCH), "RULE_MATCH");
  CHECK_STREQ(hotfix_reason_name(HOTFIX_REASON_PREREQUISITE_FAILED),
              "PREREQUISITE_FAILED");
  CHECK_STREQ(hotfix_reason_name(HOTFIX_REASON_GUARD_TRIPPED), "GUARD_TRIPPED");
  CHECK_STREQ(hotfix_error_kind_name(HOTFIX_ERROR_FLAG_NOT_FOUND),
              "FLAG_NOT_FOUND");
  CHECK_STREQ(hotfix_origin_name(HOTFIX_ORIGIN_FILE), "file");
  CHECK_STREQ(hotfix_source_state_name(HOTFIX_STATE_STALE), "stale");
  CHECK_STREQ(hotfix_connection_name(HOTFIX_CONNECTION_STREAMING), "streaming");
  CHECK_STREQ(hotfix_connection_name((hotfix_connection_t)42), "unknown");
  CHECK(strlen(hotfix_version()) > 0);
  /* The frozen numbers. */
  CHECK(HOTFIX_REASON_ERROR == 7);
  CHECK(HOTFIX_ERROR_MISSING_BUCKET_KEY == 4);
  CHECK(HOTFIX_ERROR_GENERAL == 5);
  CHECK(HOTFIX_ORIGIN_TEST == 6);
  CHECK(HOTFIX_STATE_OFF == 4);
  CHECK(HOTFIX_UNAUTHENTICATED == 16);
}

/* flagd's flag definitions compile like native ones (docs/openfeature.md). */
static void FlagdDefinitionsEvaluate(void) {
  static const char kFlagd[] =
      "{\"$schema\": \"https://flagd.dev/schema/v0/flags.json\","
      " \"flags\": {"
      "  \"banner\": {\"state\": \"ENABLED\","
      "    \"variants\": {\"on\": true, \"off\": false},"
      "    \"defaultVariant\": \"off\","
      "    \"targeting\": {\"if\": [{\"ends_with\": [{\"var\": \"email\"},"
      "      \"@example.com\"]}, \"on\", null]}},"
      "  \"broken\": {\"state\": \"ENABLED\","
      "    \"variants\": {\"a\": \"A\"}, \"defaultVariant\": \"a\","
      "    \"targeting\": {\"==\": [{\"var\": \"n\"}, 1]}},"
      "  \"off\": {\"state\": \"DISABLED\","
      "    \"variants\": {\"on\": true}, \"defaultVariant\": \"on\"}}}";
  hotfix_client_t* flags = NewClient(kFlagd);
  hotfix_detail_t* d = hotfix_detail_create();
  hotfix_context_t* ctx = hotfix_context_create("user-1");
  CHECK(hotfix_context_set_string(ctx, "email", "a@example.com") == HOTFIX_OK);
  CHECK(hotfix_client_enabled(flags, "banner", ctx) == 1);
  CHECK(hotfix_client_enabled(flags, "banner", NULL) == 0);
  CHECK(hotfix_client_evaluate(flags, "broken", NULL, HOTFIX_VALUE_NONE, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_ERROR);
  CHECK(hotfix_detail_error(d) == HOTFIX_ERROR_GENERAL);
  CHECK_STREQ(hotfix_error_kind_name(HOTFIX_ERROR_GENERAL), "GENERAL");
  CHECK(hotfix_client_evaluate(flags, "off", NULL, HOTFIX_VALUE_STRING, d) ==
        HOTFIX_OK);
  CHECK(hotfix_detail_reason(d) == HOTFIX_REASON_KILLED);
  CHECK(hotfix_detail_value_type(d) == HOTFIX_VALUE_NONE);
  hotfix_detail_destroy(d);
  hotfix_context_destroy(ctx);
  hotfix_client_destroy(flags);
}

static void ValidateAcceptsGoodDocuments(void) {
  char* err = (char*)"not touched?";
  CHECK(hotfix_validate(kTestFlags, &err) == HOTFIX_OK);
  CHECK(err == NULL);
}

static int log_calls = 0;
static void CountLog(void* user_data, hotfix_log_level_t level,
                     const char* message) {
  (void)level;
  CHECK(user_data == &log_calls);
  CHECK(message != NULL && strlen(message) > 0);
  ++log_calls;
}

static void LogCallbackReceivesLibraryMessages(void) {
  hotfix_options_t* options = hotfix_options_create();
  CHECK(hotfix_set_log_callback(CountLog, &log_calls, HOTFIX_LOG_WARNING) ==
        HOTFIX_OK);
  /* Destroying twice is reported through the log. */
  hotfix_options_destroy(options);
  hotfix_options_destroy(options);
  CHECK(log_calls == 1);
  CHECK(hotfix_set_log_callback(NULL, NULL, HOTFIX_LOG_WARNING) == HOTFIX_OK);
}

/* A failing guarded path trips the flag's local guard: the fallback is
 * served with HOTFIX_REASON_GUARD_TRIPPED and the status names the trip. */
static void ReportedFailuresTripTheGuard(void) {
  static const char kGuarded[] =
      "{\"version\": 1, \"flags\": {\"fix\": {\"variants\": {\"on\": true, "
      "\"off\": false}, \"off_variant\": \"off\", \"default\": \"on\", "
      "\"guard\": {\"max_failure_rate\": 0.2, \"min_samples\": 10}}}}";
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = NULL;
  hotfix_detail_t* detail = hotfix_detail_create();
  hotfix_client_status_t* status = NULL;
  int i;
  int tripped = 0;
  CHECK(hotfix_options_set_bootstrap_json(options, kGuarded) == HOTFIX_OK);
  CHECK(hotfix_options_set_guard_interval_ms(options, 5) == HOTFIX_OK);
  CHECK(hotfix_options_set_telemetry_instance(options, "c-test") == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, NULL) == HOTFIX_OK);
  hotfix_options_destroy(options);
  for (i = 0; i < 10; ++i) hotfix_client_report(client, "fix", i % 2, NULL);
  /* The guard thread judges every 5 ms; wait at most 20 s. */
  for (i = 0; i < 20000 && !tripped; ++i) {
    CHECK(hotfix_client_evaluate(client, "fix", NULL, HOTFIX_VALUE_NONE,
                                 detail) == HOTFIX_OK);
    tripped = hotfix_detail_reason(detail) == HOTFIX_REASON_GUARD_TRIPPED;
    if (!tripped) poll(NULL, 0, 1); /* 1 ms */
  }
  CHECK(tripped);
  CHECK(hotfix_client_enabled(client, "fix", NULL) == 0);
  CHECK(hotfix_client_get_status(client, &status, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_status_guard_trip_count(status) == 1);
  CHECK_STREQ(hotfix_client_status_guard_trip_flag(status, 0), "fix");
  CHECK_STREQ(hotfix_client_status_guard_trip_variant(status, 0), "on");
  CHECK(strstr(hotfix_client_status_guard_trip_detail(status, 0),
               "limit 20%") != NULL);
  CHECK(hotfix_client_status_guard_trip_flag(status, 1) == NULL);
  CHECK(hotfix_client_status_telemetry_dropped(status) == 0);
  hotfix_client_status_destroy(status);
  hotfix_detail_destroy(detail);
  hotfix_client_destroy(client);
}

int main(void) {
  RUN(EnabledServesBooleanFlags);
  RUN(ContextAttributesDriveRules);
  RUN(ContextCopiesItsStrings);
  RUN(KeyAttributeIsTheContextKey);
  RUN(TypedGettersServeValuesOrDefaults);
  RUN(EvaluateExplainsTheAnswer);
  RUN(FlagHandlesMatchClientResults);
  RUN(PublishCallsChangeListeners);
  RUN(StatusDescribesTheSource);
  RUN(ClientWithoutFlagsServesDefaults);
  RUN(SilentServerNeverBlocksCreation);
  RUN(AddedServersAreFollowed);
  RUN(NamesMatchTheDocumentedSpelling);
  RUN(ValidateAcceptsGoodDocuments);
  RUN(FlagdDefinitionsEvaluate);
  RUN(LogCallbackReceivesLibraryMessages);
  RUN(ReportedFailuresTripTheGuard);
  return check_failures == 0 ? 0 : 1;
}
