// bindings/python/hotfix_module.cc
//
// hotfix._hotfix: the pybind11 module behind the `hotfix` Python package
// (bindings/python/hotfix/__init__.py). It wraps hotfix::Client; the package
// adds the Python-side conveniences (constructors, context manager, asyncio).
//
// The GIL, and why evaluation keeps it. Evaluations (enabled, get_*,
// evaluate, and the FlagHandle methods) run with the GIL held: a context
// dict's strings are viewed in place (hotfix::Context never copies), and
// releasing the GIL would cost more than the evaluation itself (see
// docs/benchmarks.md, "Python"). An evaluation reads the client only after
// converting the context, because converting a Mapping runs Python code, during
// which another thread may close the client. Everything that may block
// (creation, close, publish, wait_until_ready) runs without the GIL.
//
// Lifetimes. A ClientState owns the hotfix::Client and outlives every use of
// it: the Python Client and its FlagHandles hold it, and so does a teardown in
// progress. Calls that use the hotfix::Client without the GIL (publish,
// wait_until_ready) are counted in `in_flight`, change deliveries in
// `dispatching`; the hotfix::Client is destroyed (its threads joined) only
// when both are zero. close() marks the state closed at once, with the GIL
// held, so evaluations serve defaults and no callback starts afterwards; it
// then destroys the client itself if doing so waits for nothing but the
// library (no callback of the client is running anywhere), or else leaves that
// to a background thread, which does it as soon as the running callbacks
// return. So close() never waits for a callback: a callback may wait for a
// lock held by a thread in close(), and two clients' callbacks may close each
// other. remove_listener() never waits either.
//
// Callbacks. One listener per client is registered with the core; it wakes
// the readiness waiters and, if Python callbacks are registered, takes the
// GIL and calls them in order. Their exceptions are logged on the "hotfix"
// logger, except KeyboardInterrupt and SystemExit (any BaseException that is
// not an Exception) raised in a callback that runs inside publish(): those
// stop the delivery and are raised by publish().
//
// Logging. The core's log messages go to the "hotfix" logger through a queue
// and one "hotfix-log" thread, so no library lock is ever held while waiting
// for the GIL. At exit (atexit) the queue is drained and the core logs to
// stderr again.
//
// Interpreter exit. An atexit hook closes every client and waits (at most
// kExitWaitSeconds) for callbacks still running. CPython 3.11 ends a daemon
// thread that takes the GIL during finalization with pthread_exit(), which
// unwinds C++ frames: such a thread coming back from the core without the GIL
// waits instead (TakeGil), and nothing here catches the forced unwind without
// rethrowing it, nor holds Python references in destructors along that path.
//
// fork(): os.register_at_fork hooks restart every live client's sources in
// the child and rebuild this module's locks and threads there.
//
// Client.enabled and FlagHandle.enabled, the per-request calls, are plain
// METH_FASTCALL methods (see "fast path") rather than pybind11 definitions.

#include <cxxabi.h>
#include <pthread.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotfix/client.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/log.h"
#include "hotfix/options.h"
#include "hotfix/snapshot.h"
#include "hotfix/value.h"

namespace py = pybind11;

namespace hotfix_python {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long the atexit hook waits for on_change callbacks still running.
constexpr int kExitWaitSeconds = 10;

// How often a thread in wait_until_ready() looks at the clock, for signals
// (Ctrl-C) and for a first snapshot that changed no flag.
constexpr auto kWaitSlice = std::chrono::milliseconds(50);

// ---------------------------------------------------------------- the GIL

bool InterpreterFinalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// threading.main_thread().ident, recorded at import: the thread that
// finalizes the interpreter.
unsigned long g_main_thread = 0;

[[noreturn]] void WaitForProcessExit() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
}

// Takes the GIL back after PyEval_SaveThread(). Once the interpreter is
// finalizing, CPython 3.11 ends any other thread that takes the GIL with
// pthread_exit(); a thread coming back from the core then waits here, without
// the GIL, until the process exits (as CPython 3.14 does for every thread).
void TakeGil(PyThreadState* saved) {
  if (InterpreterFinalizing() && PyThread_get_thread_ident() != g_main_thread) {
    WaitForProcessExit();
  }
  PyEval_RestoreThread(saved);
}

// Runs `fn` without the GIL. Unlike pybind11's gil_scoped_release, the GIL is
// taken back in ordinary code rather than a (noexcept) destructor, so a forced
// unwind from CPython can pass.
template <typename Fn>
auto WithoutGil(Fn&& fn) -> decltype(fn()) {
  PyThreadState* saved = PyEval_SaveThread();
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      TakeGil(saved);
    } else {
      auto result = fn();
      TakeGil(saved);
      return result;
    }
  } catch (abi::__forced_unwind&) {
    throw;  // the thread is ending: it must not take the GIL again
  } catch (...) {
    TakeGil(saved);
    throw;
  }
}

// ---------------------------------------------------------------- errors

// The exception classes, created once and never freed (the interpreter may be
// finalizing when static destructors would run).
PyObject* g_hotfix_error = nullptr;  // HotfixError(Exception)
PyObject* g_config_error = nullptr;  // ConfigError(HotfixError, ValueError)
PyObject* g_state_error = nullptr;   // StateError(HotfixError, RuntimeError)

// logging.getLogger("hotfix"), kept forever.
PyObject* g_logger = nullptr;

std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

// Raises the Python exception for `status` (not OK): ConfigError for a bad
// argument, option or document, StateError for an operation the client's
// state does not allow, HotfixError otherwise. The exception carries the
// core's message and `.code`, the canonical code name.
[[noreturn]] void Raise(const absl::Status& status) {
  PyObject* type = g_hotfix_error;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
      type = g_config_error;
      break;
    case absl::StatusCode::kFailedPrecondition:
      type = g_state_error;
      break;
    default:
      break;
  }
  py::object exc = py::reinterpret_borrow<py::object>(type)(
      py::str(std::string(status.message())));
  exc.attr("code") = py::str(CodeName(status.code()));
  PyErr_SetObject(type, exc.ptr());
  throw py::error_already_set();
}

[[noreturn]] void RaiseClosed() {
  Raise(absl::FailedPreconditionError("the client is closed"));
}

const char* TypeName(PyObject* obj) { return Py_TYPE(obj)->tp_name; }

// ---------------------------------------------------------------- values

py::object& JsonLoads() {
  static py::object* const loads =
      new py::object(py::module_::import("json").attr("loads"));
  return *loads;
}

py::object DecodeUtf8(std::string_view s, const char* errors = "replace") {
  PyObject* str =
      PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), errors);
  if (str == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(str);
}

py::object ValueToPython(const hotfix::Value& value) {
  switch (value.type) {
    case hotfix::ValueType::kNone:
      return py::none();
    case hotfix::ValueType::kBool:
      return py::bool_(value.bool_value);
    case hotfix::ValueType::kString:
      return DecodeUtf8(value.string_value);
    case hotfix::ValueType::kNumber:
      return py::float_(value.number_value);
    case hotfix::ValueType::kJson:
      return JsonLoads()(DecodeUtf8(value.string_value));
  }
  return py::none();
}

py::object TimeToPython(absl::Time t) {
  if (t == absl::InfinitePast()) return py::none();
  return py::float_(absl::ToDoubleSeconds(t - absl::UnixEpoch()));
}

hotfix::ValueType ExpectedType(py::handle expected) {
  if (expected.is_none()) return hotfix::ValueType::kNone;
  if (!PyUnicode_Check(expected.ptr())) {
    throw py::type_error(std::string("expected: must be None or a str, not ") +
                         TypeName(expected.ptr()));
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(expected.ptr(), &size);
  if (data == nullptr) PyErr_Clear();
  const std::string name =
      data == nullptr ? "?" : std::string(data, static_cast<std::size_t>(size));
  for (hotfix::ValueType t :
       {hotfix::ValueType::kBool, hotfix::ValueType::kString,
        hotfix::ValueType::kNumber, hotfix::ValueType::kJson}) {
    if (name == hotfix::ValueTypeName(t)) return t;
  }
  throw py::value_error(
      "expected: must be None, \"bool\", \"string\", "
      "\"number\" or \"json\", not \"" +
      name + "\"");
}

// ---------------------------------------------------------------- text

// Python objects that keep the text a Context or a flag key views alive.
struct TextHolders {
  py::object mapping;               // a non-dict Mapping converted to a dict
  std::vector<py::object> encoded;  // surrogate-carrying str, encoded
};

// The UTF-8 text of `str`, viewed in the str object's own cache. A str that
// is not valid Unicode (lone surrogates, e.g. from os.fsdecode() of bytes
// that are not UTF-8) has no strict UTF-8 form: it is encoded with
// "surrogatepass" into a bytes object kept in `holders`. Such text is never
// an error; like an invalid bytes value, it just never equals valid text (a
// flag key, a rule's value). Encoding it runs no Python code.
std::string_view TextView(PyObject* str, std::vector<py::object>& holders) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(str, &size);
  if (data == nullptr) {
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
      throw py::error_already_set();
    }
    PyErr_Clear();
    PyObject* bytes = PyUnicode_AsEncodedString(str, "utf-8", "surrogatepass");
    if (bytes == nullptr) throw py::error_already_set();
    holders.push_back(py::reinterpret_steal<py::object>(bytes));
    return std::string_view(PyBytes_AS_STRING(bytes),
                            static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
  }
  return std::string_view(data, static_cast<std::size_t>(size));
}

std::string_view BytesView(PyObject* bytes) {
  return std::string_view(PyBytes_AS_STRING(bytes),
                          static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
}

// A flag key argument: str or bytes. The view lives as long as the argument
// and this object.
struct FlagKey {
  std::string_view view;
  std::vector<py::object> holders;

  // False, with a TypeError set, if `obj` is neither str nor bytes.
  bool Load(PyObject* obj, const char* function) {
    if (PyUnicode_Check(obj)) {
      try {
        view = TextView(obj, holders);
      } catch (py::error_already_set& e) {
        e.restore();
        return false;
      }
      return true;
    }
    if (PyBytes_Check(obj)) {
      view = BytesView(obj);
      return true;
    }
    PyErr_Format(PyExc_TypeError, "%s(): flag must be str, not %s", function,
                 TypeName(obj));
    return false;
  }
  void LoadOrThrow(py::handle obj, const char* function) {
    if (!Load(obj.ptr(), function)) throw py::error_already_set();
  }
};

// ---------------------------------------------------------------- contexts

[[noreturn]] void BadAttribute(std::string_view name, PyObject* value,
                               const char* expected) {
  throw py::type_error("context[\"" + std::string(name) + "\"]: expected " +
                       expected + ", not " + TypeName(value));
}

// An int attribute as a number: exact up to 2^53, rounded beyond, and an int
// too large for a double (|v| > 1.8e308) is an infinity of its sign.
double IntAttribute(PyObject* value) {
  const double number = PyLong_AsDouble(value);
  if (number != -1.0 || !PyErr_Occurred()) return number;
  if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
    throw py::error_already_set();
  }
  PyErr_Clear();
  int overflow = 0;
  (void)PyLong_AsLongLongAndOverflow(value, &overflow);
  if (overflow == 0 && PyErr_Occurred()) throw py::error_already_set();
  return overflow < 0 ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
}

// Fills `ctx` from `obj`: a str (the context key) or a dict (or any Mapping)
// of attribute name -> str, bytes, bool, int, float or None (None: the
// attribute is absent); "key" is the context key.
//
// Lifetimes: the Context views the UTF-8 buffers that str objects cache inside
// themselves and bytes buffers in place, so nothing is copied; `holders`
// keeps a converted Mapping and any re-encoded text alive, and the caller
// holds the GIL for the whole evaluation. Dict keys are distinct, so
// attributes are appended without a search (Context::Add): linear in the
// number of attributes.
void FillContext(py::handle obj, hotfix::Context& ctx, TextHolders& holders) {
  PyObject* dict = obj.ptr();
  if (PyUnicode_Check(dict)) {
    ctx.set_key(TextView(dict, holders.encoded));
    return;
  }
  if (!PyDict_Check(dict)) {
    static py::object* const mapping_abc =
        new py::object(py::module_::import("collections.abc").attr("Mapping"));
    const int is_mapping = PyObject_IsInstance(dict, mapping_abc->ptr());
    if (is_mapping < 0) throw py::error_already_set();
    if (is_mapping == 0) {
      throw py::type_error(std::string("context: expected a dict, a str key "
                                       "or None, not ") +
                           TypeName(dict));
    }
    holders.mapping = py::dict(py::reinterpret_borrow<py::object>(obj));
    dict = holders.mapping.ptr();
  }
  Py_ssize_t pos = 0;
  PyObject* name_obj;
  PyObject* value;
  while (PyDict_Next(dict, &pos, &name_obj, &value)) {
    if (!PyUnicode_Check(name_obj)) {
      throw py::type_error(std::string("context: attribute names must be str, "
                                       "not ") +
                           TypeName(name_obj));
    }
    const std::string_view name = TextView(name_obj, holders.encoded);
    if (value == Py_None) continue;
    if (name == "key") {
      if (PyUnicode_Check(value)) {
        ctx.set_key(TextView(value, holders.encoded));
      } else if (PyBytes_Check(value)) {
        ctx.set_key(BytesView(value));
      } else {
        BadAttribute(name, value, "str (the context key)");
      }
    } else if (PyUnicode_Check(value)) {
      ctx.Add(name, TextView(value, holders.encoded));
    } else if (PyBool_Check(value)) {
      ctx.Add(name, value == Py_True);
    } else if (PyLong_Check(value)) {
      ctx.AddNumber(name, IntAttribute(value));
    } else if (PyFloat_Check(value)) {
      ctx.AddNumber(name, PyFloat_AS_DOUBLE(value));
    } else if (PyBytes_Check(value)) {
      ctx.Add(name, BytesView(value));
    } else {
      BadAttribute(name, value, "str, bytes, bool, int, float or None");
    }
  }
}

// A Context for one call: empty and free when `obj` is None.
class ContextArg {
 public:
  explicit ContextArg(py::handle obj) {
    if (!obj.is_none()) {
      context_.emplace();
      FillContext(obj, *context_, holders_);
    }
  }
  const hotfix::Context& get() const {
    return context_.has_value() ? *context_ : Empty();
  }

 private:
  static const hotfix::Context& Empty() {
    static const hotfix::Context* const empty = new hotfix::Context();
    return *empty;
  }
  std::optional<hotfix::Context> context_;
  TextHolders holders_;
};

// ---------------------------------------------------------------- results

struct Evaluation {
  py::object value;
  py::object variant;     // str, or None
  std::string reason;     // "STATIC", "RULE_MATCH", ...
  py::object error;       // "FLAG_NOT_FOUND", ..., or None
  py::object rule_index;  // int for RULE_MATCH, else None
  std::uint64_t version = 0;
  std::string value_type;

  static Evaluation From(const hotfix::EvaluationDetail& d) {
    Evaluation e;
    e.value = ValueToPython(d.value);
    e.variant =
        d.variant.empty() ? py::object(py::none()) : DecodeUtf8(d.variant);
    e.reason = std::string(hotfix::ReasonName(d.reason));
    e.error =
        d.error == hotfix::ErrorKind::kNone
            ? py::object(py::none())
            : py::object(py::str(std::string(hotfix::ErrorKindName(d.error))));
    e.rule_index = d.rule_index < 0 ? py::object(py::none())
                                    : py::object(py::int_(d.rule_index));
    e.version = d.snapshot_version;
    e.value_type = std::string(hotfix::ValueTypeName(d.value.type));
    return e;
  }
};

struct Status {
  py::list guard_trips;
  py::dict telemetry;
  std::string state;
  std::string origin;
  std::uint64_t version = 0;
  py::object snapshot_time;
  py::object age;
  py::object last_success;
  py::object last_error;
  py::object last_error_code;
  py::object last_error_time;
  bool config_error = false;
  std::string connection;
  std::string server;
  py::object last_rejection;
  py::object last_rejection_time;
};

struct ChangeEvent {
  std::uint64_t old_version = 0;
  std::uint64_t new_version = 0;
  std::string origin;
  py::list changed_keys;
};

hotfix::EvaluationDetail NotReady() {
  hotfix::EvaluationDetail d;
  d.reason = hotfix::Reason::kError;
  d.error = hotfix::ErrorKind::kNotReady;
  return d;
}

// ---------------------------------------------------------------- typed reads
//
// The getters share one shape: evaluate with the expected type, convert the
// value when the flag served one, else hand back the caller's default object.

template <typename Evaluator>
py::object TypedGet(Evaluator&& evaluate, hotfix::ValueType type,
                    py::object default_value) {
  const hotfix::EvaluationDetail d = evaluate(type);
  if (d.value.type != type) return default_value;
  switch (type) {
    case hotfix::ValueType::kNumber:
      return py::float_(d.value.number_value);
    default:
      return ValueToPython(d.value);
  }
}

// GetInt semantics (hotfix::Client::GetInt): truncation toward zero, the
// default outside the int64 range.
template <typename Evaluator>
py::object IntGet(Evaluator&& evaluate, py::object default_value) {
  const hotfix::EvaluationDetail d = evaluate(hotfix::ValueType::kNumber);
  if (d.value.type != hotfix::ValueType::kNumber) return default_value;
  const double v = d.value.number_value;
  if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0)) {
    return default_value;  // also NaN
  }
  return py::int_(static_cast<std::int64_t>(v));
}

// ---------------------------------------------------------------- logging

// Carries the core's log messages to the "hotfix" logger. The core calls the
// sink on any thread, possibly holding its own locks, so the sink only queues;
// the "hotfix-log" thread takes the GIL and logs. Messages beyond kMaxQueued
// waiting are counted and reported, not kept.
class LogBridge {
 public:
  static LogBridge& Get() {
    static LogBridge* const bridge = new LogBridge;  // never destroyed
    return *bridge;
  }

  // Starts the thread and installs the sink. GIL held.
  void Start() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (running_) return;
      running_ = true;
      stop_ = false;
    }
    try {
      thread_ = new std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = false;  // the core keeps logging to stderr
      return;
    }
    hotfix::SetLogSink(
        [](hotfix::LogLevel level, std::string_view message) {
          LogBridge::Get().Push(level, message);
        },
        hotfix::LogLevel::kDebug);
  }

  // Any thread, with or without the GIL.
  void Push(hotfix::LogLevel level, std::string_view message) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (running_) {
        if (queue_.size() < kMaxQueued) {
          queue_.push_back({level, std::string(message)});
        } else {
          ++dropped_;
        }
        cv_.notify_one();
        return;
      }
    }
    WriteToStderr(level, message);
  }

  // At exit, with the GIL: stops the thread, logs what it left, and sends
  // later messages (from threads still running while the interpreter
  // finalizes) to stderr, as the core does without a sink.
  void Shutdown() {
    std::thread* thread;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!running_) return;
      running_ = false;
      stop_ = true;
      thread = thread_;
      thread_ = nullptr;
    }
    cv_.notify_one();
    hotfix::SetLogSink({});
    WithoutGil([thread] { thread->join(); });
    delete thread;
    std::deque<Message> rest;
    std::size_t dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rest.swap(queue_);
      dropped = std::exchange(dropped_, 0);
    }
    Deliver(rest, dropped);
  }

  // Around os.fork(), with the GIL: the queue is held across the fork, so
  // that the child never inherits it half-updated by another thread.
  void PrepareFork() { mu_.lock(); }
  void ParentAfterFork() { mu_.unlock(); }

  // In the forked child, with the GIL: the thread is gone (its condition
  // variable may still count it as a waiter) and the queued messages were
  // the parent's.
  void AfterForkInChild() {
    mu_.unlock();
    new (&cv_) std::condition_variable();
    queue_.clear();
    dropped_ = 0;
    thread_ = nullptr;  // the parent's thread object: never joined here
    if (running_) {
      running_ = false;
      Start();
    }
  }

 private:
  struct Message {
    hotfix::LogLevel level;
    std::string text;
  };
  static constexpr std::size_t kMaxQueued = 1000;

  LogBridge() = default;

  static const char* LevelName(hotfix::LogLevel level) {
    switch (level) {
      case hotfix::LogLevel::kDebug:
        return "debug";
      case hotfix::LogLevel::kInfo:
        return "info";
      case hotfix::LogLevel::kWarning:
        return "warning";
      case hotfix::LogLevel::kError:
        return "error";
    }
    return "?";
  }

  static void WriteToStderr(hotfix::LogLevel level, std::string_view message) {
    std::fprintf(stderr, "hotfix %s: %.*s\n", LevelName(level),
                 static_cast<int>(message.size()), message.data());
  }

  static int PythonLevel(hotfix::LogLevel level) {
    switch (level) {
      case hotfix::LogLevel::kDebug:
        return 10;
      case hotfix::LogLevel::kInfo:
        return 20;
      case hotfix::LogLevel::kWarning:
        return 30;
      case hotfix::LogLevel::kError:
        return 40;
    }
    return 40;
  }

  // GIL held. Python references are raw here: a forced unwind (see the top of
  // this file) must not run destructors that touch them.
  static void Deliver(const std::deque<Message>& batch, std::size_t dropped) {
    for (const Message& m : batch) {
      PyObject* text = PyUnicode_DecodeUTF8(
          m.text.data(), static_cast<Py_ssize_t>(m.text.size()),
          "backslashreplace");
      PyObject* result = text == nullptr
                             ? nullptr
                             : PyObject_CallMethod(g_logger, "log", "iO",
                                                   PythonLevel(m.level), text);
      Py_XDECREF(text);
      if (result == nullptr) {
        PyErr_WriteUnraisable(g_logger);
      } else {
        Py_DECREF(result);
      }
    }
    if (dropped > 0) {
      PyObject* result = PyObject_CallMethod(
          g_logger, "warning", "sn",
          "%d log messages of the hotfix library were dropped: the logging "
          "thread could not keep up",
          static_cast<Py_ssize_t>(dropped));
      if (result == nullptr) {
        PyErr_WriteUnraisable(g_logger);
      } else {
        Py_DECREF(result);
      }
    }
  }

  void Run() {
    pthread_setname_np(pthread_self(), "hotfix-log");
    for (;;) {
      std::deque<Message> batch;
      std::size_t dropped;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;  // Shutdown() delivers the rest
        batch.swap(queue_);
        dropped = std::exchange(dropped_, 0);
      }
      if (InterpreterFinalizing()) {  // not expected: Shutdown() runs first
        for (const Message& m : batch) WriteToStderr(m.level, m.text);
        continue;
      }
      const PyGILState_STATE gil = PyGILState_Ensure();
      Deliver(batch, dropped);
      PyGILState_Release(gil);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> queue_;  // guarded by mu_
  std::size_t dropped_ = 0;    // guarded by mu_
  bool running_ = false;       // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread* thread_ = nullptr;
};

// Logs the exception (type, value, traceback; references stolen) that
// `callback` raised, on the "hotfix" logger. GIL held; raw references
// throughout (see LogBridge::Deliver). Never raises.
void LogCallbackError(PyObject* callback, PyObject* type, PyObject* value,
                      PyObject* traceback) {
  PyObject* exc_info = PyTuple_Pack(3, type != nullptr ? type : Py_None,
                                    value != nullptr ? value : Py_None,
                                    traceback != nullptr ? traceback : Py_None);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  PyObject* method =
      exc_info == nullptr ? nullptr : PyObject_GetAttrString(g_logger, "error");
  PyObject* args =
      method == nullptr
          ? nullptr
          : Py_BuildValue("(sO)", "on_change callback %r raised; ignored",
                          callback);
  PyObject* kwargs =
      args == nullptr ? nullptr : Py_BuildValue("{sO}", "exc_info", exc_info);
  PyObject* result =
      kwargs == nullptr ? nullptr : PyObject_Call(method, args, kwargs);
  if (result == nullptr) PyErr_WriteUnraisable(callback);
  Py_XDECREF(result);
  Py_XDECREF(kwargs);
  Py_XDECREF(args);
  Py_XDECREF(method);
  Py_XDECREF(exc_info);
}

// ---------------------------------------------------------------- client state

struct ClientState;

// The change deliveries running on this thread, innermost last.
struct DispatchFrame {
  const ClientState* state;
  bool in_callback;  // inside a callback (or the logging of its error)
};
thread_local std::vector<DispatchFrame> t_dispatching;

// The clients whose publish() this thread is in, innermost last.
thread_local std::vector<const ClientState*> t_publishing;

// A KeyboardInterrupt or SystemExit (any BaseException that is not an
// Exception) that a callback raised inside publish(), for publish() to raise.
struct PendingError {
  const ClientState* state = nullptr;
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
};
thread_local PendingError t_pending;

// Forgets a pending error kept for `state` (GIL held).
void DropPending(const ClientState* state) {
  if (t_pending.state != state) return;
  PendingError pending = std::exchange(t_pending, PendingError{});
  Py_XDECREF(pending.type);
  Py_XDECREF(pending.value);
  Py_XDECREF(pending.traceback);
}

int CountOnThisThread(const ClientState* state, bool callbacks_only) {
  int n = 0;
  for (const DispatchFrame& f : t_dispatching) {
    n += f.state == state && (f.in_callback || !callbacks_only);
  }
  return n;
}

bool PublishingOnThisThread(const ClientState* state) {
  for (const ClientState* s : t_publishing) {
    if (s == state) return true;
  }
  return false;
}

// Deliveries in progress in the whole process (waiting for the GIL or running
// callbacks), for the before-fork hook.
std::atomic<int> g_dispatches_in_flight{0};

struct ClientState : std::enable_shared_from_this<ClientState> {
  // Set at creation; destroyed by Teardown() only.
  std::unique_ptr<hotfix::Client> client;

  // Guarded by the GIL.
  bool open = true;  // false from the moment close() begins
  std::map<int, py::object> listeners;
  // Per listener: ChangeEvent::sequence of the first change it hears, one
  // after the changes the client had accepted when it was added (as the
  // core's AddListener: not a change accepted before, still in delivery).
  std::map<int, std::uint64_t> first_change;
  int next_listener_id = 1;
  int callbacks_running = 0;  // on any thread

  // Read without the GIL by the core's listener.
  std::atomic<bool> active{true};  // == open
  std::atomic<int> listener_count{0};

  // Guarded by mu; cv signals changes of in_flight, dispatching, closing and
  // changes.
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;    // calls using `client` without the GIL
  int dispatching = 0;  // OnCoreChange() calls in progress
  bool closing = false;
  std::uint64_t changes = 0;

  ~ClientState() {
    // Only ever destroyed closed, its Python callbacks dropped (with the GIL)
    // and its client torn down.
    for (auto& entry : listeners) entry.second.release();  // never without GIL
  }

  // The client for evaluations, or nullptr once closed. GIL held.
  const hotfix::Client* live() const { return open ? client.get() : nullptr; }

  bool IdleLocked() const { return in_flight == 0 && dispatching == 0; }

  // Waits until no call and no delivery uses the client, then destroys it,
  // which joins its threads. Without the GIL.
  void Teardown() {
    std::unique_ptr<hotfix::Client> doomed;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] { return IdleLocked(); });
      doomed = std::move(client);
    }
    doomed.reset();
  }

  // In a forked child (GIL held): the only thread left is this one.
  void AfterForkInChild() {
    new (&mu) std::mutex();
    new (&cv) std::condition_variable();
    in_flight = 0;
    for (const ClientState* s : t_publishing) in_flight += s == this;
    dispatching = CountOnThisThread(this, /*callbacks_only=*/false);
    callbacks_running = CountOnThisThread(this, /*callbacks_only=*/true);
  }
};

// A call that uses the client without the GIL: counted from Enter() (GIL
// held, client open: close() cannot have started its teardown) to Leave()
// (any thread, normally before taking the GIL back) or destruction.
class InFlight {
 public:
  explicit InFlight(ClientState& state) : state_(&state) {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->in_flight;
  }
  ~InFlight() { Leave(); }
  void Leave() {
    if (state_ == nullptr) return;
    std::lock_guard<std::mutex> lock(state_->mu);
    --state_->in_flight;
    state_->cv.notify_all();  // under the lock: the state may go right after
    state_ = nullptr;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  ClientState* state_;
};

// Live clients, for after_fork and for closing at interpreter exit. Guarded
// by the GIL.
std::unordered_set<ClientState*>& LiveClients() {
  static auto* const live = new std::unordered_set<ClientState*>();
  return *live;
}

// Teardowns running on background threads.
struct Teardowns {
  std::mutex mu;
  std::condition_variable cv;
  int pending = 0;  // guarded by mu
};
Teardowns& PendingTeardowns() {
  static Teardowns* const teardowns = new Teardowns;  // never destroyed
  return *teardowns;
}

void TeardownInBackground(std::shared_ptr<ClientState> state) {
  Teardowns& t = PendingTeardowns();
  {
    std::lock_guard<std::mutex> lock(t.mu);
    ++t.pending;
  }
  try {
    std::thread teardown([state]() mutable {
      state->Teardown();
      state.reset();  // closed and emptied: needs no GIL
      Teardowns& t = PendingTeardowns();
      std::lock_guard<std::mutex> lock(t.mu);
      --t.pending;
      t.cv.notify_all();
    });
    // Named here, not by the thread itself: a new thread may not run for a
    // while, and until it names itself it bears the caller's name. close()
    // returns with the thread already called what it is.
    pthread_setname_np(teardown.native_handle(), "hotfix-close");
    teardown.detach();
  } catch (const std::system_error& e) {
    {
      std::lock_guard<std::mutex> lock(t.mu);
      --t.pending;
    }
    // The client stays, with its threads, silenced.
    hotfix::Log(hotfix::LogLevel::kError,
                std::string("close(): could not start a thread to stop the "
                            "client's sources (") +
                    e.what() + "); they keep running");
  }
}

// close(): see the top of this file. GIL held.
void CloseState(const std::shared_ptr<ClientState>& state) {
  ClientState& s = *state;
  if (!s.open) return;
  s.open = false;
  s.active.store(false, std::memory_order_release);
  LiveClients().erase(&s);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.closing = true;
    s.cv.notify_all();  // wait_until_ready() returns
  }
  // Dropping the callbacks may run Python code (finalizers): the state says
  // closed already, so nothing can use the client meanwhile.
  std::map<int, py::object> callbacks;
  callbacks.swap(s.listeners);
  s.listener_count.store(0, std::memory_order_release);
  callbacks.clear();
  // A callback running now (on this thread or another) may wait for anything,
  // this thread included: leave the teardown to a thread that can wait for
  // it. Otherwise every delivery and call in progress ends without running
  // Python code, so waiting for them here is safe.
  if (s.callbacks_running > 0 ||
      CountOnThisThread(&s, /*callbacks_only=*/false) > 0) {
    TeardownInBackground(state);
    return;
  }
  WithoutGil([&s] { s.Teardown(); });
}

// Whether `client` serves a snapshot. Lock-free; any thread.
bool IsReady(const hotfix::Client& client) {
  return client.Evaluate("").error != hotfix::ErrorKind::kNotReady;
}

// Fetches the exception a callback raised (GIL held) and either keeps it for
// publish() (KeyboardInterrupt, SystemExit: returns true, the delivery stops)
// or logs it.
bool HandleCallbackError(const ClientState& state, PyObject* callback) {
  PyObject* type;
  PyObject* value;
  PyObject* traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (traceback != nullptr && value != nullptr) {
    PyException_SetTraceback(value, traceback);
  }
  const bool not_an_exception =
      type != nullptr && !PyErr_GivenExceptionMatches(type, PyExc_Exception);
  if (not_an_exception && PublishingOnThisThread(&state) &&
      t_pending.state == nullptr) {
    t_pending = PendingError{&state, type, value, traceback};
    return true;
  }
  LogCallbackError(callback, type, value, traceback);
  return false;
}

// Builds the ChangeEvent object; nullptr with a Python error set on failure.
PyObject* MakeChangeEvent(const hotfix::ChangeEvent& event) {
  try {
    ChangeEvent e;
    e.old_version = event.old_version;
    e.new_version = event.new_version;
    e.origin = std::string(hotfix::SnapshotOriginName(event.origin));
    for (const std::string& key : event.changed_keys) {
      e.changed_keys.append(DecodeUtf8(key));
    }
    return py::cast(std::move(e)).release().ptr();
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
  }
  return nullptr;
}

// Calls the state's callbacks with `event`, in registration order. GIL held.
// Python references are raw (see LogBridge::Deliver).
void RunCallbacks(ClientState& s, const hotfix::ChangeEvent& event) {
  if (!s.open || s.listeners.empty()) return;
  std::vector<std::pair<int, PyObject*>> calls;
  calls.reserve(s.listeners.size());
  for (auto& [id, callback] : s.listeners) {
    if (s.first_change[id] > event.sequence) continue;  // added after it
    Py_INCREF(callback.ptr());
    calls.emplace_back(id, callback.ptr());
  }
  PyObject* py_event = MakeChangeEvent(event);
  if (py_event == nullptr) PyErr_WriteUnraisable(nullptr);
  t_dispatching.push_back({&s, false});
  bool stop = py_event == nullptr;
  for (const auto& [id, callback] : calls) {
    // Skip callbacks removed, and stop once the client is closed, by an
    // earlier callback (or another thread while this one ran Python code).
    if (stop || !s.open) break;
    if (s.listeners.find(id) == s.listeners.end()) continue;
    t_dispatching.back().in_callback = true;
    ++s.callbacks_running;
    PyObject* result = PyObject_CallOneArg(callback, py_event);
    if (result != nullptr) {
      Py_DECREF(result);
    } else {
      stop = HandleCallbackError(s, callback);
    }
    --s.callbacks_running;
    t_dispatching.back().in_callback = false;
  }
  t_dispatching.pop_back();
  Py_XDECREF(py_event);
  for (const auto& call : calls) Py_DECREF(call.second);
}

// The core's listener for every client: runs on the thread that published
// (a source thread, or one in publish()), without the GIL.
void OnCoreChange(ClientState* s, const hotfix::ChangeEvent& event) {
  {
    std::lock_guard<std::mutex> lock(s->mu);
    ++s->changes;
    s->cv.notify_all();  // readiness waiters
    if (!s->active.load(std::memory_order_acquire) ||
        s->listener_count.load(std::memory_order_acquire) == 0 ||
        InterpreterFinalizing()) {
      return;
    }
    ++s->dispatching;
  }
  struct Leave {
    ClientState* s;
    ~Leave() {
      g_dispatches_in_flight.fetch_sub(1, std::memory_order_acq_rel);
      std::lock_guard<std::mutex> lock(s->mu);
      --s->dispatching;
      s->cv.notify_all();  // under the lock: the state may go right after
    }
  } leave{s};
  g_dispatches_in_flight.fetch_add(1, std::memory_order_acq_rel);
  // May end this thread (pthread_exit) if the interpreter started finalizing
  // meanwhile: `leave` runs, nothing else here does.
  const PyGILState_STATE gil = PyGILState_Ensure();
  RunCallbacks(*s, event);
  PyGILState_Release(gil);
}

// ---------------------------------------------------------------- self

// The C++ object of `self`, an instance of the pybind11 class bound to T (or
// of a subclass), or nullptr with a TypeError set: `self` is of another type,
// or it was made by __new__ without __init__ (pybind11 would hand out
// uninitialized memory for it).
// `type_checked`: the caller (a method descriptor) has checked the type.
template <typename T>
T* SelfOrNull(PyObject* self, bool type_checked = false) {
  static const py::detail::type_info* const info =
      py::detail::get_type_info(typeid(T));
  if (!type_checked && !PyObject_TypeCheck(self, info->type)) {
    PyErr_Format(PyExc_TypeError, "expected a hotfix object, not %s",
                 TypeName(self));
    return nullptr;
  }
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  void* value = nullptr;
  if (inst->simple_layout) {
    if (inst->simple_holder_constructed) value = inst->simple_value_holder[0];
  } else {
    py::detail::value_and_holder v_h =
        inst->get_value_and_holder(info, /*throw_if_missing=*/false);
    if (v_h && v_h.holder_constructed()) value = v_h.value_ptr();
  }
  if (value == nullptr) {
    PyErr_Format(PyExc_TypeError,
                 "%s object is not initialized (was __init__ called?)",
                 TypeName(self));
    return nullptr;
  }
  return static_cast<T*>(value);
}

template <typename T>
T& Self(py::handle self) {
  T* value = SelfOrNull<T>(self.ptr());
  if (value == nullptr) throw py::error_already_set();
  return *value;
}

// A read-only property of T's `member`, checked like a method.
template <typename T, typename M>
auto Field(M T::*member) {
  return [member](py::handle self) { return Self<T>(self).*member; };
}

// ---------------------------------------------------------------- client

class PyClient {
 public:
  explicit PyClient(const hotfix::ClientOptions& options)
      : state_(std::make_shared<ClientState>()) {
    absl::StatusOr<std::unique_ptr<hotfix::Client>> client =
        WithoutGil([&options] { return hotfix::Client::Create(options); });
    if (!client.ok()) Raise(client.status());
    state_->client = *std::move(client);
    ClientState* raw = state_.get();  // outlives the client, which it owns
    state_->client->AddListener(
        [raw](const hotfix::ChangeEvent& event) { OnCoreChange(raw, event); });
    LiveClients().insert(raw);
  }
  ~PyClient() {
    try {
      CloseState(state_);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("hotfix.Client.__del__");
    } catch (const std::exception&) {
    }
  }
  PyClient(const PyClient&) = delete;
  PyClient& operator=(const PyClient&) = delete;

  const std::shared_ptr<ClientState>& state() const { return state_; }
  bool closed() const { return !state_->open; }

  hotfix::Client& Live() {
    if (!state_->open) RaiseClosed();
    return *state_->client;
  }

  void Close() { CloseState(state_); }

  bool Enabled(std::string_view flag, py::handle context) const {
    if (context.is_none()) {
      const hotfix::Client* client = state_->live();
      return client != nullptr && client->Enabled(flag);
    }
    ContextArg ctx(context);  // may run Python code, which may close us
    const hotfix::Client* client = state_->live();
    return client != nullptr && client->Enabled(flag, ctx.get());
  }

  hotfix::EvaluationDetail Detail(std::string_view flag, const ContextArg& ctx,
                                  hotfix::ValueType expected) const {
    const hotfix::Client* client = state_->live();
    if (client == nullptr) return NotReady();
    return client->Evaluate(flag, ctx.get(), expected);
  }

  py::object Get(py::handle flag, hotfix::ValueType type,
                 py::object default_value, py::handle context) const {
    FlagKey key;
    key.LoadOrThrow(flag, GetterName(type));
    ContextArg ctx(context);
    return TypedGet(
        [&](hotfix::ValueType t) { return Detail(key.view, ctx, t); }, type,
        std::move(default_value));
  }

  py::object GetInt(py::handle flag, py::object default_value,
                    py::handle context) const {
    FlagKey key;
    key.LoadOrThrow(flag, "get_int");
    ContextArg ctx(context);
    return IntGet([&](hotfix::ValueType t) { return Detail(key.view, ctx, t); },
                  std::move(default_value));
  }

  void Report(py::handle flag, py::handle ok, py::handle context) const {
    FlagKey key;
    key.LoadOrThrow(flag, "report");
    if (!PyBool_Check(ok.ptr())) {
      throw py::type_error(std::string("report: ok must be True or False, "
                                       "not ") +
                           TypeName(ok.ptr()));
    }
    ContextArg ctx(context);
    const hotfix::Client* client = state_->live();
    if (client == nullptr) return;  // closed: nothing is counted
    client->Report(key.view, ok.ptr() == Py_True, ctx.get());
  }

  Evaluation Evaluate(py::handle flag, py::handle context,
                      py::handle expected) const {
    FlagKey key;
    key.LoadOrThrow(flag, "evaluate");
    const hotfix::ValueType type = ExpectedType(expected);
    ContextArg ctx(context);
    return Evaluation::From(Detail(key.view, ctx, type));
  }

  int OnChange(py::object callback) {
    if (!PyCallable_Check(callback.ptr())) {
      throw py::type_error(std::string("on_change: callback must be callable, "
                                       "not ") +
                           TypeName(callback.ptr()));
    }
    const std::uint64_t accepted = Live().GetStatus().changes;
    const int id = state_->next_listener_id++;
    state_->listeners[id] = std::move(callback);
    state_->first_change[id] = accepted + 1;
    state_->listener_count.fetch_add(1, std::memory_order_acq_rel);
    return id;
  }

  // Never waits: a call of that callback running on another thread finishes
  // with its own reference.
  void RemoveListener(int id) {
    state_->first_change.erase(id);
    if (state_->listeners.erase(id) > 0) {
      state_->listener_count.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  Status GetStatus() {
    const hotfix::ClientStatus s = Live().GetStatus();
    Status out;
    out.state = std::string(hotfix::SourceStateName(s.state));
    out.origin = std::string(hotfix::SnapshotOriginName(s.origin));
    out.version = s.version;
    out.snapshot_time = TimeToPython(s.snapshot_time);
    out.last_success = TimeToPython(s.last_success);
    if (s.last_error.ok()) {
      out.last_error = py::none();
      out.last_error_code = py::none();
    } else {
      out.last_error = DecodeUtf8(std::string(s.last_error.message()));
      out.last_error_code = py::str(CodeName(s.last_error.code()));
    }
    out.last_error_time = TimeToPython(s.last_error_time);
    out.age = s.age == absl::InfiniteDuration()
                  ? py::object(py::none())
                  : py::object(py::float_(absl::ToDoubleSeconds(s.age)));
    out.config_error = s.config_error;
    out.connection = std::string(hotfix::RemoteConnectionName(s.connection));
    out.server = s.server;
    out.last_rejection =
        s.last_rejection.ok()
            ? py::object(py::none())
            : DecodeUtf8(std::string(s.last_rejection.message()));
    out.last_rejection_time = TimeToPython(s.last_rejection_time);
    for (const hotfix::GuardTrip& trip : s.guard_trips) {
      py::dict d;
      d["flag"] = DecodeUtf8(trip.flag);
      d["variant"] = DecodeUtf8(trip.variant);
      d["version"] = trip.version;
      d["failures"] = trip.failures;
      d["outcomes"] = trip.outcomes;
      d["detail"] = DecodeUtf8(trip.detail);
      d["time"] = TimeToPython(trip.time);
      out.guard_trips.append(std::move(d));
    }
    out.telemetry["counting"] = s.telemetry.counting;
    out.telemetry["sending"] = s.telemetry.sending;
    out.telemetry["posts"] = s.telemetry.posts;
    out.telemetry["dropped"] = s.telemetry.dropped;
    out.telemetry["last_error"] =
        s.telemetry.last_error.ok()
            ? py::object(py::none())
            : DecodeUtf8(std::string(s.telemetry.last_error.message()));
    return out;
  }

  bool WaitUntilReady(py::handle timeout_obj) {
    const double timeout = Timeout(timeout_obj);
    hotfix::Client& client = Live();
    if (IsReady(client)) return true;
    if (timeout == 0) return false;
    const auto start = SteadyClock::now();
    const auto deadline =
        timeout >= std::chrono::duration<double>(
                       SteadyClock::time_point::max() - start)
                       .count()
            ? SteadyClock::time_point::max()
            : start + std::chrono::duration_cast<SteadyClock::duration>(
                          std::chrono::duration<double>(timeout));
    ClientState& s = *state_;
    for (;;) {
      // Signal handlers (below) run Python code, which may have closed the
      // client: `client` may be used only while it is open.
      if (!s.open) return false;
      struct Outcome {
        bool ready;
        bool closing;
      };
      InFlight in_flight(s);
      const Outcome outcome = WithoutGil([&] {
        std::unique_lock<std::mutex> lock(s.mu);
        const std::uint64_t seen = s.changes;
        const auto now = SteadyClock::now();
        const auto until =
            deadline - now > kWaitSlice ? now + kWaitSlice : deadline;
        s.cv.wait_until(lock, until,
                        [&] { return s.closing || s.changes != seen; });
        const bool closing = s.closing;
        lock.unlock();
        const Outcome outcome{!closing && IsReady(client), closing};
        in_flight.Leave();
        return outcome;
      });
      if (outcome.ready) return true;
      if (outcome.closing || SteadyClock::now() >= deadline) return false;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  }

  void Publish(py::handle document) {
    py::object holder;
    std::string_view json;
    if (PyUnicode_Check(document.ptr())) {
      Py_ssize_t size = 0;
      const char* data = PyUnicode_AsUTF8AndSize(document.ptr(), &size);
      if (data == nullptr) {
        PyErr_Clear();
        Raise(absl::InvalidArgumentError(
            "publish(): the document is not valid Unicode text"));
      }
      json = std::string_view(data, static_cast<std::size_t>(size));
    } else if (PyBytes_Check(document.ptr())) {
      json = BytesView(document.ptr());
    } else {
      throw py::type_error(
          std::string("publish(): expected a JSON str or bytes, not ") +
          TypeName(document.ptr()));
    }
    hotfix::Client& client = Live();
    ClientState& s = *state_;
    InFlight in_flight(s);
    t_publishing.push_back(&s);
    absl::Status status;
    try {
      // The view stays valid: the argument outlives the call. Publishing
      // calls the callbacks on this thread; they take the GIL themselves.
      status = WithoutGil([&] {
        absl::Status published = client.Publish(json);
        in_flight.Leave();
        return published;
      });
    } catch (abi::__forced_unwind&) {
      throw;
    } catch (...) {
      t_publishing.pop_back();
      DropPending(&s);
      throw;
    }
    t_publishing.pop_back();
    if (t_pending.state == &s) {
      PendingError pending = std::exchange(t_pending, PendingError{});
      PyErr_Restore(pending.type, pending.value, pending.traceback);
      throw py::error_already_set();
    }
    if (!status.ok()) Raise(status);
  }

  void AfterFork() {
    if (state_->open) state_->client->AfterFork();
  }

  std::uint64_t version() const {
    const hotfix::Client* client = state_->live();
    return client == nullptr ? 0 : client->version();
  }

 private:
  static const char* GetterName(hotfix::ValueType type) {
    switch (type) {
      case hotfix::ValueType::kBool:
        return "get_bool";
      case hotfix::ValueType::kString:
        return "get_string";
      case hotfix::ValueType::kNumber:
        return "get_float";
      case hotfix::ValueType::kJson:
        return "get_json";
      default:
        return "get";
    }
  }

  // wait_until_ready()'s timeout: a number of seconds, 0 or more; infinity
  // waits without limit.
  static double Timeout(py::handle value) {
    PyObject* v = value.ptr();
    if (PyBool_Check(v) || !(PyFloat_Check(v) || PyLong_Check(v))) {
      throw py::type_error(
          std::string("wait_until_ready(): timeout must be a number of "
                      "seconds, not ") +
          TypeName(v));
    }
    const double seconds =
        PyFloat_Check(v) ? PyFloat_AS_DOUBLE(v) : PyLong_AsDouble(v);
    if (seconds == -1.0 && PyErr_Occurred()) {
      if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
        throw py::error_already_set();
      }
      PyErr_Clear();
      if (PyObject_RichCompareBool(v, py::int_(0).ptr(), Py_LT) == 1) {
        throw py::value_error(
            "wait_until_ready(): timeout must not be "
            "negative");
      }
      return std::numeric_limits<double>::infinity();
    }
    if (!(seconds >= 0)) {
      throw py::value_error(
          "wait_until_ready(): timeout must be a number of seconds, 0 or "
          "more");
    }
    return seconds;
  }

  std::shared_ptr<ClientState> state_;
};

// ---------------------------------------------------------------- handles

// A FlagHandle plus the client's Python object (so it is not collected under
// the handle) and its state; after close() it serves defaults and never
// touches the core's handle again.
class PyFlag {
 public:
  PyFlag(py::object owner, std::shared_ptr<ClientState> state,
         hotfix::FlagHandle handle)
      : owner_(std::move(owner)), state_(std::move(state)), handle_(handle) {}

  const std::string& key() const { return handle_.key(); }

  bool Enabled(py::handle context) const {
    if (context.is_none()) return state_->open && handle_.Enabled();
    ContextArg ctx(context);  // may run Python code, which may close the client
    return state_->open && handle_.Enabled(ctx.get());
  }

  hotfix::EvaluationDetail Detail(const ContextArg& ctx,
                                  hotfix::ValueType expected) const {
    if (!state_->open) return NotReady();
    return handle_.Evaluate(ctx.get(), expected);
  }

  py::object Get(hotfix::ValueType type, py::object default_value,
                 py::handle context) const {
    ContextArg ctx(context);
    return TypedGet([&](hotfix::ValueType t) { return Detail(ctx, t); }, type,
                    std::move(default_value));
  }

  py::object GetInt(py::object default_value, py::handle context) const {
    ContextArg ctx(context);
    return IntGet([&](hotfix::ValueType t) { return Detail(ctx, t); },
                  std::move(default_value));
  }

  Evaluation Evaluate(py::handle context, py::handle expected) const {
    const hotfix::ValueType type = ExpectedType(expected);
    ContextArg ctx(context);
    return Evaluation::From(Detail(ctx, type));
  }

 private:
  py::object owner_;
  std::shared_ptr<ClientState> state_;
  hotfix::FlagHandle handle_;
};

// The key of a handle as the str it was made from (a key made from a str with
// lone surrogates comes back as that str).
py::object KeyToPython(const std::string& key) {
  return DecodeUtf8(key, "surrogatepass");
}

// ---------------------------------------------------------------- options

[[noreturn]] void BadOption(const char* name, const char* expected,
                            py::handle value) {
  throw py::type_error(std::string("Client(): ") + name + " must be " +
                       expected + ", not " + TypeName(value.ptr()));
}

// A str option (text), or, for a path, str or bytes (os.fspath() has been
// applied by the package); a str path is encoded like os.fsencode(). No NUL:
// the core would read a shorter path or value than the one given.
std::string StringOption(py::handle value, const char* name, bool path) {
  std::string text;
  if (PyUnicode_Check(value.ptr())) {
    if (path) {
      PyObject* bytes = PyUnicode_EncodeFSDefault(value.ptr());
      if (bytes == nullptr) throw py::error_already_set();
      text = std::string(BytesView(bytes));
      Py_DECREF(bytes);
    } else {
      Py_ssize_t size = 0;
      const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
      if (data == nullptr) {
        PyErr_Clear();
        Raise(absl::InvalidArgumentError(std::string(name) +
                                         ": not valid Unicode text"));
      }
      text.assign(data, static_cast<std::size_t>(size));
    }
  } else if (path && PyBytes_Check(value.ptr())) {
    text = std::string(BytesView(value.ptr()));
  } else {
    BadOption(name, path ? "a str, bytes or os.PathLike path" : "a str", value);
  }
  if (text.find('\0') != std::string::npos) {
    Raise(absl::InvalidArgumentError(std::string(name) +
                                     ": must not contain a NUL character"));
  }
  return text;
}

double NumberOption(py::handle value, const char* name) {
  PyObject* v = value.ptr();
  if (PyBool_Check(v) || !(PyFloat_Check(v) || PyLong_Check(v))) {
    BadOption(name, "a number of seconds", value);
  }
  const double number =
      PyFloat_Check(v) ? PyFloat_AS_DOUBLE(v) : PyLong_AsDouble(v);
  if (number == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    Raise(absl::InvalidArgumentError(std::string(name) + ": out of range"));
  }
  return number;
}

absl::Duration Seconds(py::handle value, const char* name, bool allow_zero) {
  const double seconds = NumberOption(value, name);
  if (!(allow_zero ? seconds >= 0 : seconds > 0)) {
    Raise(absl::InvalidArgumentError(
        std::string(name) +
        (allow_zero ? ": must not be negative" : ": must be positive")));
  }
  return absl::Seconds(seconds);
}

std::size_t Bytes(py::handle value, const char* name) {
  PyObject* v = value.ptr();
  if (PyBool_Check(v) || !PyLong_Check(v)) {
    BadOption(name, "an int (bytes)", value);
  }
  int overflow = 0;
  const long long bytes = PyLong_AsLongLongAndOverflow(v, &overflow);
  if (bytes == -1 && overflow == 0 && PyErr_Occurred()) {
    throw py::error_already_set();
  }
  if (overflow != 0 || bytes <= 0) {
    Raise(absl::InvalidArgumentError(
        std::string(name) +
        (overflow > 0 ? ": too large" : ": must be positive")));
  }
  return static_cast<std::size_t>(bytes);
}

bool BoolOption(py::handle value, const char* name) {
  if (!PyBool_Check(value.ptr())) BadOption(name, "True or False", value);
  return value.ptr() == Py_True;
}

// Client(...) keyword arguments, as hotfix.Client documents them.
hotfix::ClientOptions MakeOptions(const py::kwargs& kwargs) {
  hotfix::ClientOptions options;
  for (const auto& [key_obj, value] : kwargs) {
    const std::string key = py::cast<std::string>(key_obj);
    const char* name = key.c_str();
    if (value.is_none()) continue;  // the default
    if (key == "bootstrap_json") {
      options.bootstrap_json = StringOption(value, "bootstrap", false);
    } else if (key == "bootstrap_path") {
      options.bootstrap_path = StringOption(value, name, true);
    } else if (key == "file") {
      options.file.path = StringOption(value, name, true);
    } else if (key == "poll_interval") {
      options.file.poll_interval = Seconds(value, name, true);
    } else if (key == "max_file_bytes") {
      options.file.max_bytes = Bytes(value, name);
    } else if (key == "url") {
      if (PyUnicode_Check(value.ptr())) {
        options.remote.base_url = StringOption(value, name, false);
      } else if (PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
        // Several replicas of one deployment, followed in order on failure.
        for (const py::handle url : value) {
          options.remote.base_urls.push_back(StringOption(url, name, false));
        }
      } else {
        BadOption(name, "a str or a list of str", value);
      }
    } else if (key == "sdk_key") {
      options.remote.sdk_key = StringOption(value, name, false);
    } else if (key == "mode") {
      const std::string mode = StringOption(value, name, false);
      if (mode == "streaming") {
        options.remote.mode = hotfix::RemoteMode::kStreaming;
      } else if (mode == "polling") {
        options.remote.mode = hotfix::RemoteMode::kPolling;
      } else if (mode == "off") {
        options.remote.mode = hotfix::RemoteMode::kOff;
      } else {
        Raise(absl::InvalidArgumentError(
            "mode: must be \"streaming\", \"polling\" or \"off\", not \"" +
            mode + "\""));
      }
    } else if (key == "remote_poll_interval") {
      options.remote.poll_interval = Seconds(value, name, false);
    } else if (key == "connect_timeout") {
      options.remote.connect_timeout = Seconds(value, name, false);
    } else if (key == "read_timeout") {
      options.remote.read_timeout = Seconds(value, name, false);
    } else if (key == "heartbeat_timeout") {
      options.remote.heartbeat_timeout = Seconds(value, name, false);
    } else if (key == "verify_tls") {
      options.remote.verify_tls = BoolOption(value, name);
    } else if (key == "ca_file") {
      options.remote.ca_file = StringOption(value, name, true);
    } else if (key == "cache_path") {
      options.cache_path = StringOption(value, name, true);
    } else if (key == "unknown_operators") {
      const std::string policy = StringOption(value, name, false);
      if (policy == "reject") {
        options.compile.unknown_operators =
            hotfix::UnknownOperatorPolicy::kReject;
      } else if (policy == "fail_closed") {
        options.compile.unknown_operators =
            hotfix::UnknownOperatorPolicy::kFailClosed;
      } else {
        Raise(absl::InvalidArgumentError(
            "unknown_operators: must be \"reject\" or \"fail_closed\", not "
            "\"" +
            policy + "\""));
      }
    } else if (key == "max_document_bytes") {
      options.compile.max_document_bytes = Bytes(value, name);
    } else if (key == "counting") {
      options.telemetry.counting = BoolOption(value, name);
    } else if (key == "send_telemetry") {
      options.telemetry.send = BoolOption(value, name);
    } else if (key == "telemetry_interval") {
      options.telemetry.flush_interval = Seconds(value, name, false);
    } else if (key == "guard_interval") {
      options.telemetry.guard_interval = Seconds(value, name, false);
    } else if (key == "instance") {
      options.telemetry.instance = StringOption(value, name, false);
    } else {
      throw py::type_error("Client() got an unexpected keyword argument '" +
                           key + "'");
    }
  }
  return options;
}

PyObject* NewException(py::module_& m, const char* name, const char* doc,
                       PyObject* bases) {
  const std::string qualified = std::string("hotfix.") + name;
  PyObject* type =
      PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (type == nullptr) throw py::error_already_set();
  m.add_object(name, py::reinterpret_borrow<py::object>(type));
  return type;  // the reference from PyErr_NewException is kept forever
}

// ---------------------------------------------------------------- fork, exit

// os.fork() holds the GIL, so a source thread delivering a change is often
// blocked on the GIL inside the core's listener dispatch at that moment, and
// the child would inherit the core's dispatch state mid-flight. Before
// forking, let such deliveries finish: release the GIL until none (but this
// thread's own) is in flight, for at most a second (steady clock).
void BeforeFork() {
  const int own = static_cast<int>(t_dispatching.size());
  if (g_dispatches_in_flight.load(std::memory_order_acquire) > own) {
    WithoutGil([own] {
      const auto deadline = SteadyClock::now() + std::chrono::seconds(1);
      while (g_dispatches_in_flight.load(std::memory_order_acquire) > own &&
             SteadyClock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
  }
  LogBridge::Get().PrepareFork();
}

void AfterForkInParent() { LogBridge::Get().ParentAfterFork(); }

// In the child, only this thread exists: this module's locks, counters and
// threads start afresh, and every live client restarts its sources.
// Teardowns that were running in the parent's background threads are
// abandoned (their clients leak in the child).
void AfterForkInChild() {
  g_main_thread = PyThread_get_thread_ident();  // who finalizes the child
  g_dispatches_in_flight.store(static_cast<int>(t_dispatching.size()),
                               std::memory_order_release);
  Teardowns& t = PendingTeardowns();
  new (&t.mu) std::mutex();
  new (&t.cv) std::condition_variable();
  t.pending = 0;
  LogBridge::Get().AfterForkInChild();
  for (ClientState* state : LiveClients()) state->AfterForkInChild();
  for (ClientState* state : LiveClients()) state->client->AfterFork();
}

// At exit, before the interpreter finalizes: close every client, give
// callbacks still running a bounded time to return, then hand logging back to
// stderr.
void CloseAllAtExit() {
  std::vector<std::shared_ptr<ClientState>> states;
  for (ClientState* state : LiveClients()) {
    states.push_back(state->shared_from_this());
  }
  for (const std::shared_ptr<ClientState>& state : states) {
    try {
      CloseState(state);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("hotfix: closing clients at exit");
    }
  }
  states.clear();
  const int left = WithoutGil([] {
    Teardowns& t = PendingTeardowns();
    std::unique_lock<std::mutex> lock(t.mu);
    t.cv.wait_for(lock, std::chrono::seconds(kExitWaitSeconds),
                  [&t] { return t.pending == 0; });
    return t.pending;
  });
  if (left > 0) {
    PyObject* result = PyObject_CallMethod(
        g_logger, "warning", "si",
        "%d hotfix client(s) still running on_change callbacks at exit; "
        "not waiting for them any longer",
        left);
    if (result == nullptr) PyErr_Clear();
    Py_XDECREF(result);
  }
  LogBridge::Get().Shutdown();
}

// ---------------------------------------------------------------- fast path
//
// enabled() is the call applications make per request, so Client.enabled and
// FlagHandle.enabled are plain CPython METH_FASTCALL methods instead of going
// through pybind11's generic dispatcher (which costs about as much again as
// the rest of the call; see docs/benchmarks.md). They behave exactly like
// the pybind11 definitions they replace.

// Parses (names[0], names[1]=None) from a vectorcall; false with a Python
// error set on bad arguments. `values[i]` must be preset (nullptr: required).
bool ParseArgs(const char* function, const char* const* names, int count,
               PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
               PyObject** values) {
  if (nargs > count) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)",
                 function, count, nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < nargs; ++i) values[i] = args[i];
  if (kwnames != nullptr) {
    const Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      PyObject* name = PyTuple_GET_ITEM(kwnames, k);
      int slot = -1;
      for (int i = 0; i < count; ++i) {
        if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0) slot = i;
      }
      if (slot < 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s() got an unexpected keyword argument '%U'", function,
                     name);
        return false;
      }
      if (slot < nargs) {
        PyErr_Format(PyExc_TypeError,
                     "%s() got multiple values for argument '%s'", function,
                     names[slot]);
        return false;
      }
      values[slot] = args[nargs + k];
    }
  }
  for (int i = 0; i < count; ++i) {
    if (values[i] == nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'",
                   function, names[i]);
      return false;
    }
  }
  return true;
}

// Runs `body` (returning a bool), translating C++ exceptions into Python
// errors.
template <typename Body>
PyObject* ReturnBool(Body&& body) {
  try {
    return PyBool_FromLong(body() ? 1 : 0);
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

PyObject* ClientEnabledFast(PyObject* self, PyObject* const* args,
                            Py_ssize_t nargs, PyObject* kwnames) {
  static const char* const kNames[] = {"flag", "context"};
  PyObject* values[2] = {nullptr, Py_None};
  if (!ParseArgs("enabled", kNames, 2, args, nargs, kwnames, values)) {
    return nullptr;
  }
  PyClient* client = SelfOrNull<PyClient>(self, /*type_checked=*/true);
  if (client == nullptr) return nullptr;
  FlagKey flag;
  if (!flag.Load(values[0], "enabled")) return nullptr;
  return ReturnBool([&] { return client->Enabled(flag.view, values[1]); });
}

PyObject* FlagEnabledFast(PyObject* self, PyObject* const* args,
                          Py_ssize_t nargs, PyObject* kwnames) {
  static const char* const kNames[] = {"context"};
  PyObject* values[1] = {Py_None};
  if (!ParseArgs("enabled", kNames, 1, args, nargs, kwnames, values)) {
    return nullptr;
  }
  PyFlag* flag = SelfOrNull<PyFlag>(self, /*type_checked=*/true);
  if (flag == nullptr) return nullptr;
  return ReturnBool([&] { return flag->Enabled(values[0]); });
}

// Docstrings start with a text signature ("name($self, /, ...)\n--\n\n"),
// which CPython turns into __text_signature__ for inspect.signature(). The
// pybind11 methods below write "self" without the "$": pybind11 binds its
// functions to a capsule, which inspect already drops as their "self".

PyMethodDef kClientEnabledDef = {
    "enabled",
    reinterpret_cast<PyCFunction>(
        reinterpret_cast<void (*)()>(&ClientEnabledFast)),
    METH_FASTCALL | METH_KEYWORDS,
    "enabled($self, /, flag, context=None)\n--\n\n"
    "True if `flag` serves boolean true for `context` (a dict or Mapping, a "
    "str key, or None); False when it is unknown, killed without an off "
    "variant, not boolean, or the client has no flags or is closed. Raises "
    "only TypeError, for a flag or context of the wrong type."};

PyMethodDef kFlagEnabledDef = {
    "enabled",
    reinterpret_cast<PyCFunction>(
        reinterpret_cast<void (*)()>(&FlagEnabledFast)),
    METH_FASTCALL | METH_KEYWORDS,
    "enabled($self, /, context=None)\n--\n\n"
    "Same as Client.enabled(key, context); one atomic load for a flag that "
    "does not depend on the context."};

void InstallFastMethod(py::handle type, PyMethodDef* def) {
  PyObject* descr =
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(type.ptr()), def);
  if (descr == nullptr) throw py::error_already_set();
  type.attr(def->ml_name) = py::reinterpret_steal<py::object>(descr);
}

}  // namespace
}  // namespace hotfix_python

PYBIND11_MODULE(_hotfix, m) {
  using namespace hotfix_python;  // NOLINT: the module's own definitions

  // Docstrings carry their own text signatures (see kClientEnabledDef).
  py::options options;
  options.disable_function_signatures();

  m.doc() =
      "The compiled core of the hotfix package; use `import hotfix` instead.";
  m.attr("__version__") = HOTFIX_VERSION_STRING;
  g_main_thread = py::cast<unsigned long>(
      py::module_::import("threading").attr("main_thread")().attr("ident"));
  g_logger = py::module_::import("logging")
                 .attr("getLogger")("hotfix")
                 .release()
                 .ptr();  // kept forever

  g_hotfix_error = NewException(
      m, "HotfixError",
      "Base class of hotfix errors. `code` is the canonical status code name "
      "(e.g. \"INVALID_ARGUMENT\"); str(e) is the core's message.",
      PyExc_Exception);
  {
    py::tuple bases = py::make_tuple(py::handle(g_hotfix_error),
                                     py::handle(PyExc_ValueError));
    g_config_error = NewException(
        m, "ConfigError",
        "Invalid options or flag document (INVALID_ARGUMENT, NOT_FOUND, ...).",
        bases.ptr());
  }
  {
    py::tuple bases = py::make_tuple(py::handle(g_hotfix_error),
                                     py::handle(PyExc_RuntimeError));
    g_state_error = NewException(
        m, "StateError",
        "The operation is not allowed in the client's state (closed, or "
        "publishing from an on_change callback of the same client).",
        bases.ptr());
  }

  py::class_<Evaluation>(m, "Evaluation", "The full story of one evaluation.")
      .def_property_readonly(
          "value", Field(&Evaluation::value),
          "The value served (bool, str, float, or the parsed JSON object), or "
          "None when the caller's default applies.")
      .def_property_readonly("variant", Field(&Evaluation::variant),
                             "Name of the variant served, or None.")
      .def_property_readonly(
          "reason", Field(&Evaluation::reason),
          "\"STATIC\", \"TARGET_MATCH\", \"RULE_MATCH\", \"ROLLOUT\", "
          "\"DEFAULT\", \"KILLED\", \"PREREQUISITE_FAILED\", \"GUARD_TRIPPED\" "
          "or "
          "\"ERROR\".")
      .def_property_readonly("error", Field(&Evaluation::error),
                             "For reason \"ERROR\": \"FLAG_NOT_FOUND\", "
                             "\"TYPE_MISMATCH\", \"NOT_READY\", "
                             "\"MISSING_BUCKET_KEY\" or \"GENERAL\"; else "
                             "None.")
      .def_property_readonly(
          "rule_index", Field(&Evaluation::rule_index),
          "Index of the matching rule for \"RULE_MATCH\", else None.")
      .def_property_readonly(
          "version", Field(&Evaluation::version),
          "Version of the flag set that answered; 0 when none.")
      .def_property_readonly(
          "value_type", Field(&Evaluation::value_type),
          "\"bool\", \"string\", \"number\", \"json\" or \"none\".")
      .def(
          "__repr__",
          [](py::handle self) {
            const Evaluation& e = Self<Evaluation>(self);
            return py::str(
                       "Evaluation(value={!r}, variant={!r}, reason={!r}, "
                       "error={!r}, rule_index={!r}, version={})")
                .format(e.value, e.variant, e.reason, e.error, e.rule_index,
                        e.version);
          },
          "__repr__(self, /)\n--\n\n");

  py::class_<Status>(m, "Status", "Health of a client's sources.")
      .def_property_readonly("state", Field(&Status::state),
                             "\"initializing\", \"valid\", \"stale\", "
                             "\"error\" or \"off\" (no live source).")
      .def_property_readonly(
          "origin", Field(&Status::origin),
          "Where the flags being served came from: \"none\", \"bootstrap\", "
          "\"cache\", \"file\", \"poll\", \"stream\" or \"test\".")
      .def_property_readonly("version", Field(&Status::version),
                             "Version of the flag set being served; 0 when "
                             "none.")
      .def_property_readonly("snapshot_time", Field(&Status::snapshot_time),
                             "When the flags being served were accepted "
                             "(Unix seconds), or None.")
      .def_property_readonly("last_success", Field(&Status::last_success),
                             "When a source last succeeded (Unix seconds), or "
                             "None.")
      .def_property_readonly("last_error", Field(&Status::last_error),
                             "Message of the last source error since the last "
                             "success, or None.")
      .def_property_readonly("last_error_code", Field(&Status::last_error_code),
                             "Canonical code name of last_error, or None.")
      .def_property_readonly("last_error_time", Field(&Status::last_error_time),
                             "When last_error happened (Unix seconds), or "
                             "None.")
      .def_property_readonly("age", Field(&Status::age),
                             "Seconds since the flags being served were "
                             "accepted, or None.")
      .def_property_readonly(
          "config_error", Field(&Status::config_error),
          "True while last_error is a configuration problem that retrying "
          "will not fix (HTTP 401, 403, 404).")
      .def_property_readonly("connection", Field(&Status::connection),
                             "The remote source: \"none\", \"connecting\", "
                             "\"streaming\" or \"polling\".")
      .def_property_readonly(
          "server", Field(&Status::server),
          "The base URL of the server the remote source follows (\"\" until "
          "one has answered); with several urls it moves on failure.")
      .def_property_readonly(
          "last_rejection", Field(&Status::last_rejection),
          "The last document a source delivered and the client refused "
          "(survives later successes), or None.")
      .def_property_readonly(
          "guard_trips", Field(&Status::guard_trips),
          "Flags whose local guard tripped in this process: a list of dicts "
          "with flag, variant, version, failures, outcomes, detail, time.")
      .def_property_readonly(
          "telemetry", Field(&Status::telemetry),
          "Counting and posting: a dict with counting, sending, posts, "
          "dropped and last_error.")
      .def_property_readonly("last_rejection_time",
                             Field(&Status::last_rejection_time),
                             "When last_rejection happened (Unix seconds), or "
                             "None.")
      .def(
          "__repr__",
          [](py::handle self) {
            const Status& s = Self<Status>(self);
            return py::str(
                       "Status(state={!r}, origin={!r}, version={}, "
                       "connection={!r}, server={!r}, last_error={!r})")
                .format(s.state, s.origin, s.version, s.connection, s.server,
                        s.last_error);
          },
          "__repr__(self, /)\n--\n\n");

  py::class_<ChangeEvent>(m, "ChangeEvent",
                          "One accepted change, passed to on_change callbacks.")
      .def_property_readonly("old_version", Field(&ChangeEvent::old_version),
                             "Version served before the change; 0 when none.")
      .def_property_readonly("new_version", Field(&ChangeEvent::new_version),
                             "Version served from the change on.")
      .def_property_readonly("origin", Field(&ChangeEvent::origin),
                             "Where the new flags came from (as "
                             "Status.origin).")
      .def_property_readonly("changed_keys", Field(&ChangeEvent::changed_keys),
                             "Sorted keys whose evaluation may differ.")
      .def(
          "__repr__",
          [](py::handle self) {
            const ChangeEvent& e = Self<ChangeEvent>(self);
            return py::str(
                       "ChangeEvent(old_version={}, new_version={}, "
                       "origin={!r}, changed_keys={!r})")
                .format(e.old_version, e.new_version, e.origin, e.changed_keys);
          },
          "__repr__(self, /)\n--\n\n");

  auto flag_get = [](hotfix::ValueType type) {
    return [type](py::handle self, py::object d, py::handle c) {
      return Self<PyFlag>(self).Get(type, std::move(d), c);
    };
  };
  py::class_<PyFlag>(m, "FlagHandle",
                     "A flag key resolved once (Client.flag()); follows every "
                     "later flag set. enabled() on a context-independent flag "
                     "is one atomic load. Made by Client.flag() only.")
      .def_property_readonly(
          "key",
          [](py::handle self) { return KeyToPython(Self<PyFlag>(self).key()); },
          "The flag key this handle resolves.")
      .def(
          "enabled",
          [](py::handle self, py::handle c) {
            return Self<PyFlag>(self).Enabled(c);
          },
          py::arg("context") = py::none(),
          "enabled(self, /, context=None)\n--\n\n")
      .def("get_bool", flag_get(hotfix::ValueType::kBool),
           py::arg("default") = false, py::arg("context") = py::none(),
           "get_bool(self, /, default=False, context=None)\n--\n\n"
           "The flag's boolean value, or `default` (any object) when it does "
           "not serve one.")
      .def("get_string", flag_get(hotfix::ValueType::kString),
           py::arg("default") = "", py::arg("context") = py::none(),
           "get_string(self, /, default='', context=None)\n--\n\n"
           "The flag's string value, or `default`.")
      .def(
          "get_int",
          [](py::handle self, py::object d, py::handle c) {
            return Self<PyFlag>(self).GetInt(std::move(d), c);
          },
          py::arg("default") = 0, py::arg("context") = py::none(),
          "get_int(self, /, default=0, context=None)\n--\n\n"
          "The flag's number truncated toward zero, or `default` (also "
          "outside the int64 range).")
      .def("get_float", flag_get(hotfix::ValueType::kNumber),
           py::arg("default") = 0.0, py::arg("context") = py::none(),
           "get_float(self, /, default=0.0, context=None)\n--\n\n"
           "The flag's number, or `default`.")
      .def("get_json", flag_get(hotfix::ValueType::kJson),
           py::arg("default") = py::none(), py::arg("context") = py::none(),
           "get_json(self, /, default=None, context=None)\n--\n\n"
           "The flag's JSON value, parsed (a fresh object per call), or "
           "`default`.")
      .def(
          "evaluate",
          [](py::handle self, py::handle c, py::handle expected) {
            return Self<PyFlag>(self).Evaluate(c, expected);
          },
          py::arg("context") = py::none(), py::arg("expected") = py::none(),
          "evaluate(self, /, context=None, expected=None)\n--\n\n"
          "The full Evaluation; `expected` (\"bool\", \"string\", \"number\" "
          "or \"json\") turns a type difference into ERROR/TYPE_MISMATCH.")
      .def(
          "__repr__",
          [](py::handle self) {
            return py::str("FlagHandle({!r})")
                .format(KeyToPython(Self<PyFlag>(self).key()));
          },
          "__repr__(self, /)\n--\n\n");

  auto client_get = [](hotfix::ValueType type) {
    return [type](py::handle self, py::handle f, py::object d, py::handle c) {
      return Self<PyClient>(self).Get(f, type, std::move(d), c);
    };
  };
  py::class_<PyClient>(m, "Client",
                       "The compiled client. Use hotfix.Client, which adds "
                       "the constructors and the context manager.")
      .def(py::init([](py::args args, const py::kwargs& kwargs) {
             if (!args.empty()) {
               throw py::type_error("Client() takes keyword arguments only");
             }
             return std::make_unique<PyClient>(MakeOptions(kwargs));
           }),
           "__init__(self, /, **options)\n--\n\nSee hotfix.Client.")
      .def("get_bool", client_get(hotfix::ValueType::kBool), py::arg("flag"),
           py::arg("default") = false, py::arg("context") = py::none(),
           "get_bool(self, /, flag, default=False, context=None)\n--\n\n"
           "The flag's boolean value for `context`, or `default` (any object) "
           "when the flag does not serve one (unknown, killed without an off "
           "variant, another type, no flags, closed).")
      .def("get_string", client_get(hotfix::ValueType::kString),
           py::arg("flag"), py::arg("default") = "",
           py::arg("context") = py::none(),
           "get_string(self, /, flag, default='', context=None)\n--\n\n"
           "The flag's string value, or `default`.")
      .def(
          "get_int",
          [](py::handle self, py::handle f, py::object d, py::handle c) {
            return Self<PyClient>(self).GetInt(f, std::move(d), c);
          },
          py::arg("flag"), py::arg("default") = 0,
          py::arg("context") = py::none(),
          "get_int(self, /, flag, default=0, context=None)\n--\n\n"
          "The flag's number truncated toward zero, or `default` (also "
          "outside the int64 range).")
      .def("get_float", client_get(hotfix::ValueType::kNumber), py::arg("flag"),
           py::arg("default") = 0.0, py::arg("context") = py::none(),
           "get_float(self, /, flag, default=0.0, context=None)\n--\n\n"
           "The flag's number, or `default`.")
      .def("get_json", client_get(hotfix::ValueType::kJson), py::arg("flag"),
           py::arg("default") = py::none(), py::arg("context") = py::none(),
           "get_json(self, /, flag, default=None, context=None)\n--\n\n"
           "The flag's JSON value, parsed (a fresh object per call), or "
           "`default`.")
      .def(
          "evaluate",
          [](py::handle self, py::handle f, py::handle c, py::handle e) {
            return Self<PyClient>(self).Evaluate(f, c, e);
          },
          py::arg("flag"), py::arg("context") = py::none(),
          py::arg("expected") = py::none(),
          "evaluate(self, /, flag, context=None, expected=None)\n--\n\n"
          "The full Evaluation of `flag`: value, variant, reason, error, rule "
          "index and version. `expected` (\"bool\", \"string\", \"number\" or "
          "\"json\") turns a type difference into ERROR/TYPE_MISMATCH.")
      .def(
          "report",
          [](py::handle self, py::handle f, py::handle ok, py::handle c) {
            Self<PyClient>(self).Report(f, ok, c);
          },
          py::arg("flag"), py::arg("ok"), py::arg("context") = py::none(),
          "report(self, /, flag, ok, context=None)\n--\n\n"
          "Records one outcome (ok=True: success, False: failure) of work "
          "done under `flag`, for the variant `flag` serves `context` now. "
          "Feeds the flag's local guard and the counts sent to the server. "
          "Does nothing when counting is off, the flag serves no variant, or "
          "the client is closed.")
      .def(
          "flag",
          [](py::object self, py::handle key) {
            PyClient& client = Self<PyClient>(self);
            FlagKey flag_key;
            flag_key.LoadOrThrow(key, "flag");
            hotfix::FlagHandle handle = client.Live().Flag(flag_key.view);
            return PyFlag(self, client.state(), handle);
          },
          py::arg("key"),
          "flag(self, /, key)\n--\n\n"
          "A FlagHandle for `key`, resolved once; it follows every later flag "
          "set. Closed client: StateError.")
      .def(
          "on_change",
          [](py::handle self, py::object callback) {
            return Self<PyClient>(self).OnChange(std::move(callback));
          },
          py::arg("callback"),
          "on_change(self, /, callback)\n--\n\n"
          "Calls callback(event: ChangeEvent) once per flag set accepted "
          "after this call that changes any flag (not for one accepted "
          "before, even if it is still being delivered), on the thread that "
          "accepted it, after the callbacks registered before it. Returns an "
          "id for "
          "remove_listener(). Closed client: StateError.")
      .def(
          "remove_listener",
          [](py::handle self, int listener_id) {
            Self<PyClient>(self).RemoveListener(listener_id);
          },
          py::arg("listener_id"),
          "remove_listener(self, /, listener_id)\n--\n\n"
          "Stops calls of that callback. Never waits: a call already running "
          "on another thread finishes. Unknown ids (and closed clients) are "
          "ignored.")
      .def(
          "status",
          [](py::handle self) { return Self<PyClient>(self).GetStatus(); },
          "status(self, /)\n--\n\n"
          "The health of the client's sources (a Status). Closed client: "
          "StateError.")
      .def(
          "wait_until_ready",
          [](py::handle self, py::handle timeout) {
            return Self<PyClient>(self).WaitUntilReady(timeout);
          },
          py::arg("timeout"),
          "wait_until_ready(self, /, timeout)\n--\n\n"
          "Waits until the client serves flags or `timeout` seconds pass; "
          "True if it does. timeout=0 only checks; math.inf waits without "
          "limit. Returns False at once if another thread closes the client "
          "meanwhile. Interruptible (KeyboardInterrupt). Closed client: "
          "StateError.")
      .def(
          "publish",
          [](py::handle self, py::handle json) {
            Self<PyClient>(self).Publish(json);
          },
          py::arg("document"),
          "publish(self, /, document)\n--\n\n"
          "Compiles and serves `document` (JSON str or bytes) and calls the "
          "on_change callbacks on this thread. Invalid: ConfigError, nothing "
          "changes. A KeyboardInterrupt or SystemExit raised by a callback "
          "stops the delivery and is raised here (the flags are published).")
      .def(
          "after_fork",
          [](py::handle self) { Self<PyClient>(self).AfterFork(); },
          "after_fork(self, /)\n--\n\n"
          "Restarts the client's sources in a forked child. Done "
          "automatically for os.fork(); a no-op on a closed client.")
      .def(
          "close", [](py::handle self) { Self<PyClient>(self).Close(); },
          "close(self, /)\n--\n\n"
          "Closes the client: evaluations serve defaults from now on, no "
          "callback starts, management calls raise StateError. Stops the "
          "sources and joins their threads before returning, unless an "
          "on_change callback of this client is running (on any thread): then "
          "that happens on a background thread once the callback returns, "
          "and close() does not wait for it. Idempotent.")
      .def_property_readonly(
          "closed",
          [](py::handle self) { return Self<PyClient>(self).closed(); },
          "True once close() was called.")
      .def_property_readonly(
          "version",
          [](py::handle self) { return Self<PyClient>(self).version(); },
          "Version of the flag set being served; 0 when none or closed.");

  InstallFastMethod(m.attr("Client"), &kClientEnabledDef);
  InstallFastMethod(m.attr("FlagHandle"), &kFlagEnabledDef);

  // Benchmark helpers for bindings/python/bench_enabled.py, kept off the
  // public surface: the floor of a bound call, and the same call releasing
  // and re-taking the GIL.
  py::module_ bench = m.def_submodule(
      "_bench", "Private: baselines for bindings/python/bench_enabled.py.");
  bench.def(
      "noop", [] { return false; }, "noop()\n--\n\nDoes nothing.");
  bench.def(
      "noop_release_gil", [] { return WithoutGil([] { return false; }); },
      "noop_release_gil()\n--\n\nReleases and re-takes the GIL.");

  // The core's log messages go to the "hotfix" logger.
  LogBridge::Get().Start();

  // A forked child has no source threads: restart them in every live client.
  // At exit, close every client before the interpreter finalizes, so no
  // source thread is left wanting the GIL.
  py::module_::import("os").attr("register_at_fork")(
      py::arg("before") = py::cpp_function(&BeforeFork),
      py::arg("after_in_parent") = py::cpp_function(&AfterForkInParent),
      py::arg("after_in_child") = py::cpp_function(&AfterForkInChild));
  py::module_::import("atexit").attr("register")(
      py::cpp_function(&CloseAllAtExit));
}
