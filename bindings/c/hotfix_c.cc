// bindings/c/hotfix_c.cc
//
// The C API (include/hotfix/hotfix_c.h) over hotfix::Client. Every entry point
// either calls only noexcept core functions or catches every exception, so
// nothing unwinds into C. Handle structs are thin wrappers around the C++
// objects; the evaluation paths add a NULL check and nothing else.
//
// Returned strings: everything an evaluation serves (variant names, string
// and JSON values) is interned in the client's StringPool as std::string
// elements, so the views are NUL-terminated and live as long as the client.

#include "hotfix/hotfix_c.h"

#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hotfix/client.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/log.h"
#include "hotfix/options.h"
#include "hotfix/snapshot.h"
#include "hotfix/value.h"

// ---------------------------------------------------------------- handles

struct hotfix_options_t {
  hotfix::ClientOptions options;
};

struct hotfix_client_t {
  std::unique_ptr<hotfix::Client> client;
};

// Owns copies of every string the Context views. A deque never moves its
// elements on push_back, so the views stay valid; after Clear() the slots are
// reused (assign keeps their capacity) because no view refers to them any
// more.
struct hotfix_context_t {
  hotfix::Context context;
  std::deque<std::string> strings;
  std::size_t used = 0;

  std::string_view Keep(const char* s) {
    if (used < strings.size()) {
      strings[used].assign(s);
    } else {
      strings.emplace_back(s);
    }
    return strings[used++];
  }
  void Clear() {
    context = hotfix::Context();
    used = 0;
  }
};

struct hotfix_flag_t {
  hotfix::FlagHandle handle;
};

struct hotfix_detail_t {
  hotfix::EvaluationDetail detail;
};

struct hotfix_client_status_t {
  hotfix::ClientStatus status;
  std::string last_error;
  std::string last_rejection;
};

struct hotfix_change_event_t {
  const hotfix::ChangeEvent* event;
};

// The frozen C values are the C++ values.
#define HOTFIX_SAME_VALUE(c, cc) \
  static_assert(static_cast<int>(c) == static_cast<int>(cc), #c)
HOTFIX_SAME_VALUE(HOTFIX_OK, absl::StatusCode::kOk);
HOTFIX_SAME_VALUE(HOTFIX_INVALID_ARGUMENT, absl::StatusCode::kInvalidArgument);
HOTFIX_SAME_VALUE(HOTFIX_NOT_FOUND, absl::StatusCode::kNotFound);
HOTFIX_SAME_VALUE(HOTFIX_RESOURCE_EXHAUSTED,
                  absl::StatusCode::kResourceExhausted);
HOTFIX_SAME_VALUE(HOTFIX_FAILED_PRECONDITION,
                  absl::StatusCode::kFailedPrecondition);
HOTFIX_SAME_VALUE(HOTFIX_INTERNAL, absl::StatusCode::kInternal);
HOTFIX_SAME_VALUE(HOTFIX_UNAUTHENTICATED, absl::StatusCode::kUnauthenticated);
HOTFIX_SAME_VALUE(HOTFIX_VALUE_NONE, hotfix::ValueType::kNone);
HOTFIX_SAME_VALUE(HOTFIX_VALUE_BOOL, hotfix::ValueType::kBool);
HOTFIX_SAME_VALUE(HOTFIX_VALUE_STRING, hotfix::ValueType::kString);
HOTFIX_SAME_VALUE(HOTFIX_VALUE_NUMBER, hotfix::ValueType::kNumber);
HOTFIX_SAME_VALUE(HOTFIX_VALUE_JSON, hotfix::ValueType::kJson);
HOTFIX_SAME_VALUE(HOTFIX_REASON_STATIC, hotfix::Reason::kStatic);
HOTFIX_SAME_VALUE(HOTFIX_REASON_TARGET_MATCH, hotfix::Reason::kTargetMatch);
HOTFIX_SAME_VALUE(HOTFIX_REASON_RULE_MATCH, hotfix::Reason::kRuleMatch);
HOTFIX_SAME_VALUE(HOTFIX_REASON_ROLLOUT, hotfix::Reason::kRollout);
HOTFIX_SAME_VALUE(HOTFIX_REASON_DEFAULT, hotfix::Reason::kDefault);
HOTFIX_SAME_VALUE(HOTFIX_REASON_KILLED, hotfix::Reason::kKilled);
HOTFIX_SAME_VALUE(HOTFIX_REASON_PREREQUISITE_FAILED,
                  hotfix::Reason::kPrerequisiteFailed);
HOTFIX_SAME_VALUE(HOTFIX_REASON_ERROR, hotfix::Reason::kError);
HOTFIX_SAME_VALUE(HOTFIX_REASON_GUARD_TRIPPED, hotfix::Reason::kGuardTripped);
HOTFIX_SAME_VALUE(HOTFIX_ERROR_NONE, hotfix::ErrorKind::kNone);
HOTFIX_SAME_VALUE(HOTFIX_ERROR_FLAG_NOT_FOUND,
                  hotfix::ErrorKind::kFlagNotFound);
HOTFIX_SAME_VALUE(HOTFIX_ERROR_TYPE_MISMATCH, hotfix::ErrorKind::kTypeMismatch);
HOTFIX_SAME_VALUE(HOTFIX_ERROR_NOT_READY, hotfix::ErrorKind::kNotReady);
HOTFIX_SAME_VALUE(HOTFIX_ERROR_MISSING_BUCKET_KEY,
                  hotfix::ErrorKind::kMissingBucketKey);
HOTFIX_SAME_VALUE(HOTFIX_ERROR_GENERAL, hotfix::ErrorKind::kGeneral);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_NONE, hotfix::SnapshotOrigin::kNone);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_BOOTSTRAP, hotfix::SnapshotOrigin::kBootstrap);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_CACHE, hotfix::SnapshotOrigin::kCache);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_FILE, hotfix::SnapshotOrigin::kFile);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_POLL, hotfix::SnapshotOrigin::kPoll);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_STREAM, hotfix::SnapshotOrigin::kStream);
HOTFIX_SAME_VALUE(HOTFIX_ORIGIN_TEST, hotfix::SnapshotOrigin::kTest);
HOTFIX_SAME_VALUE(HOTFIX_STATE_INITIALIZING,
                  hotfix::SourceState::kInitializing);
HOTFIX_SAME_VALUE(HOTFIX_STATE_VALID, hotfix::SourceState::kValid);
HOTFIX_SAME_VALUE(HOTFIX_STATE_STALE, hotfix::SourceState::kStale);
HOTFIX_SAME_VALUE(HOTFIX_STATE_ERROR, hotfix::SourceState::kError);
HOTFIX_SAME_VALUE(HOTFIX_STATE_OFF, hotfix::SourceState::kOff);
HOTFIX_SAME_VALUE(HOTFIX_REMOTE_STREAMING, hotfix::RemoteMode::kStreaming);
HOTFIX_SAME_VALUE(HOTFIX_REMOTE_POLLING, hotfix::RemoteMode::kPolling);
HOTFIX_SAME_VALUE(HOTFIX_REMOTE_OFF, hotfix::RemoteMode::kOff);
HOTFIX_SAME_VALUE(HOTFIX_CONNECTION_NONE, hotfix::RemoteConnection::kNone);
HOTFIX_SAME_VALUE(HOTFIX_CONNECTION_CONNECTING,
                  hotfix::RemoteConnection::kConnecting);
HOTFIX_SAME_VALUE(HOTFIX_CONNECTION_STREAMING,
                  hotfix::RemoteConnection::kStreaming);
HOTFIX_SAME_VALUE(HOTFIX_CONNECTION_POLLING,
                  hotfix::RemoteConnection::kPolling);
HOTFIX_SAME_VALUE(HOTFIX_UNKNOWN_OPERATORS_REJECT,
                  hotfix::UnknownOperatorPolicy::kReject);
HOTFIX_SAME_VALUE(HOTFIX_UNKNOWN_OPERATORS_FAIL_CLOSED,
                  hotfix::UnknownOperatorPolicy::kFailClosed);
HOTFIX_SAME_VALUE(HOTFIX_LOG_DEBUG, hotfix::LogLevel::kDebug);
HOTFIX_SAME_VALUE(HOTFIX_LOG_INFO, hotfix::LogLevel::kInfo);
HOTFIX_SAME_VALUE(HOTFIX_LOG_WARNING, hotfix::LogLevel::kWarning);
HOTFIX_SAME_VALUE(HOTFIX_LOG_ERROR, hotfix::LogLevel::kError);
#undef HOTFIX_SAME_VALUE

namespace {

// The handles whose double destroy is detected, one registry per kind:
// long-lived objects, created and destroyed rarely, so a global lock costs
// nothing that matters.
class LiveHandles {
 public:
  enum Kind { kOptions, kClient, kFlag, kKinds };
  static LiveHandles& Get() {
    static LiveHandles* const instance = new LiveHandles();  // never destroyed
    return *instance;
  }
  void Add(Kind kind, const void* p) {
    absl::MutexLock lock(&mu_);
    live_[kind].insert(p);
  }
  // False if `p` is not a live handle of `kind` (destroyed already, or never
  // created).
  bool Remove(Kind kind, const void* p) {
    absl::MutexLock lock(&mu_);
    return live_[kind].erase(p) == 1;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<const void*> live_[kKinds] ABSL_GUARDED_BY(mu_);
};

// Deletes `handle`, a handle of `kind`; NULL is ignored, and a handle that is
// not live (destroyed already, or never created) is left alone and reported
// with `not_live`.
template <typename Handle>
void DestroyLive(LiveHandles::Kind kind, Handle* handle, const char* not_live) {
  if (handle == nullptr) return;
  if (!LiveHandles::Get().Remove(kind, handle)) {
    hotfix::Log(hotfix::LogLevel::kError, not_live);
    return;
  }
  delete handle;
}

// Clients whose change callbacks are running on this thread, innermost last:
// such a client must not be destroyed here (it would join the thread it runs
// on, or be freed under the hotfix_client_publish that called the callback).
thread_local std::vector<const hotfix_client_t*> t_dispatching;

bool DispatchingOnThisThread(const hotfix_client_t* client) {
  for (const hotfix_client_t* c : t_dispatching) {
    if (c == client) return true;
  }
  return false;
}

// C callers may pass any int where an enum is expected; in C++ loading an
// enum object whose value is outside its enumerators' range is undefined, so
// enum parameters are read through their bytes (C enums are int-sized).
template <typename E>
int EnumValue(const E& e) {
  static_assert(sizeof(E) == sizeof(int), "C enums are int-sized");
  int value;
  std::memcpy(&value, &e, sizeof value);
  return value;
}

// A C enum value as a C++ enum class with a uint8_t underlying type; values
// that do not fit become 255, which no enumerator uses.
template <typename CxxEnum, typename E>
CxxEnum ToCxx(const E& e) {
  const int value = EnumValue(e);
  return static_cast<CxxEnum>(value >= 0 && value < 255 ? value : 255);
}

const hotfix::Context& EmptyContext() {
  static const hotfix::Context* const empty = new hotfix::Context();
  return *empty;
}

const hotfix::Context& ContextOf(const hotfix_context_t* context) {
  return context == nullptr ? EmptyContext() : context->context;
}

char* CopyMessage(std::string_view message) {
  char* copy = static_cast<char*>(std::malloc(message.size() + 1));
  if (copy == nullptr) return nullptr;
  std::memcpy(copy, message.data(), message.size());
  copy[message.size()] = '\0';
  return copy;
}

hotfix_code_t Report(const absl::Status& status, char** errptr) {
  if (errptr != nullptr) {
    *errptr = status.ok()
                  ? nullptr
                  : CopyMessage(std::string_view(status.message().data(),
                                                 status.message().size()));
  }
  return static_cast<hotfix_code_t>(status.code());
}

// Runs `body` (returning absl::Status), converting every exception.
template <typename Body>
hotfix_code_t Guarded(const char* function, char** errptr, Body&& body) {
  try {
    return Report(body(), errptr);
  } catch (const std::bad_alloc&) {
    return Report(
        absl::ResourceExhaustedError(absl::StrCat(function, ": out of memory")),
        errptr);
  } catch (const std::exception& e) {
    return Report(absl::InternalError(absl::StrCat(function, ": ", e.what())),
                  errptr);
  } catch (...) {
    return Report(
        absl::InternalError(absl::StrCat(function, ": unknown exception")),
        errptr);
  }
}

absl::Status NullArgument(const char* function, const char* argument) {
  return absl::InvalidArgumentError(
      absl::StrCat(function, ": ", argument, " is NULL"));
}

// A pointer argument that must not be NULL, for Checked().
struct Required {
  template <typename T>
  Required(const char* name, const T& pointer)
      : name(name), given(pointer != nullptr) {}
  const char* name;
  bool given;
};

// Guarded(), after checking `required` in order: the first NULL one is the
// error (NullArgument) and `body` does not run.
template <typename Body>
hotfix_code_t Checked(const char* function, char** errptr,
                      std::initializer_list<Required> required, Body&& body) {
  return Guarded(function, errptr, [&]() -> absl::Status {
    for (const Required& argument : required) {
      if (!argument.given) return NullArgument(function, argument.name);
    }
    return body();
  });
}

// A NULL string option means "unset": the empty string.
const char* OrEmpty(const char* s) { return s == nullptr ? "" : s; }

int64_t UnixMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return 0;
  return absl::ToUnixMicros(t);
}

// String results: a NULL default is represented by an empty view with no
// data, which no served string has.
std::string_view DefaultView(const char* default_value) {
  return default_value == nullptr ? std::string_view()
                                  : std::string_view(default_value);
}
const char* ResultString(std::string_view result, const char* default_value) {
  return result.data() == nullptr ? default_value : result.data();
}

void ResetDetail(hotfix_detail_t* detail, hotfix::ErrorKind error) {
  detail->detail = hotfix::EvaluationDetail();
  detail->detail.reason = hotfix::Reason::kError;
  detail->detail.error = error;
}

// The string `field` of guard trip `i` in `status`; NULL without a status or
// such a trip.
const char* GuardTripString(const hotfix_client_status_t* status, size_t i,
                            std::string hotfix::GuardTrip::*field) {
  if (status == nullptr || i >= status->status.guard_trips.size()) {
    return nullptr;
  }
  return (status->status.guard_trips[i].*field).c_str();
}

const char* Name(std::string_view name) {
  // Every name function returns a string literal.
  return name.data();
}

}  // namespace

namespace {

// Runs `set` on the options (unless `options` is NULL): it returns an
// absl::Status, or nothing when it cannot fail.
template <typename Set>
hotfix_code_t SetOption(const char* function, hotfix_options_t* options,
                        Set&& set) {
  return Checked(
      function, nullptr, {{"options", options}}, [&]() -> absl::Status {
        if constexpr (std::is_void_v<decltype(set(options->options))>) {
          set(options->options);
          return absl::OkStatus();
        } else {
          return set(options->options);
        }
      });
}

// SetOption() for an option that must be positive: unless `positive`, fails
// with "<what>: must be positive" and does not run `set`.
template <typename Set>
hotfix_code_t SetPositive(const char* function, const char* what,
                          hotfix_options_t* options, bool positive, Set&& set) {
  return SetOption(function, options, [&](hotfix::ClientOptions& o) {
    if (!positive) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": must be positive"));
    }
    set(o);
    return absl::OkStatus();
  });
}

// SetPositive() for the duration option `(o.*part).*field`, given in
// milliseconds.
template <typename Part>
hotfix_code_t SetPositiveMs(const char* function, const char* what,
                            hotfix_options_t* options, int64_t ms,
                            Part hotfix::ClientOptions::*part,
                            absl::Duration Part::*field) {
  return SetPositive(function, what, options, ms > 0,
                     [&](hotfix::ClientOptions& o) {
                       (o.*part).*field = absl::Milliseconds(ms);
                     });
}

// Sets the attribute `name` (not "key", which must be a string) of
// `context` with `set(kept_name)`.
template <typename Set>
hotfix_code_t SetAttribute(const char* function, hotfix_context_t* context,
                           const char* name, Set&& set) {
  return Guarded(function, nullptr, [&]() -> absl::Status {
    if (context == nullptr || name == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(function, ": NULL argument"));
    }
    if (std::strcmp(name, "key") == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(function, ": the context key must be a string"));
    }
    set(context->Keep(name));
    return absl::OkStatus();
  });
}

}  // namespace

extern "C" {

// ---------------------------------------------------------------- library

const char* hotfix_version(void) { return HOTFIX_VERSION_STRING; }

void hotfix_free(void* ptr) { std::free(ptr); }

const char* hotfix_code_name(hotfix_code_t code) {
  switch (EnumValue(code)) {
    case HOTFIX_OK:
      return "OK";
    case HOTFIX_CANCELLED:
      return "CANCELLED";
    case HOTFIX_UNKNOWN:
      return "UNKNOWN";
    case HOTFIX_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case HOTFIX_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case HOTFIX_NOT_FOUND:
      return "NOT_FOUND";
    case HOTFIX_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case HOTFIX_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case HOTFIX_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case HOTFIX_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case HOTFIX_ABORTED:
      return "ABORTED";
    case HOTFIX_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case HOTFIX_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case HOTFIX_INTERNAL:
      return "INTERNAL";
    case HOTFIX_UNAVAILABLE:
      return "UNAVAILABLE";
    case HOTFIX_DATA_LOSS:
      return "DATA_LOSS";
    case HOTFIX_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

const char* hotfix_value_type_name(hotfix_value_type_t type) {
  return Name(hotfix::ValueTypeName(ToCxx<hotfix::ValueType>(type)));
}

const char* hotfix_reason_name(hotfix_reason_t reason) {
  return Name(hotfix::ReasonName(ToCxx<hotfix::Reason>(reason)));
}

const char* hotfix_error_kind_name(hotfix_error_kind_t kind) {
  return Name(hotfix::ErrorKindName(ToCxx<hotfix::ErrorKind>(kind)));
}

const char* hotfix_origin_name(hotfix_origin_t origin) {
  return Name(
      hotfix::SnapshotOriginName(ToCxx<hotfix::SnapshotOrigin>(origin)));
}

const char* hotfix_source_state_name(hotfix_source_state_t state) {
  return Name(hotfix::SourceStateName(ToCxx<hotfix::SourceState>(state)));
}

const char* hotfix_connection_name(hotfix_connection_t connection) {
  return Name(hotfix::RemoteConnectionName(
      ToCxx<hotfix::RemoteConnection>(connection)));
}

hotfix_code_t hotfix_validate(const char* json, char** errptr) {
  return Checked(
      "hotfix_validate", errptr, {{"json", json}},
      [&]() -> absl::Status { return hotfix::Compile(json).status(); });
}

hotfix_code_t hotfix_set_log_callback(hotfix_log_callback_t callback,
                                      void* user_data,
                                      hotfix_log_level_t min_level) {
  return Guarded("hotfix_set_log_callback", nullptr, [&]() -> absl::Status {
    const int min = EnumValue(min_level);
    if (min < HOTFIX_LOG_DEBUG || min > HOTFIX_LOG_ERROR) {
      return absl::InvalidArgumentError(
          "hotfix_set_log_callback: min_level out of range");
    }
    const auto level = static_cast<hotfix::LogLevel>(min);
    if (callback == nullptr) {
      hotfix::SetLogSink(nullptr, level);
      return absl::OkStatus();
    }
    hotfix::SetLogSink(
        [callback, user_data](hotfix::LogLevel l, std::string_view message) {
          const std::string text(message);
          callback(user_data, static_cast<hotfix_log_level_t>(l), text.c_str());
        },
        level);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- options

hotfix_options_t* hotfix_options_create(void) {
  hotfix_options_t* options = new (std::nothrow) hotfix_options_t();
  if (options == nullptr) return nullptr;
  try {
    LiveHandles::Get().Add(LiveHandles::kOptions, options);
  } catch (...) {
    delete options;
    return nullptr;
  }
  return options;
}

void hotfix_options_destroy(hotfix_options_t* options) {
  DestroyLive(LiveHandles::kOptions, options,
              "hotfix_options_destroy: not a live options object "
              "(destroyed twice?); ignored");
}

hotfix_code_t hotfix_options_set_bootstrap_json(hotfix_options_t* options,
                                                const char* json) {
  return SetOption(
      "hotfix_options_set_bootstrap_json", options,
      [&](hotfix::ClientOptions& o) { o.bootstrap_json = OrEmpty(json); });
}

hotfix_code_t hotfix_options_set_bootstrap_path(hotfix_options_t* options,
                                                const char* path) {
  return SetOption(
      "hotfix_options_set_bootstrap_path", options,
      [&](hotfix::ClientOptions& o) { o.bootstrap_path = OrEmpty(path); });
}

hotfix_code_t hotfix_options_set_file_path(hotfix_options_t* options,
                                           const char* path) {
  return SetOption(
      "hotfix_options_set_file_path", options,
      [&](hotfix::ClientOptions& o) { o.file.path = OrEmpty(path); });
}

hotfix_code_t hotfix_options_set_file_poll_interval_ms(
    hotfix_options_t* options, int64_t interval_ms) {
  return SetOption("hotfix_options_set_file_poll_interval_ms", options,
                   [&](hotfix::ClientOptions& o) {
                     if (interval_ms < 0) {
                       return absl::InvalidArgumentError(
                           "file poll interval: must not be negative");
                     }
                     o.file.poll_interval = absl::Milliseconds(interval_ms);
                     return absl::OkStatus();
                   });
}

hotfix_code_t hotfix_options_set_file_max_bytes(hotfix_options_t* options,
                                                size_t max_bytes) {
  return SetPositive("hotfix_options_set_file_max_bytes", "file max bytes",
                     options, max_bytes > 0, [&](hotfix::ClientOptions& o) {
                       o.file.max_bytes = max_bytes;
                     });
}

hotfix_code_t hotfix_options_set_server_url(hotfix_options_t* options,
                                            const char* url) {
  return SetOption(
      "hotfix_options_set_server_url", options,
      [&](hotfix::ClientOptions& o) { o.remote.base_url = OrEmpty(url); });
}

hotfix_code_t hotfix_options_add_server_url(hotfix_options_t* options,
                                            const char* url) {
  return SetOption("hotfix_options_add_server_url", options,
                   [&](hotfix::ClientOptions& o) {
                     if (url == nullptr) {
                       o.remote.base_urls.clear();
                     } else {
                       o.remote.base_urls.emplace_back(url);
                     }
                   });
}

hotfix_code_t hotfix_options_set_sdk_key(hotfix_options_t* options,
                                         const char* sdk_key) {
  return SetOption(
      "hotfix_options_set_sdk_key", options,
      [&](hotfix::ClientOptions& o) { o.remote.sdk_key = OrEmpty(sdk_key); });
}

hotfix_code_t hotfix_options_set_remote_mode(hotfix_options_t* options,
                                             hotfix_remote_mode_t mode) {
  return SetOption(
      "hotfix_options_set_remote_mode", options, [&](hotfix::ClientOptions& o) {
        const int value = EnumValue(mode);
        if (value != HOTFIX_REMOTE_STREAMING &&
            value != HOTFIX_REMOTE_POLLING && value != HOTFIX_REMOTE_OFF) {
          return absl::InvalidArgumentError("remote mode: bad value");
        }
        o.remote.mode = static_cast<hotfix::RemoteMode>(value);
        return absl::OkStatus();
      });
}

hotfix_code_t hotfix_options_set_remote_poll_interval_ms(
    hotfix_options_t* options, int64_t interval_ms) {
  return SetPositiveMs("hotfix_options_set_remote_poll_interval_ms",
                       "remote poll interval", options, interval_ms,
                       &hotfix::ClientOptions::remote,
                       &hotfix::RemoteOptions::poll_interval);
}

hotfix_code_t hotfix_options_set_connect_timeout_ms(hotfix_options_t* options,
                                                    int64_t timeout_ms) {
  return SetPositiveMs("hotfix_options_set_connect_timeout_ms",
                       "connect timeout", options, timeout_ms,
                       &hotfix::ClientOptions::remote,
                       &hotfix::RemoteOptions::connect_timeout);
}

hotfix_code_t hotfix_options_set_read_timeout_ms(hotfix_options_t* options,
                                                 int64_t timeout_ms) {
  return SetPositiveMs("hotfix_options_set_read_timeout_ms", "read timeout",
                       options, timeout_ms, &hotfix::ClientOptions::remote,
                       &hotfix::RemoteOptions::read_timeout);
}

hotfix_code_t hotfix_options_set_heartbeat_timeout_ms(hotfix_options_t* options,
                                                      int64_t timeout_ms) {
  return SetPositiveMs("hotfix_options_set_heartbeat_timeout_ms",
                       "heartbeat timeout", options, timeout_ms,
                       &hotfix::ClientOptions::remote,
                       &hotfix::RemoteOptions::heartbeat_timeout);
}

hotfix_code_t hotfix_options_set_verify_tls(hotfix_options_t* options,
                                            int verify) {
  return SetOption(
      "hotfix_options_set_verify_tls", options,
      [&](hotfix::ClientOptions& o) { o.remote.verify_tls = verify != 0; });
}

hotfix_code_t hotfix_options_set_ca_file(hotfix_options_t* options,
                                         const char* path) {
  return SetOption(
      "hotfix_options_set_ca_file", options,
      [&](hotfix::ClientOptions& o) { o.remote.ca_file = OrEmpty(path); });
}

hotfix_code_t hotfix_options_set_cache_path(hotfix_options_t* options,
                                            const char* path) {
  return SetOption(
      "hotfix_options_set_cache_path", options,
      [&](hotfix::ClientOptions& o) { o.cache_path = OrEmpty(path); });
}

hotfix_code_t hotfix_options_set_unknown_operators(
    hotfix_options_t* options, hotfix_unknown_operators_t policy) {
  return SetOption(
      "hotfix_options_set_unknown_operators", options,
      [&](hotfix::ClientOptions& o) {
        const int value = EnumValue(policy);
        if (value != HOTFIX_UNKNOWN_OPERATORS_REJECT &&
            value != HOTFIX_UNKNOWN_OPERATORS_FAIL_CLOSED) {
          return absl::InvalidArgumentError("unknown operators: bad policy");
        }
        o.compile.unknown_operators =
            static_cast<hotfix::UnknownOperatorPolicy>(value);
        return absl::OkStatus();
      });
}

hotfix_code_t hotfix_options_set_counting(hotfix_options_t* options, int on) {
  return SetOption(
      "hotfix_options_set_counting", options,
      [&](hotfix::ClientOptions& o) { o.telemetry.counting = on != 0; });
}

hotfix_code_t hotfix_options_set_telemetry_send(hotfix_options_t* options,
                                                int on) {
  return SetOption(
      "hotfix_options_set_telemetry_send", options,
      [&](hotfix::ClientOptions& o) { o.telemetry.send = on != 0; });
}

hotfix_code_t hotfix_options_set_telemetry_flush_interval_ms(
    hotfix_options_t* options, int64_t interval_ms) {
  return SetPositiveMs("hotfix_options_set_telemetry_flush_interval_ms",
                       "telemetry flush interval", options, interval_ms,
                       &hotfix::ClientOptions::telemetry,
                       &hotfix::TelemetryOptions::flush_interval);
}

hotfix_code_t hotfix_options_set_guard_interval_ms(hotfix_options_t* options,
                                                   int64_t interval_ms) {
  return SetPositiveMs("hotfix_options_set_guard_interval_ms", "guard interval",
                       options, interval_ms, &hotfix::ClientOptions::telemetry,
                       &hotfix::TelemetryOptions::guard_interval);
}

hotfix_code_t hotfix_options_set_telemetry_instance(hotfix_options_t* options,
                                                    const char* instance) {
  return SetOption(
      "hotfix_options_set_telemetry_instance", options,
      [&](hotfix::ClientOptions& o) {
        if (instance == nullptr) {
          return absl::InvalidArgumentError("telemetry instance: NULL");
        }
        if (std::strlen(instance) > 256) {
          return absl::InvalidArgumentError(
              "telemetry instance: at most 256 bytes");
        }
        o.telemetry.instance = instance;
        return absl::OkStatus();
      });
}

hotfix_code_t hotfix_options_set_max_document_bytes(hotfix_options_t* options,
                                                    size_t max_bytes) {
  return SetPositive("hotfix_options_set_max_document_bytes",
                     "max document bytes", options, max_bytes > 0,
                     [&](hotfix::ClientOptions& o) {
                       o.compile.max_document_bytes = max_bytes;
                     });
}

// ---------------------------------------------------------------- client

hotfix_code_t hotfix_client_create(const hotfix_options_t* options,
                                   hotfix_client_t** client, char** errptr) {
  if (client != nullptr) *client = nullptr;
  return Checked("hotfix_client_create", errptr,
                 {{"options", options}, {"client", client}},
                 [&]() -> absl::Status {
                   absl::StatusOr<std::unique_ptr<hotfix::Client>> created =
                       hotfix::Client::Create(options->options);
                   if (!created.ok()) return created.status();
                   auto wrapper = std::make_unique<hotfix_client_t>();
                   wrapper->client = *std::move(created);
                   LiveHandles::Get().Add(LiveHandles::kClient, wrapper.get());
                   *client = wrapper.release();
                   return absl::OkStatus();
                 });
}

void hotfix_client_destroy(hotfix_client_t* client) {
  if (client == nullptr) return;
  if (DispatchingOnThisThread(client)) {
    hotfix::Log(hotfix::LogLevel::kError,
                "hotfix_client_destroy: called from the client's own "
                "change callback; ignored (the client is still "
                "alive)");
    return;
  }
  // ~Client joins the source threads; nothing throws.
  DestroyLive(LiveHandles::kClient, client,
              "hotfix_client_destroy: not a live client "
              "(destroyed twice?); ignored");
}

int hotfix_client_enabled(const hotfix_client_t* client, const char* flag,
                          const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return 0;
  return client->client->Enabled(flag, ContextOf(context)) ? 1 : 0;
}

void hotfix_client_report(const hotfix_client_t* client, const char* flag,
                          int ok, const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return;
  client->client->Report(flag, ok != 0, ContextOf(context));
}

int hotfix_client_get_bool(const hotfix_client_t* client, const char* flag,
                           int default_value, const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return default_value;
  const hotfix::EvaluationDetail d = client->client->Evaluate(
      flag, ContextOf(context), hotfix::ValueType::kBool);
  if (d.value.type != hotfix::ValueType::kBool) return default_value;
  return d.value.bool_value ? 1 : 0;
}

const char* hotfix_client_get_string(const hotfix_client_t* client,
                                     const char* flag,
                                     const char* default_value,
                                     const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return default_value;
  return ResultString(client->client->GetString(
                          flag, DefaultView(default_value), ContextOf(context)),
                      default_value);
}

int64_t hotfix_client_get_int(const hotfix_client_t* client, const char* flag,
                              int64_t default_value,
                              const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return default_value;
  return client->client->GetInt(flag, default_value, ContextOf(context));
}

double hotfix_client_get_double(const hotfix_client_t* client, const char* flag,
                                double default_value,
                                const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return default_value;
  return client->client->GetDouble(flag, default_value, ContextOf(context));
}

const char* hotfix_client_get_json(const hotfix_client_t* client,
                                   const char* flag, const char* default_value,
                                   const hotfix_context_t* context) {
  if (client == nullptr || flag == nullptr) return default_value;
  return ResultString(client->client->GetJson(flag, DefaultView(default_value),
                                              ContextOf(context)),
                      default_value);
}

hotfix_code_t hotfix_client_evaluate(const hotfix_client_t* client,
                                     const char* flag,
                                     const hotfix_context_t* context,
                                     hotfix_value_type_t expected,
                                     hotfix_detail_t* detail) {
  if (detail == nullptr) return HOTFIX_INVALID_ARGUMENT;
  if (client == nullptr) {
    ResetDetail(detail, hotfix::ErrorKind::kNotReady);
    return HOTFIX_INVALID_ARGUMENT;
  }
  if (flag == nullptr) {
    ResetDetail(detail, hotfix::ErrorKind::kFlagNotFound);
    return HOTFIX_INVALID_ARGUMENT;
  }
  detail->detail = client->client->Evaluate(flag, ContextOf(context),
                                            ToCxx<hotfix::ValueType>(expected));
  return HOTFIX_OK;
}

uint64_t hotfix_client_version(const hotfix_client_t* client) {
  return client == nullptr ? 0 : client->client->version();
}

int hotfix_client_wait_until_ready(const hotfix_client_t* client,
                                   int64_t timeout_ms) {
  if (client == nullptr) return 0;
  try {
    return client->client->WaitUntilReady(
               absl::Milliseconds(timeout_ms < 0 ? 0 : timeout_ms))
               ? 1
               : 0;
  } catch (...) {
    return 0;
  }
}

hotfix_code_t hotfix_client_get_status(const hotfix_client_t* client,
                                       hotfix_client_status_t** status,
                                       char** errptr) {
  if (status != nullptr) *status = nullptr;
  return Checked(
      "hotfix_client_get_status", errptr,
      {{"client", client}, {"status", status}}, [&]() -> absl::Status {
        auto copy = std::make_unique<hotfix_client_status_t>();
        copy->status = client->client->GetStatus();
        copy->last_error = std::string(copy->status.last_error.message());
        copy->last_rejection =
            std::string(copy->status.last_rejection.message());
        *status = copy.release();
        return absl::OkStatus();
      });
}

hotfix_code_t hotfix_client_after_fork(hotfix_client_t* client) {
  return Checked("hotfix_client_after_fork", nullptr, {{"client", client}},
                 [&]() -> absl::Status {
                   client->client->AfterFork();
                   return absl::OkStatus();
                 });
}

hotfix_code_t hotfix_client_publish(hotfix_client_t* client, const char* json,
                                    char** errptr) {
  return Checked(
      "hotfix_client_publish", errptr, {{"client", client}, {"json", json}},
      [&]() -> absl::Status { return client->client->Publish(json); });
}

// ---------------------------------------------------------------- changes

hotfix_code_t hotfix_client_add_listener(hotfix_client_t* client,
                                         hotfix_change_callback_t callback,
                                         void* user_data, int* listener_id,
                                         char** errptr) {
  return Checked(
      "hotfix_client_add_listener", errptr,
      {{"client", client},
       {"callback", callback},
       {"listener_id", listener_id}},
      [&]() -> absl::Status {
        *listener_id = client->client->AddListener(
            [client, callback, user_data](const hotfix::ChangeEvent& event) {
              hotfix_change_event_t c_event{&event};
              struct Scope {
                explicit Scope(const hotfix_client_t* c) {
                  t_dispatching.push_back(c);
                }
                ~Scope() { t_dispatching.pop_back(); }
              } scope(client);
              callback(user_data, &c_event);
            });
        return absl::OkStatus();
      });
}

hotfix_code_t hotfix_client_remove_listener(hotfix_client_t* client,
                                            int listener_id) {
  return Checked("hotfix_client_remove_listener", nullptr, {{"client", client}},
                 [&]() -> absl::Status {
                   client->client->RemoveListener(listener_id);
                   return absl::OkStatus();
                 });
}

uint64_t hotfix_change_event_old_version(const hotfix_change_event_t* event) {
  return event == nullptr ? 0 : event->event->old_version;
}

uint64_t hotfix_change_event_new_version(const hotfix_change_event_t* event) {
  return event == nullptr ? 0 : event->event->new_version;
}

hotfix_origin_t hotfix_change_event_origin(const hotfix_change_event_t* event) {
  return event == nullptr ? HOTFIX_ORIGIN_NONE
                          : static_cast<hotfix_origin_t>(event->event->origin);
}

size_t hotfix_change_event_key_count(const hotfix_change_event_t* event) {
  return event == nullptr ? 0 : event->event->changed_keys.size();
}

const char* hotfix_change_event_key(const hotfix_change_event_t* event,
                                    size_t index) {
  if (event == nullptr || index >= event->event->changed_keys.size()) {
    return nullptr;
  }
  return event->event->changed_keys[index].c_str();
}

// ---------------------------------------------------------------- contexts

hotfix_context_t* hotfix_context_create(const char* key) {
  hotfix_context_t* context = new (std::nothrow) hotfix_context_t();
  if (context == nullptr) return nullptr;
  if (key != nullptr && hotfix_context_set_key(context, key) != HOTFIX_OK) {
    delete context;
    return nullptr;
  }
  return context;
}

void hotfix_context_destroy(hotfix_context_t* context) { delete context; }

void hotfix_context_clear(hotfix_context_t* context) {
  if (context != nullptr) context->Clear();
}

hotfix_code_t hotfix_context_set_key(hotfix_context_t* context,
                                     const char* key) {
  return Checked("hotfix_context_set_key", nullptr,
                 {{"context", context}, {"key", key}}, [&]() -> absl::Status {
                   context->context.set_key(context->Keep(key));
                   return absl::OkStatus();
                 });
}

hotfix_code_t hotfix_context_set_string(hotfix_context_t* context,
                                        const char* name, const char* value) {
  return Guarded("hotfix_context_set_string", nullptr, [&]() -> absl::Status {
    if (context == nullptr || name == nullptr || value == nullptr) {
      return absl::InvalidArgumentError(
          "hotfix_context_set_string: NULL argument");
    }
    if (std::strcmp(name, "key") == 0) {
      context->context.set_key(context->Keep(value));
    } else {
      const std::string_view kept_name = context->Keep(name);
      context->context.Set(kept_name, context->Keep(value));
    }
    return absl::OkStatus();
  });
}

hotfix_code_t hotfix_context_set_number(hotfix_context_t* context,
                                        const char* name, double value) {
  return SetAttribute("hotfix_context_set_number", context, name,
                      [&](std::string_view kept_name) {
                        context->context.SetNumber(kept_name, value);
                      });
}

hotfix_code_t hotfix_context_set_bool(hotfix_context_t* context,
                                      const char* name, int value) {
  return SetAttribute("hotfix_context_set_bool", context, name,
                      [&](std::string_view kept_name) {
                        context->context.Set(kept_name, value != 0);
                      });
}

// ---------------------------------------------------------------- handles

hotfix_code_t hotfix_client_flag(hotfix_client_t* client, const char* key,
                                 hotfix_flag_t** flag, char** errptr) {
  if (flag != nullptr) *flag = nullptr;
  return Checked("hotfix_client_flag", errptr,
                 {{"client", client}, {"key", key}, {"flag", flag}},
                 [&]() -> absl::Status {
                   auto handle = std::make_unique<hotfix_flag_t>(
                       hotfix_flag_t{client->client->Flag(key)});
                   LiveHandles::Get().Add(LiveHandles::kFlag, handle.get());
                   *flag = handle.release();
                   return absl::OkStatus();
                 });
}

void hotfix_flag_destroy(hotfix_flag_t* flag) {
  DestroyLive(LiveHandles::kFlag, flag,
              "hotfix_flag_destroy: not a live flag handle "
              "(destroyed twice?); ignored");
}

const char* hotfix_flag_key(const hotfix_flag_t* flag) {
  return flag == nullptr ? nullptr : flag->handle.key().c_str();
}

int hotfix_flag_enabled(const hotfix_flag_t* flag,
                        const hotfix_context_t* context) {
  if (flag == nullptr) return 0;
  return flag->handle.Enabled(ContextOf(context)) ? 1 : 0;
}

int hotfix_flag_get_bool(const hotfix_flag_t* flag, int default_value,
                         const hotfix_context_t* context) {
  if (flag == nullptr) return default_value;
  const hotfix::EvaluationDetail d =
      flag->handle.Evaluate(ContextOf(context), hotfix::ValueType::kBool);
  if (d.value.type != hotfix::ValueType::kBool) return default_value;
  return d.value.bool_value ? 1 : 0;
}

const char* hotfix_flag_get_string(const hotfix_flag_t* flag,
                                   const char* default_value,
                                   const hotfix_context_t* context) {
  if (flag == nullptr) return default_value;
  return ResultString(
      flag->handle.GetString(DefaultView(default_value), ContextOf(context)),
      default_value);
}

int64_t hotfix_flag_get_int(const hotfix_flag_t* flag, int64_t default_value,
                            const hotfix_context_t* context) {
  if (flag == nullptr) return default_value;
  return flag->handle.GetInt(default_value, ContextOf(context));
}

double hotfix_flag_get_double(const hotfix_flag_t* flag, double default_value,
                              const hotfix_context_t* context) {
  if (flag == nullptr) return default_value;
  return flag->handle.GetDouble(default_value, ContextOf(context));
}

const char* hotfix_flag_get_json(const hotfix_flag_t* flag,
                                 const char* default_value,
                                 const hotfix_context_t* context) {
  if (flag == nullptr) return default_value;
  return ResultString(
      flag->handle.GetJson(DefaultView(default_value), ContextOf(context)),
      default_value);
}

hotfix_code_t hotfix_flag_evaluate(const hotfix_flag_t* flag,
                                   const hotfix_context_t* context,
                                   hotfix_value_type_t expected,
                                   hotfix_detail_t* detail) {
  if (detail == nullptr) return HOTFIX_INVALID_ARGUMENT;
  if (flag == nullptr) {
    ResetDetail(detail, hotfix::ErrorKind::kFlagNotFound);
    return HOTFIX_INVALID_ARGUMENT;
  }
  detail->detail = flag->handle.Evaluate(ContextOf(context),
                                         ToCxx<hotfix::ValueType>(expected));
  return HOTFIX_OK;
}

// ---------------------------------------------------------------- details

hotfix_detail_t* hotfix_detail_create(void) {
  hotfix_detail_t* detail = new (std::nothrow) hotfix_detail_t();
  if (detail != nullptr) ResetDetail(detail, hotfix::ErrorKind::kNotReady);
  return detail;
}

void hotfix_detail_destroy(hotfix_detail_t* detail) { delete detail; }

hotfix_value_type_t hotfix_detail_value_type(const hotfix_detail_t* detail) {
  return detail == nullptr
             ? HOTFIX_VALUE_NONE
             : static_cast<hotfix_value_type_t>(detail->detail.value.type);
}

int hotfix_detail_bool_value(const hotfix_detail_t* detail) {
  return detail != nullptr && detail->detail.value.bool_value ? 1 : 0;
}

double hotfix_detail_number_value(const hotfix_detail_t* detail) {
  return detail == nullptr ? 0 : detail->detail.value.number_value;
}

const char* hotfix_detail_string_value(const hotfix_detail_t* detail,
                                       size_t* length) {
  if (length != nullptr) *length = 0;
  if (detail == nullptr) return nullptr;
  const hotfix::Value& v = detail->detail.value;
  if (v.type != hotfix::ValueType::kString &&
      v.type != hotfix::ValueType::kJson) {
    return nullptr;
  }
  if (length != nullptr) *length = v.string_value.size();
  return v.string_value.data();
}

const char* hotfix_detail_variant(const hotfix_detail_t* detail) {
  if (detail == nullptr) return nullptr;
  const std::string_view variant = detail->detail.variant;
  return variant.data() == nullptr ? "" : variant.data();
}

hotfix_reason_t hotfix_detail_reason(const hotfix_detail_t* detail) {
  return detail == nullptr
             ? HOTFIX_REASON_ERROR
             : static_cast<hotfix_reason_t>(detail->detail.reason);
}

hotfix_error_kind_t hotfix_detail_error(const hotfix_detail_t* detail) {
  return detail == nullptr
             ? HOTFIX_ERROR_NONE
             : static_cast<hotfix_error_kind_t>(detail->detail.error);
}

int hotfix_detail_rule_index(const hotfix_detail_t* detail) {
  return detail == nullptr ? -1 : detail->detail.rule_index;
}

uint64_t hotfix_detail_version(const hotfix_detail_t* detail) {
  return detail == nullptr ? 0 : detail->detail.snapshot_version;
}

// ---------------------------------------------------------------- status

void hotfix_client_status_destroy(hotfix_client_status_t* status) {
  delete status;
}

hotfix_source_state_t hotfix_client_status_state(
    const hotfix_client_status_t* status) {
  return status == nullptr
             ? HOTFIX_STATE_OFF
             : static_cast<hotfix_source_state_t>(status->status.state);
}

hotfix_origin_t hotfix_client_status_origin(
    const hotfix_client_status_t* status) {
  return status == nullptr
             ? HOTFIX_ORIGIN_NONE
             : static_cast<hotfix_origin_t>(status->status.origin);
}

uint64_t hotfix_client_status_version(const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : status->status.version;
}

int64_t hotfix_client_status_snapshot_time_us(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : UnixMicros(status->status.snapshot_time);
}

int64_t hotfix_client_status_last_success_us(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : UnixMicros(status->status.last_success);
}

hotfix_code_t hotfix_client_status_last_error_code(
    const hotfix_client_status_t* status) {
  return status == nullptr
             ? HOTFIX_OK
             : static_cast<hotfix_code_t>(status->status.last_error.code());
}

const char* hotfix_client_status_last_error(
    const hotfix_client_status_t* status) {
  return status == nullptr ? nullptr : status->last_error.c_str();
}

int64_t hotfix_client_status_last_error_time_us(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : UnixMicros(status->status.last_error_time);
}

int hotfix_client_status_config_error(const hotfix_client_status_t* status) {
  return status != nullptr && status->status.config_error ? 1 : 0;
}

hotfix_connection_t hotfix_client_status_connection(
    const hotfix_client_status_t* status) {
  return status == nullptr
             ? HOTFIX_CONNECTION_NONE
             : static_cast<hotfix_connection_t>(status->status.connection);
}

const char* hotfix_client_status_server(const hotfix_client_status_t* status) {
  return status == nullptr ? nullptr : status->status.server.c_str();
}

hotfix_code_t hotfix_client_status_last_rejection_code(
    const hotfix_client_status_t* status) {
  return status == nullptr
             ? HOTFIX_OK
             : static_cast<hotfix_code_t>(status->status.last_rejection.code());
}

const char* hotfix_client_status_last_rejection(
    const hotfix_client_status_t* status) {
  return status == nullptr ? nullptr : status->last_rejection.c_str();
}

int64_t hotfix_client_status_last_rejection_time_us(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : UnixMicros(status->status.last_rejection_time);
}

size_t hotfix_client_status_guard_trip_count(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : status->status.guard_trips.size();
}

const char* hotfix_client_status_guard_trip_flag(
    const hotfix_client_status_t* status, size_t i) {
  return GuardTripString(status, i, &hotfix::GuardTrip::flag);
}

const char* hotfix_client_status_guard_trip_variant(
    const hotfix_client_status_t* status, size_t i) {
  return GuardTripString(status, i, &hotfix::GuardTrip::variant);
}

const char* hotfix_client_status_guard_trip_detail(
    const hotfix_client_status_t* status, size_t i) {
  return GuardTripString(status, i, &hotfix::GuardTrip::detail);
}

uint64_t hotfix_client_status_telemetry_posts(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : status->status.telemetry.posts;
}

uint64_t hotfix_client_status_telemetry_dropped(
    const hotfix_client_status_t* status) {
  return status == nullptr ? 0 : status->status.telemetry.dropped;
}

}  // extern "C"
