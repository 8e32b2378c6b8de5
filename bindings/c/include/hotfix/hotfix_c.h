/* include/hotfix/hotfix_c.h
 *
 * The C API of hotfix: a stable C ABI over the same compiled-snapshot core as
 * the C++ API (hotfix/client.h), for services written in C and for other
 * languages' foreign-function interfaces. The header is C89-clean apart from
 * <stdint.h> (C99), and compiles as C++.
 *
 * Example:
 *
 *   hotfix_options_t* options = hotfix_options_create();
 *   hotfix_options_set_server_url(options, "https://flags.internal:8420");
 *   hotfix_options_set_sdk_key(options, sdk_key);
 *   hotfix_options_set_cache_path(options, "/var/cache/myservice/flags.json");
 *   hotfix_client_t* flags = NULL;
 *   char* err = NULL;
 *   if (hotfix_client_create(options, &flags, &err) != HOTFIX_OK) {
 *     fprintf(stderr, "flags: %s\n", err);
 *     hotfix_free(err);
 *     exit(1);
 *   }
 *   hotfix_options_destroy(options);
 *   if (hotfix_client_enabled(flags, "fix-123", NULL)) new_code_path();
 *   else old_code_path();
 *   hotfix_client_destroy(flags);
 *
 * Conventions that hold for every function below:
 *
 * Ownership. Every handle type is opaque. A handle the caller *owns* was
 * returned by a hotfix_*_create function (or by an out-parameter documented as
 * "caller owns") and must be released with the matching hotfix_*_destroy.
 * hotfix_*_destroy(NULL) is always a no-op. Destroying a client, options
 * object or flag handle that is not live (destroyed already) is detected: the
 * call is ignored and an error logged, unless a new handle of the same kind
 * has since been created at the same address. Destroying any other handle
 * twice, or using any handle after destroying it, is undefined behaviour.
 *
 * Borrowed strings. `const char*` arguments are only read during the call:
 * the library copies what it keeps. `const char*` results say how long they
 * live: strings served by an evaluation (string values, JSON text, variant
 * names) live as long as the client that served them, and are NUL-terminated;
 * everything else is stated per function.
 *
 * Errors. No C++ exception ever crosses this API. A function that can fail
 * returns a hotfix_code_t (HOTFIX_OK == 0 on success). Those ending in
 * `char** errptr` also explain failures: if `errptr` is not NULL, *errptr is
 * set to NULL on success, and on failure to a malloc()ed, NUL-terminated
 * message naming the problem (e.g. "bootstrap: flags.fix-123.default: unknown
 * variant \"onn\""), which the caller owns and frees with hotfix_free(). An
 * old value of *errptr is overwritten, never freed. Invalid arguments (NULL
 * where a value is required) return HOTFIX_INVALID_ARGUMENT; out of memory
 * returns HOTFIX_RESOURCE_EXHAUSTED.
 *
 * Evaluation never fails. hotfix_client_enabled and the getters return the
 * caller's default (false for enabled) for an unknown flag, a killed flag
 * without an off variant, a type mismatch, no flags yet, or NULL arguments.
 * They never block, never allocate and never call back into the application.
 *
 * Thread safety. A client and its flag handles may be used from any number of
 * threads at once. Options, contexts, details and status objects are
 * thread-compatible: build or fill one in one thread, then share it read-only.
 *
 * ABI. Every enum value below is fixed forever; new values and new functions
 * may be added, nothing is renumbered or removed within a major version.
 * Structures are never exposed, so fields can be added without breaking
 * binaries.
 */

#ifndef HOTFIX_HOTFIX_C_H_
#define HOTFIX_HOTFIX_C_H_

#include <stddef.h>
#include <stdint.h>

#if defined(HOTFIX_C_SHARED_LIBRARY) && defined(HOTFIX_C_COMPILING_LIBRARY)
#define HOTFIX_C_EXPORT __attribute__((visibility("default")))
#else
#define HOTFIX_C_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Incremented when functions or enum values are added. */
#define HOTFIX_C_API_VERSION 1

/* ------------------------------------------------------------------ enums */

/* Result of a fallible call: the canonical status codes (absl::StatusCode,
 * google.rpc.Code), same numbers. */
typedef enum hotfix_code_t {
  HOTFIX_OK = 0,
  HOTFIX_CANCELLED = 1,
  HOTFIX_UNKNOWN = 2,
  HOTFIX_INVALID_ARGUMENT = 3,
  HOTFIX_DEADLINE_EXCEEDED = 4,
  HOTFIX_NOT_FOUND = 5,
  HOTFIX_ALREADY_EXISTS = 6,
  HOTFIX_PERMISSION_DENIED = 7,
  HOTFIX_RESOURCE_EXHAUSTED = 8,
  HOTFIX_FAILED_PRECONDITION = 9,
  HOTFIX_ABORTED = 10,
  HOTFIX_OUT_OF_RANGE = 11,
  HOTFIX_UNIMPLEMENTED = 12,
  HOTFIX_INTERNAL = 13,
  HOTFIX_UNAVAILABLE = 14,
  HOTFIX_DATA_LOSS = 15,
  HOTFIX_UNAUTHENTICATED = 16
} hotfix_code_t;

/* Type of a flag's variants (hotfix::ValueType). */
typedef enum hotfix_value_type_t {
  HOTFIX_VALUE_NONE = 0, /* no value: the caller's default applies */
  HOTFIX_VALUE_BOOL = 1,
  HOTFIX_VALUE_STRING = 2,
  HOTFIX_VALUE_NUMBER = 3,
  HOTFIX_VALUE_JSON = 4 /* object or array, as serialized JSON text */
} hotfix_value_type_t;

/* Why a value was served (hotfix::Reason; docs/flag-format.md). */
typedef enum hotfix_reason_t {
  HOTFIX_REASON_STATIC = 0,
  HOTFIX_REASON_TARGET_MATCH = 1,
  HOTFIX_REASON_RULE_MATCH = 2,
  HOTFIX_REASON_ROLLOUT = 3,
  HOTFIX_REASON_DEFAULT = 4,
  HOTFIX_REASON_KILLED = 5,
  HOTFIX_REASON_PREREQUISITE_FAILED = 6,
  HOTFIX_REASON_ERROR = 7, /* see hotfix_error_kind_t */
  /* The flag's local guard tripped in this process: its fallback variant is
   * served until the server publishes a new definition of the flag. */
  HOTFIX_REASON_GUARD_TRIPPED = 8
} hotfix_reason_t;

/* What went wrong when the reason is HOTFIX_REASON_ERROR
 * (hotfix::ErrorKind). */
typedef enum hotfix_error_kind_t {
  HOTFIX_ERROR_NONE = 0,
  HOTFIX_ERROR_FLAG_NOT_FOUND = 1,
  HOTFIX_ERROR_TYPE_MISMATCH = 2,
  HOTFIX_ERROR_NOT_READY = 3, /* no flags yet (or a NULL client) */
  HOTFIX_ERROR_MISSING_BUCKET_KEY = 4,
  HOTFIX_ERROR_GENERAL = 5 /* a flagd targeting rule failed or named an
                              unknown variant */
} hotfix_error_kind_t;

/* Where the flags being served came from (hotfix::SnapshotOrigin). */
typedef enum hotfix_origin_t {
  HOTFIX_ORIGIN_NONE = 0,
  HOTFIX_ORIGIN_BOOTSTRAP = 1,
  HOTFIX_ORIGIN_CACHE = 2,
  HOTFIX_ORIGIN_FILE = 3,
  HOTFIX_ORIGIN_POLL = 4,
  HOTFIX_ORIGIN_STREAM = 5,
  HOTFIX_ORIGIN_TEST = 6 /* hotfix_client_publish */
} hotfix_origin_t;

/* Health of the client's sources (hotfix::SourceState). */
typedef enum hotfix_source_state_t {
  HOTFIX_STATE_INITIALIZING = 0,
  HOTFIX_STATE_VALID = 1,
  HOTFIX_STATE_STALE = 2,
  HOTFIX_STATE_ERROR = 3,
  HOTFIX_STATE_OFF = 4
} hotfix_source_state_t;

/* How the remote source keeps the flags current (hotfix::RemoteMode). */
typedef enum hotfix_remote_mode_t {
  HOTFIX_REMOTE_STREAMING = 0, /* SSE stream, polling while it is down */
  HOTFIX_REMOTE_POLLING = 1,   /* GET /v1/flags every poll interval */
  HOTFIX_REMOTE_OFF = 2        /* no remote source even with a URL */
} hotfix_remote_mode_t;

/* What the remote source is doing (hotfix::RemoteConnection). */
typedef enum hotfix_connection_t {
  HOTFIX_CONNECTION_NONE = 0, /* no remote source */
  HOTFIX_CONNECTION_CONNECTING = 1,
  HOTFIX_CONNECTION_STREAMING = 2,
  HOTFIX_CONNECTION_POLLING = 3
} hotfix_connection_t;

/* What the compiler does with an operator it does not know
 * (hotfix::UnknownOperatorPolicy). */
typedef enum hotfix_unknown_operators_t {
  HOTFIX_UNKNOWN_OPERATORS_REJECT = 0,     /* a compile error (default) */
  HOTFIX_UNKNOWN_OPERATORS_FAIL_CLOSED = 1 /* the clause never matches */
} hotfix_unknown_operators_t;

/* Severity of a library log message (hotfix::LogLevel). */
typedef enum hotfix_log_level_t {
  HOTFIX_LOG_DEBUG = 0,
  HOTFIX_LOG_INFO = 1,
  HOTFIX_LOG_WARNING = 2,
  HOTFIX_LOG_ERROR = 3
} hotfix_log_level_t;

/* ------------------------------------------------------------------ handles */

typedef struct hotfix_options_t hotfix_options_t;
typedef struct hotfix_client_t hotfix_client_t;
typedef struct hotfix_context_t hotfix_context_t;
typedef struct hotfix_flag_t hotfix_flag_t;
typedef struct hotfix_detail_t hotfix_detail_t;
typedef struct hotfix_client_status_t hotfix_client_status_t;
typedef struct hotfix_change_event_t hotfix_change_event_t;

/* ------------------------------------------------------------------ library */

/* The library version, e.g. "0.1.0". A static string. */
HOTFIX_C_EXPORT const char* hotfix_version(void);

/* Frees memory the library handed to the caller (error messages). NULL is a
 * no-op. */
HOTFIX_C_EXPORT void hotfix_free(void* ptr);

/* Names as written in docs/flag-format.md and the C++ API: "INVALID_ARGUMENT",
 * "bool", "RULE_MATCH", "FLAG_NOT_FOUND", "file", "valid". Static strings;
 * "UNKNOWN" (or "unknown") for a value this version does not know. */
HOTFIX_C_EXPORT const char* hotfix_code_name(hotfix_code_t code);
HOTFIX_C_EXPORT const char* hotfix_value_type_name(hotfix_value_type_t type);
HOTFIX_C_EXPORT const char* hotfix_reason_name(hotfix_reason_t reason);
HOTFIX_C_EXPORT const char* hotfix_error_kind_name(hotfix_error_kind_t kind);
HOTFIX_C_EXPORT const char* hotfix_origin_name(hotfix_origin_t origin);
HOTFIX_C_EXPORT const char* hotfix_source_state_name(
    hotfix_source_state_t state);
HOTFIX_C_EXPORT const char* hotfix_connection_name(
    hotfix_connection_t connection);

/* hotfix_validate()
 *
 * Compiles `json` as a native flag-set document (docs/flag-format.md) with the
 * default compiler options and throws the result away: HOTFIX_OK if it is
 * valid, else HOTFIX_INVALID_ARGUMENT with a message naming the JSON path and
 * the problem.
 *
 * Cost: a full compile (about 2 us per simple flag). */
HOTFIX_C_EXPORT hotfix_code_t hotfix_validate(const char* json, char** errptr);

/* hotfix_set_log_callback()
 *
 * Routes the library's warnings and errors (by default written to stderr) to
 * `callback`, which receives `user_data`, the level and a NUL-terminated
 * message valid during the call. Messages below `min_level` are dropped. A
 * NULL callback restores the default. The callback may run on any library
 * thread, concurrently, and must not call back into hotfix. Process-wide. */
typedef void (*hotfix_log_callback_t)(void* user_data, hotfix_log_level_t level,
                                      const char* message);
HOTFIX_C_EXPORT hotfix_code_t
hotfix_set_log_callback(hotfix_log_callback_t callback, void* user_data,
                        hotfix_log_level_t min_level);

/* ------------------------------------------------------------------ options */

/* Options for hotfix_client_create (hotfix::ClientOptions). Every setter
 * copies its string argument (NULL clears the setting) and returns
 * HOTFIX_INVALID_ARGUMENT for a NULL `options` or an out-of-range value.
 * Values are checked together when the client is created. */

/* Returns a new options object with every default set; caller owns (destroy
 * with hotfix_options_destroy). NULL only when out of memory. */
HOTFIX_C_EXPORT hotfix_options_t* hotfix_options_create(void);
HOTFIX_C_EXPORT void hotfix_options_destroy(hotfix_options_t* options);

/* A flag set compiled into the client at creation and served until a source
 * delivers something. Must be valid if set: hotfix_client_create fails
 * otherwise. Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_bootstrap_json(hotfix_options_t* options, const char* json);
/* Loads the bootstrap document from this file instead (read once at
 * creation; exclusive with the bootstrap JSON). Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_bootstrap_path(hotfix_options_t* options, const char* path);
/* A local flag file, reloaded when it changes; a bad edit keeps the last good
 * flags and is reported by hotfix_client_get_status. Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_file_path(hotfix_options_t* options, const char* path);
/* How often the flag file is checked for changes, in milliseconds; 0 loads it
 * once and never watches. Negative: HOTFIX_INVALID_ARGUMENT. Default: 500. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_file_poll_interval_ms(
    hotfix_options_t* options, int64_t interval_ms);
/* Flag files (and the bootstrap file) larger than this are rejected. Must be
 * positive. Default: 16 MiB. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_file_max_bytes(hotfix_options_t* options, size_t max_bytes);
/* The remote source: a hotfixd server (or anything speaking
 * docs/protocol.md) at `url`, "http://host[:port][/prefix]" or "https://...".
 * Used when set and the mode is not HOTFIX_REMOTE_OFF. Creation never waits
 * for it: use hotfix_client_wait_until_ready. Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_server_url(hotfix_options_t* options, const char* url);
/* Adds another server of the same deployment (a hotfixd replica sharing its
 * database), tried after the server URL and earlier additions, in order;
 * NULL removes every added server. When the server followed fails, the
 * client moves to the next one after its jittered backoff and resumes its
 * stream there (hotfix_client_status_server says which it follows). The
 * server URL may be unset when servers were added. Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_add_server_url(hotfix_options_t* options, const char* url);
/* The SDK key, sent as "Authorization: Bearer <key>"; never logged.
 * Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_sdk_key(hotfix_options_t* options, const char* sdk_key);
/* Default: HOTFIX_REMOTE_STREAMING. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_remote_mode(
    hotfix_options_t* options, hotfix_remote_mode_t mode);
/* Polling period (polling mode, and streaming mode while the stream is
 * down), in milliseconds; jittered by +/- 10 %. Must be positive.
 * Default: 30000. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_remote_poll_interval_ms(
    hotfix_options_t* options, int64_t interval_ms);
/* Time allowed to open a connection; longest silence while reading a poll's
 * response; longest silence on a stream (heartbeats included) before it is
 * declared dead. Milliseconds, positive. Defaults: 5000, 10000, 45000. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_connect_timeout_ms(
    hotfix_options_t* options, int64_t timeout_ms);
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_read_timeout_ms(
    hotfix_options_t* options, int64_t timeout_ms);
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_heartbeat_timeout_ms(
    hotfix_options_t* options, int64_t timeout_ms);
/* Verify the server's TLS certificate and host name (0: do not; only for
 * tests). Default: 1. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_verify_tls(hotfix_options_t* options, int verify);
/* PEM file of trusted CA certificates for https. Default: the system's. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_ca_file(hotfix_options_t* options, const char* path);
/* Last-known-good cache file: every flag set accepted from the server is
 * written here atomically, and served at creation (before any bootstrap)
 * until the server answers. Default: none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_cache_path(hotfix_options_t* options, const char* path);
/* Default: HOTFIX_UNKNOWN_OPERATORS_REJECT. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_unknown_operators(
    hotfix_options_t* options, hotfix_unknown_operators_t policy);
/* Exposure and outcome counting, local guards and telemetry
 * (docs/guarded-rollouts.md). `on`: 1 counts (the default), 0 counts nothing
 * (hotfix_client_report does nothing, guards never trip, nothing is sent). */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_counting(hotfix_options_t* options, int on);
/* Post the counts to the remote source's /v1/telemetry: 1 (the default when
 * a remote base URL is set) or 0. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_options_set_telemetry_send(hotfix_options_t* options, int on);
/* How often counts are posted, in milliseconds (> 0). Default: 5000. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_telemetry_flush_interval_ms(
    hotfix_options_t* options, int64_t interval_ms);
/* How often local guards are judged, in milliseconds (> 0). Default: 100. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_guard_interval_ms(
    hotfix_options_t* options, int64_t interval_ms);
/* This process's name in posts (at most 256 bytes). Default: host-pid. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_telemetry_instance(
    hotfix_options_t* options, const char* instance);
/* Documents larger than this are rejected by the compiler. Default: 64 MiB. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_options_set_max_document_bytes(
    hotfix_options_t* options, size_t max_bytes);

/* ------------------------------------------------------------------ client */

/* hotfix_client_create()
 *
 * Builds a client from `options` (only read during the call: the caller may
 * destroy them right after) and starts its sources. Never blocks on the
 * network: local files (cache, bootstrap, flag file) are read before
 * returning, the server is contacted in the background. On success *client
 * receives the new client, which the caller owns (destroy with
 * hotfix_client_destroy); on failure *client is set to NULL. Fails with
 * HOTFIX_INVALID_ARGUMENT on invalid options or an invalid bootstrap document;
 * a missing or bad flag *file* is not an error here but is reported by
 * hotfix_client_get_status and retried. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_client_create(
    const hotfix_options_t* options, hotfix_client_t** client, char** errptr);

/* Stops the sources and frees the client and every snapshot. No other call on
 * the client (or its flag handles) may be running or start afterwards, and it
 * must not be called from a change callback. Strings served by the client die
 * with it. */
HOTFIX_C_EXPORT void hotfix_client_destroy(hotfix_client_t* client);

/* hotfix_client_enabled()
 *
 * Returns 1 if `flag` serves boolean true for `context` (NULL: an empty
 * context), else 0: unknown, killed without an off variant, not boolean, no
 * flags yet, or a NULL client or flag.
 *
 * Cost: one hash lookup plus the flag's rules; no allocation, no lock. */
HOTFIX_C_EXPORT int hotfix_client_enabled(const hotfix_client_t* client,
                                          const char* flag,
                                          const hotfix_context_t* context);

/* Typed getters: the flag's value for `context` (NULL: empty), or
 * `default_value` when the flag is unknown, killed without an off variant, of
 * another type, or an argument is NULL. get_int truncates toward zero and
 * serves the default outside the int64 range. get_string / get_json return
 * either a string owned by the client (valid until the client is destroyed)
 * or `default_value` itself.
 *
 * Cost: as hotfix_client_enabled. */
HOTFIX_C_EXPORT int hotfix_client_get_bool(const hotfix_client_t* client,
                                           const char* flag, int default_value,
                                           const hotfix_context_t* context);
HOTFIX_C_EXPORT const char* hotfix_client_get_string(
    const hotfix_client_t* client, const char* flag, const char* default_value,
    const hotfix_context_t* context);
HOTFIX_C_EXPORT int64_t hotfix_client_get_int(const hotfix_client_t* client,
                                              const char* flag,
                                              int64_t default_value,
                                              const hotfix_context_t* context);
HOTFIX_C_EXPORT double hotfix_client_get_double(
    const hotfix_client_t* client, const char* flag, double default_value,
    const hotfix_context_t* context);
/* The JSON variant's serialized text. */
HOTFIX_C_EXPORT const char* hotfix_client_get_json(
    const hotfix_client_t* client, const char* flag, const char* default_value,
    const hotfix_context_t* context);

/* hotfix_client_evaluate()
 *
 * Evaluates `flag` for `context` (NULL: empty) and stores the full story in
 * `detail` (value, variant, reason, error kind, rule index, version; see the
 * accessors below). `expected` other than HOTFIX_VALUE_NONE turns a type
 * difference into HOTFIX_REASON_ERROR / HOTFIX_ERROR_TYPE_MISMATCH.
 * Returns HOTFIX_OK, or HOTFIX_INVALID_ARGUMENT if `detail` is NULL, or if
 * `client` or `flag` is NULL (then `detail` says HOTFIX_REASON_ERROR with
 * HOTFIX_ERROR_NOT_READY or HOTFIX_ERROR_FLAG_NOT_FOUND).
 *
 * Cost: as hotfix_client_enabled; `detail` is reused, nothing is allocated. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_client_evaluate(const hotfix_client_t* client, const char* flag,
                       const hotfix_context_t* context,
                       hotfix_value_type_t expected, hotfix_detail_t* detail);

/* hotfix_client_report()
 *
 * Records one outcome (`ok` nonzero: success, 0: failure) of work done under
 * `flag`, for the variant `flag` serves `context` (NULL: empty) now. The
 * outcomes feed the flag's local guard and the counts sent to the server.
 * Does nothing when counting is off, the flag serves no variant, or `client`
 * or `flag` is NULL.
 *
 * Cost: as hotfix_client_enabled, plus a store to the calling thread's own
 * counters; no lock (a thread's first count allocates its counters once). */
HOTFIX_C_EXPORT void hotfix_client_report(const hotfix_client_t* client,
                                          const char* flag, int ok,
                                          const hotfix_context_t* context);

/* Version of the flag set being served; 0 when none (or a NULL client).
 * Cost: one atomic load. */
HOTFIX_C_EXPORT uint64_t hotfix_client_version(const hotfix_client_t* client);

/* Blocks until flags are being served or `timeout_ms` passes; returns 1 if
 * they are, else 0 (also for a NULL client). Flags arriving later are still
 * applied. */
HOTFIX_C_EXPORT int hotfix_client_wait_until_ready(
    const hotfix_client_t* client, int64_t timeout_ms);

/* hotfix_client_get_status()
 *
 * Stores in *status a copy of the client's source health, which the caller
 * owns (destroy with hotfix_client_status_destroy); *status is NULL on
 * failure. Cost: a lock and a copy. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_client_get_status(const hotfix_client_t* client,
                         hotfix_client_status_t** status, char** errptr);

/* hotfix_client_after_fork()
 *
 * Call in the child after fork() (not needed before exec): restarts the
 * background threads fork() did not copy, so the child's flags keep following
 * their sources. Flags already loaded are served either way. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_client_after_fork(hotfix_client_t* client);

/* hotfix_client_publish()
 *
 * Compiles `json` and serves it (origin HOTFIX_ORIGIN_TEST) as if a source had
 * delivered it, calling the change callbacks on the calling thread. For tests
 * and for embedders that fetch flags themselves. A document that fails to
 * compile changes nothing: HOTFIX_INVALID_ARGUMENT with the compiler's
 * message. Called from inside a change callback: HOTFIX_FAILED_PRECONDITION. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_client_publish(hotfix_client_t* client,
                                                    const char* json,
                                                    char** errptr);

/* ------------------------------------------------------------------ changes */

/* hotfix_client_add_listener()
 *
 * Registers `callback`, called with `user_data` once per flag set accepted
 * after this call that changes any flag (not for one accepted before, even if
 * its delivery to older listeners is still under way), on the thread that
 * accepted it: a source's
 * background thread (the file watcher), or the thread calling
 * hotfix_client_publish. Calls are serialized, never on the evaluation path.
 * The callback may evaluate flags and call hotfix_client_remove_listener; it
 * must not destroy the client or publish. `event` and every string it holds
 * are valid only during the call. On success *listener_id receives an id for
 * hotfix_client_remove_listener. `user_data` is not owned by the library. */
typedef void (*hotfix_change_callback_t)(void* user_data,
                                         const hotfix_change_event_t* event);
HOTFIX_C_EXPORT hotfix_code_t hotfix_client_add_listener(
    hotfix_client_t* client, hotfix_change_callback_t callback, void* user_data,
    int* listener_id, char** errptr);

/* Unregisters a listener; when it returns (outside a callback) the callback is
 * not running and will not be called again, so its user_data may be freed.
 * An unknown id is ignored. HOTFIX_INVALID_ARGUMENT for a NULL client. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_client_remove_listener(hotfix_client_t* client, int listener_id);

/* Accessors of a change event (0 / NULL for a NULL event). The keys whose
 * evaluation may differ (added, removed or changed flags and their
 * dependents) are sorted; hotfix_change_event_key returns NULL for an index
 * out of range. */
HOTFIX_C_EXPORT uint64_t
hotfix_change_event_old_version(const hotfix_change_event_t* event);
HOTFIX_C_EXPORT uint64_t
hotfix_change_event_new_version(const hotfix_change_event_t* event);
HOTFIX_C_EXPORT hotfix_origin_t
hotfix_change_event_origin(const hotfix_change_event_t* event);
HOTFIX_C_EXPORT size_t
hotfix_change_event_key_count(const hotfix_change_event_t* event);
HOTFIX_C_EXPORT const char* hotfix_change_event_key(
    const hotfix_change_event_t* event, size_t index);

/* ------------------------------------------------------------------ contexts
 */

/* A context: the key (user id, request id, tenant...) and typed attributes
 * that rules test. Unlike the C++ hotfix::Context it *copies* every string,
 * so arguments may be freed right after each call. Reuse one per thread with
 * hotfix_context_clear to avoid allocating per request.
 *
 * Setters add or replace the attribute `name`; the attribute named "key" is
 * the context key (set_string("key", v) is set_key(v); a number or bool
 * "key" is HOTFIX_INVALID_ARGUMENT). They return HOTFIX_INVALID_ARGUMENT for
 * a NULL context, name or string value, and HOTFIX_RESOURCE_EXHAUSTED when
 * out of memory.
 *
 * Cost: a linear scan over the attributes and a string copy. */

/* Returns a new context with `key` (NULL: no key); caller owns (destroy with
 * hotfix_context_destroy). NULL only when out of memory. */
HOTFIX_C_EXPORT hotfix_context_t* hotfix_context_create(const char* key);
HOTFIX_C_EXPORT void hotfix_context_destroy(hotfix_context_t* context);
/* Removes the key and every attribute, keeping the memory for reuse. */
HOTFIX_C_EXPORT void hotfix_context_clear(hotfix_context_t* context);
HOTFIX_C_EXPORT hotfix_code_t hotfix_context_set_key(hotfix_context_t* context,
                                                     const char* key);
HOTFIX_C_EXPORT hotfix_code_t hotfix_context_set_string(
    hotfix_context_t* context, const char* name, const char* value);
HOTFIX_C_EXPORT hotfix_code_t hotfix_context_set_number(
    hotfix_context_t* context, const char* name, double value);
/* `value`: 0 is false, anything else true. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_context_set_bool(hotfix_context_t* context,
                                                      const char* name,
                                                      int value);

/* ------------------------------------------------------------------ handles */

/* hotfix_client_flag()
 *
 * Resolves `key` once; the handle follows every later flag set. On success
 * *flag receives the handle, which the caller owns (destroy with
 * hotfix_flag_destroy, before or after the client); it may be used only while
 * its client lives.
 *
 * Cost: a lock and, the first time per key, an allocation. Create handles at
 * start-up and keep them. */
HOTFIX_C_EXPORT hotfix_code_t hotfix_client_flag(hotfix_client_t* client,
                                                 const char* key,
                                                 hotfix_flag_t** flag,
                                                 char** errptr);
HOTFIX_C_EXPORT void hotfix_flag_destroy(hotfix_flag_t* flag);
/* The handle's flag key; valid while the handle lives. NULL for NULL. */
HOTFIX_C_EXPORT const char* hotfix_flag_key(const hotfix_flag_t* flag);

/* Same results as the hotfix_client_* functions for the handle's key.
 *
 * Cost: hotfix_flag_enabled on a flag whose value does not depend on the
 * context (static, killed, unknown) is one atomic load; otherwise as
 * hotfix_client_enabled without the hash lookup. */
HOTFIX_C_EXPORT int hotfix_flag_enabled(const hotfix_flag_t* flag,
                                        const hotfix_context_t* context);
HOTFIX_C_EXPORT int hotfix_flag_get_bool(const hotfix_flag_t* flag,
                                         int default_value,
                                         const hotfix_context_t* context);
HOTFIX_C_EXPORT const char* hotfix_flag_get_string(
    const hotfix_flag_t* flag, const char* default_value,
    const hotfix_context_t* context);
HOTFIX_C_EXPORT int64_t hotfix_flag_get_int(const hotfix_flag_t* flag,
                                            int64_t default_value,
                                            const hotfix_context_t* context);
HOTFIX_C_EXPORT double hotfix_flag_get_double(const hotfix_flag_t* flag,
                                              double default_value,
                                              const hotfix_context_t* context);
HOTFIX_C_EXPORT const char* hotfix_flag_get_json(
    const hotfix_flag_t* flag, const char* default_value,
    const hotfix_context_t* context);
HOTFIX_C_EXPORT hotfix_code_t
hotfix_flag_evaluate(const hotfix_flag_t* flag, const hotfix_context_t* context,
                     hotfix_value_type_t expected, hotfix_detail_t* detail);

/* ------------------------------------------------------------------ details */

/* The result of one evaluation, filled by hotfix_client_evaluate or
 * hotfix_flag_evaluate; reusable. A new detail says HOTFIX_REASON_ERROR /
 * HOTFIX_ERROR_NOT_READY. Strings it returns belong to the client that filled
 * it (valid until that client is destroyed), not to the detail. Accessors
 * return 0 / NULL for a NULL detail. */

/* Caller owns (destroy with hotfix_detail_destroy). NULL only when out of
 * memory. */
HOTFIX_C_EXPORT hotfix_detail_t* hotfix_detail_create(void);
HOTFIX_C_EXPORT void hotfix_detail_destroy(hotfix_detail_t* detail);

/* HOTFIX_VALUE_NONE when the caller's default applies (errors, and killed
 * flags without an off variant). */
HOTFIX_C_EXPORT hotfix_value_type_t
hotfix_detail_value_type(const hotfix_detail_t* detail);
/* The value when it is a bool: 1 or 0. */
HOTFIX_C_EXPORT int hotfix_detail_bool_value(const hotfix_detail_t* detail);
/* The value when it is a number. */
HOTFIX_C_EXPORT double hotfix_detail_number_value(
    const hotfix_detail_t* detail);
/* The value when it is a string or JSON text (NUL-terminated; if `length` is
 * not NULL it receives the length, which counts embedded NULs); NULL for
 * other types. */
HOTFIX_C_EXPORT const char* hotfix_detail_string_value(
    const hotfix_detail_t* detail, size_t* length);
/* The variant served; "" when none. */
HOTFIX_C_EXPORT const char* hotfix_detail_variant(
    const hotfix_detail_t* detail);
HOTFIX_C_EXPORT hotfix_reason_t
hotfix_detail_reason(const hotfix_detail_t* detail);
HOTFIX_C_EXPORT hotfix_error_kind_t
hotfix_detail_error(const hotfix_detail_t* detail);
/* Index of the matching rule for HOTFIX_REASON_RULE_MATCH, else -1. */
HOTFIX_C_EXPORT int hotfix_detail_rule_index(const hotfix_detail_t* detail);
/* Version of the flag set that answered; 0 when there was none. */
HOTFIX_C_EXPORT uint64_t hotfix_detail_version(const hotfix_detail_t* detail);

/* ------------------------------------------------------------------ status */

/* A copy of a client's source health, from hotfix_client_get_status. Times
 * are Unix microseconds, 0 for "never". Accessors return 0 / NULL for a NULL
 * status. */
HOTFIX_C_EXPORT void hotfix_client_status_destroy(
    hotfix_client_status_t* status);
HOTFIX_C_EXPORT hotfix_source_state_t
hotfix_client_status_state(const hotfix_client_status_t* status);
HOTFIX_C_EXPORT hotfix_origin_t
hotfix_client_status_origin(const hotfix_client_status_t* status);
/* Version of the flag set being served; 0 when none. */
HOTFIX_C_EXPORT uint64_t
hotfix_client_status_version(const hotfix_client_status_t* status);
/* When the flag set being served was accepted. */
HOTFIX_C_EXPORT int64_t
hotfix_client_status_snapshot_time_us(const hotfix_client_status_t* status);
/* Last successful source attempt (including "unchanged"). */
HOTFIX_C_EXPORT int64_t
hotfix_client_status_last_success_us(const hotfix_client_status_t* status);
/* The last source error since the last success: its code (HOTFIX_OK if none)
 * and message ("" if none; valid while the status object lives). */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_client_status_last_error_code(const hotfix_client_status_t* status);
HOTFIX_C_EXPORT const char* hotfix_client_status_last_error(
    const hotfix_client_status_t* status);
HOTFIX_C_EXPORT int64_t
hotfix_client_status_last_error_time_us(const hotfix_client_status_t* status);
/* 1 while the last error is a configuration problem retrying will not fix
 * (the server answered 401, 403 or 404: wrong key or URL), else 0. */
HOTFIX_C_EXPORT int hotfix_client_status_config_error(
    const hotfix_client_status_t* status);
/* What the remote source is doing. */
HOTFIX_C_EXPORT hotfix_connection_t
hotfix_client_status_connection(const hotfix_client_status_t* status);
/* The base URL of the server the remote source follows ("" until one has
 * answered; valid while the status object lives). */
HOTFIX_C_EXPORT const char* hotfix_client_status_server(
    const hotfix_client_status_t* status);
/* The last document a source delivered and the client refused (invalid,
 * older, a patch that does not apply); unlike the last error it survives
 * later successes. Code HOTFIX_OK and message "" if none. */
HOTFIX_C_EXPORT hotfix_code_t
hotfix_client_status_last_rejection_code(const hotfix_client_status_t* status);
HOTFIX_C_EXPORT const char* hotfix_client_status_last_rejection(
    const hotfix_client_status_t* status);
HOTFIX_C_EXPORT int64_t hotfix_client_status_last_rejection_time_us(
    const hotfix_client_status_t* status);
/* Flags whose local guard tripped in this process (sorted by flag), and for
 * the i-th (0-based) its flag, the variant no longer served, and a sentence
 * with the numbers. Strings are valid while the status object lives; NULL
 * for an index out of range. */
HOTFIX_C_EXPORT size_t
hotfix_client_status_guard_trip_count(const hotfix_client_status_t* status);
HOTFIX_C_EXPORT const char* hotfix_client_status_guard_trip_flag(
    const hotfix_client_status_t* status, size_t i);
HOTFIX_C_EXPORT const char* hotfix_client_status_guard_trip_variant(
    const hotfix_client_status_t* status, size_t i);
HOTFIX_C_EXPORT const char* hotfix_client_status_guard_trip_detail(
    const hotfix_client_status_t* status, size_t i);
/* Telemetry: posts the server accepted, and exposures and outcomes dropped
 * without being sent. */
HOTFIX_C_EXPORT uint64_t
hotfix_client_status_telemetry_posts(const hotfix_client_status_t* status);
HOTFIX_C_EXPORT uint64_t
hotfix_client_status_telemetry_dropped(const hotfix_client_status_t* status);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HOTFIX_HOTFIX_C_H_ */
