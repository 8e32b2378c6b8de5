// bindings/python/hotfix_module.cc
//
// hotfix._hotfix: the pybind11 module behind the `hotfix` Python package
// (bindings/python/hotfix/__init__.py). It wraps hotfix::Client directly; the
// package adds the Python-side conveniences (constructors, context manager).
//
// The GIL, and why evaluation keeps it. Evaluations (enabled, get_*,
// evaluate, and the FlagHandle methods) run with the GIL held. That is what
// makes them safe without any further synchronization: a context dict's
// strings are viewed in place (hotfix::Context never copies) and nobody can
// mutate the dict or close the client while we read them. Releasing the GIL
// would cost more than the evaluation itself (see docs/benchmarks.md,
// "Python"), and would need reference counting of the client and copies of
// the context. Everything that may block or wait for a source thread
// (creation, close, publish, remove_listener, wait_until_ready) releases the
// GIL, because source threads take the GIL to run on_change callbacks: holding
// it there could deadlock.
//
// Client.enabled and FlagHandle.enabled, the per-request calls, are plain
// METH_FASTCALL methods (see "fast path") rather than pybind11 definitions.
//
// Thread-safe: the GIL serializes every entry; hotfix::Client does the rest.

#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "hotfix/client.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/options.h"
#include "hotfix/snapshot.h"
#include "hotfix/value.h"

namespace py = pybind11;

namespace hotfix_python {
namespace {

// ---------------------------------------------------------------- errors

// The exception classes, created once and never freed (the interpreter may be
// finalizing when static destructors would run).
PyObject* g_hotfix_error = nullptr;  // HotfixError(Exception)
PyObject* g_config_error = nullptr;  // ConfigError(HotfixError, ValueError)
PyObject* g_state_error = nullptr;   // StateError(HotfixError, RuntimeError)

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

// ---------------------------------------------------------------- values

py::object& JsonLoads() {
  static py::object* const loads =
      new py::object(py::module_::import("json").attr("loads"));
  return *loads;
}

py::object DecodeUtf8(std::string_view s) {
  PyObject* str = PyUnicode_DecodeUTF8(
      s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
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
  const std::string name = py::cast<std::string>(expected);
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

// ---------------------------------------------------------------- contexts

std::string_view Utf8View(PyObject* str) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(str, &size);
  if (data == nullptr) throw py::error_already_set();
  return std::string_view(data, static_cast<std::size_t>(size));
}

std::string_view BytesView(PyObject* bytes) {
  return std::string_view(PyBytes_AS_STRING(bytes),
                          static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
}

[[noreturn]] void BadAttribute(std::string_view name, PyObject* value,
                               const char* expected) {
  throw py::type_error("context[\"" + std::string(name) + "\"]: expected " +
                       expected + ", not " + Py_TYPE(value)->tp_name);
}

// Fills `ctx` from `obj`: None (an empty context), a str (the context key) or
// a dict (or any mapping) of attribute name -> str, bytes, bool, int, float or
// None (None: the attribute is absent); "key" is the context key.
//
// Lifetimes: the Context views the UTF-8 buffers that str objects cache inside
// themselves (PyUnicode_AsUTF8AndSize) and bytes buffers in place, so nothing
// is copied; `holder` keeps a converted mapping alive, and the caller holds the
// GIL for the whole evaluation, so nobody can mutate or free the dict's
// contents while the views are in use. A context with more than
// hotfix::Context::kInlineAttributes attributes allocates (and frees) a vector.
void FillContext(py::handle obj, hotfix::Context& ctx, py::object& holder) {
  PyObject* dict = obj.ptr();
  if (obj.is_none()) return;
  if (PyUnicode_Check(dict)) {
    ctx.set_key(Utf8View(dict));
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
                           Py_TYPE(dict)->tp_name);
    }
    holder = py::dict(py::reinterpret_borrow<py::object>(obj));
    dict = holder.ptr();
  }
  Py_ssize_t pos = 0;
  PyObject* name_obj;
  PyObject* value;
  while (PyDict_Next(dict, &pos, &name_obj, &value)) {
    if (!PyUnicode_Check(name_obj)) {
      throw py::type_error(std::string("context: attribute names must be str, "
                                       "not ") +
                           Py_TYPE(name_obj)->tp_name);
    }
    const std::string_view name = Utf8View(name_obj);
    if (value == Py_None) continue;
    if (name == "key") {
      if (PyUnicode_Check(value)) {
        ctx.set_key(Utf8View(value));
      } else if (PyBytes_Check(value)) {
        ctx.set_key(BytesView(value));
      } else {
        BadAttribute(name, value, "str (the context key)");
      }
    } else if (PyUnicode_Check(value)) {
      ctx.Set(name, Utf8View(value));
    } else if (PyBool_Check(value)) {
      ctx.Set(name, value == Py_True);
    } else if (PyLong_Check(value)) {
      const double number = PyLong_AsDouble(value);
      if (number == -1.0 && PyErr_Occurred()) throw py::error_already_set();
      ctx.SetNumber(name, number);
    } else if (PyFloat_Check(value)) {
      ctx.SetNumber(name, PyFloat_AS_DOUBLE(value));
    } else if (PyBytes_Check(value)) {
      ctx.Set(name, BytesView(value));
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
      FillContext(obj, *context_, holder_);
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
  py::object holder_;
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
  py::object last_rejection;
  py::object last_rejection_time;
};

struct ChangeEvent {
  std::uint64_t old_version = 0;
  std::uint64_t new_version = 0;
  std::string origin;
  py::list changed_keys;
};

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

// ---------------------------------------------------------------- client

class PyClient;

// Live clients, for after_fork and for closing at interpreter exit. Guarded
// by the GIL.
std::unordered_set<PyClient*>& LiveClients() {
  static auto* const live = new std::unordered_set<PyClient*>();
  return *live;
}

bool InterpreterFinalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// The on_change callbacks of one client. Shared by the PyClient and the
// listener closures inside the hotfix::Client, so a closure never points at a
// freed PyClient. `listeners` holds Python objects and is touched only with
// the GIL; it is emptied before the last reference can be dropped without the
// GIL, so destroying the table never needs the GIL.
struct ListenerTable {
  struct Listener {
    py::object callback;
    int core_id = 0;
  };
  std::atomic<bool> active{true};
  std::map<int, Listener> listeners;  // guarded by the GIL
};

// The listener tables whose callbacks are running on this thread, innermost
// last: a client must not be closed from its own callback (it would join the
// thread it runs on, or be freed under the publish() that called it).
thread_local std::vector<const ListenerTable*> t_dispatching;

bool DispatchingOnThisThread(const ListenerTable* table) {
  for (const ListenerTable* t : t_dispatching) {
    if (t == table) return true;
  }
  return false;
}

// Clients dropped from inside their own callbacks: they cannot be destroyed
// there, so they wait here (callbacks deactivated) until interpreter exit.
std::vector<std::unique_ptr<hotfix::Client>>& Orphans() {
  static auto* const orphans =
      new std::vector<std::unique_ptr<hotfix::Client>>();
  return *orphans;
}

// Dispatches in progress (waiting for the GIL or running callbacks), for the
// before-fork hook.
std::atomic<int> g_dispatches_in_flight{0};

// Runs on the thread that accepted a change (a source thread, or the thread
// in publish()), without the GIL.
void Dispatch(const std::shared_ptr<ListenerTable>& table, int id,
              const hotfix::ChangeEvent& event);

class PyClient {
 public:
  explicit PyClient(const hotfix::ClientOptions& options) {
    absl::StatusOr<std::unique_ptr<hotfix::Client>> client;
    {
      py::gil_scoped_release release;
      client = hotfix::Client::Create(options);
    }
    if (!client.ok()) Raise(client.status());
    client_ = *std::move(client);
    LiveClients().insert(this);
  }
  ~PyClient() {
    if (client_ != nullptr && DispatchingOnThisThread(table_.get())) {
      // The last reference was dropped inside one of this client's callbacks.
      LiveClients().erase(this);
      table_->active.store(false, std::memory_order_release);
      table_->listeners.clear();
      Orphans().push_back(std::move(client_));
      return;
    }
    Close();
  }
  PyClient(const PyClient&) = delete;
  PyClient& operator=(const PyClient&) = delete;

  // The client, or nullptr once closed. Callers hold the GIL.
  const hotfix::Client* get() const { return client_.get(); }
  bool closed() const { return client_ == nullptr; }

  hotfix::Client& Live() {
    if (client_ == nullptr) RaiseClosed();
    return *client_;
  }

  void Close() {
    if (client_ == nullptr) return;
    if (DispatchingOnThisThread(table_.get())) {
      Raise(absl::FailedPreconditionError(
          "close() cannot be called from the client's own on_change "
          "callback"));
    }
    LiveClients().erase(this);
    std::unique_ptr<hotfix::Client> client = std::move(client_);
    {
      // Joins the source threads, which may be waiting for the GIL to run a
      // callback.
      py::gil_scoped_release release;
      client.reset();
    }
    table_->active.store(false, std::memory_order_release);
    table_->listeners.clear();
  }

  bool Enabled(std::string_view flag, py::handle context) const {
    if (client_ == nullptr) return false;
    if (context.is_none()) return client_->Enabled(flag);
    ContextArg ctx(context);
    return client_->Enabled(flag, ctx.get());
  }

  hotfix::EvaluationDetail Detail(std::string_view flag, const ContextArg& ctx,
                                  hotfix::ValueType expected) const {
    if (client_ == nullptr) {
      hotfix::EvaluationDetail d;
      d.reason = hotfix::Reason::kError;
      d.error = hotfix::ErrorKind::kNotReady;
      return d;
    }
    return client_->Evaluate(flag, ctx.get(), expected);
  }

  py::object Get(std::string_view flag, hotfix::ValueType type,
                 py::object default_value, py::handle context) const {
    ContextArg ctx(context);
    return TypedGet([&](hotfix::ValueType t) { return Detail(flag, ctx, t); },
                    type, std::move(default_value));
  }

  py::object GetInt(std::string_view flag, py::object default_value,
                    py::handle context) const {
    ContextArg ctx(context);
    return IntGet([&](hotfix::ValueType t) { return Detail(flag, ctx, t); },
                  std::move(default_value));
  }

  Evaluation Evaluate(std::string_view flag, py::handle context,
                      py::handle expected) const {
    ContextArg ctx(context);
    return Evaluation::From(Detail(flag, ctx, ExpectedType(expected)));
  }

  int OnChange(py::object callback) {
    if (!PyCallable_Check(callback.ptr())) {
      throw py::type_error("on_change: callback must be callable");
    }
    hotfix::Client& client = Live();
    const int id = next_listener_id_++;
    ListenerTable::Listener& listener = table_->listeners[id];
    listener.callback = std::move(callback);
    listener.core_id = client.AddListener(
        [table = table_, id](const hotfix::ChangeEvent& event) {
          Dispatch(table, id, event);
        });
    return id;
  }

  void RemoveListener(int id) {
    auto it = table_->listeners.find(id);
    if (it == table_->listeners.end() || client_ == nullptr) return;
    const int core_id = it->second.core_id;
    {
      // Outside its own callbacks the core waits for a running dispatch,
      // which may need the GIL.
      hotfix::Client* client = client_.get();
      py::gil_scoped_release release;
      client->RemoveListener(core_id);
    }
    // The core let go: no call can be running or start.
    table_->listeners.erase(id);
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
      out.last_error = py::str(std::string(s.last_error.message()));
      out.last_error_code = py::str(CodeName(s.last_error.code()));
    }
    out.last_error_time = TimeToPython(s.last_error_time);
    out.age = s.age == absl::InfiniteDuration()
                  ? py::object(py::none())
                  : py::object(py::float_(absl::ToDoubleSeconds(s.age)));
    out.config_error = s.config_error;
    out.connection = std::string(hotfix::RemoteConnectionName(s.connection));
    out.last_rejection =
        s.last_rejection.ok()
            ? py::object(py::none())
            : py::object(py::str(std::string(s.last_rejection.message())));
    out.last_rejection_time = TimeToPython(s.last_rejection_time);
    return out;
  }

  bool WaitUntilReady(double timeout_seconds) {
    const hotfix::Client& client = Live();
    py::gil_scoped_release release;
    return client.WaitUntilReady(
        absl::Seconds(timeout_seconds > 0 ? timeout_seconds : 0));
  }

  void Publish(std::string_view json) {
    hotfix::Client& client = Live();
    absl::Status status;
    {
      // The json view stays valid: the argument object outlives the call.
      // Publishing runs the callbacks, which take the GIL themselves.
      py::gil_scoped_release release;
      status = client.Publish(json);
    }
    if (!status.ok()) Raise(status);
  }

  void AfterFork() {
    if (client_ != nullptr) client_->AfterFork();
  }

  std::uint64_t version() const {
    return client_ == nullptr ? 0 : client_->version();
  }

 private:
  std::unique_ptr<hotfix::Client> client_;
  std::shared_ptr<ListenerTable> table_ = std::make_shared<ListenerTable>();
  int next_listener_id_ = 1;
};

// Logs a callback's exception on the "hotfix" logger, with its traceback; if
// logging itself fails, reports through sys.unraisablehook. Never throws.
void LogCallbackError(py::error_already_set& error,
                      const py::object& callback) {
  try {
    py::object logger =
        py::module_::import("logging").attr("getLogger")("hotfix");
    logger.attr("error")(
        "hotfix: on_change callback %r raised; ignored", callback,
        py::arg("exc_info") =
            py::make_tuple(error.type(), error.value(), error.trace()));
  } catch (py::error_already_set& log_error) {
    log_error.discard_as_unraisable("hotfix on_change callback (logging)");
  } catch (const std::exception&) {
  }
}

void Dispatch(const std::shared_ptr<ListenerTable>& table, int id,
              const hotfix::ChangeEvent& event) {
  if (!table->active.load(std::memory_order_acquire) ||
      InterpreterFinalizing()) {
    return;
  }
  struct InFlight {
    InFlight() {
      g_dispatches_in_flight.fetch_add(1, std::memory_order_acq_rel);
    }
    ~InFlight() {
      g_dispatches_in_flight.fetch_sub(1, std::memory_order_acq_rel);
    }
  } in_flight;
  py::gil_scoped_acquire gil;
  auto it = table->listeners.find(id);
  if (it == table->listeners.end()) return;
  py::object callback = it->second.callback;  // survives a removal
  struct Scope {
    explicit Scope(const ListenerTable* t) { t_dispatching.push_back(t); }
    ~Scope() { t_dispatching.pop_back(); }
  } scope(table.get());
  try {
    ChangeEvent e;
    e.old_version = event.old_version;
    e.new_version = event.new_version;
    e.origin = std::string(hotfix::SnapshotOriginName(event.origin));
    for (const std::string& key : event.changed_keys) {
      e.changed_keys.append(py::str(key));
    }
    callback(std::move(e));
  } catch (py::error_already_set& error) {
    LogCallbackError(error, callback);
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
    py::error_already_set wrapped;
    LogCallbackError(wrapped, callback);
  }
}

// ---------------------------------------------------------------- handles

// A FlagHandle plus a reference to its client's Python object, so the
// hotfix::Client cannot be freed under it; after close() it serves defaults.
class PyFlag {
 public:
  PyFlag(py::object owner, PyClient* client, hotfix::FlagHandle handle)
      : owner_(std::move(owner)), client_(client), handle_(handle) {}

  const std::string& key() const { return handle_.key(); }

  bool Enabled(py::handle context) const {
    if (client_->closed()) return false;
    if (context.is_none()) return handle_.Enabled();
    ContextArg ctx(context);
    return handle_.Enabled(ctx.get());
  }

  hotfix::EvaluationDetail Detail(const ContextArg& ctx,
                                  hotfix::ValueType expected) const {
    if (client_->closed()) {
      hotfix::EvaluationDetail d;
      d.reason = hotfix::Reason::kError;
      d.error = hotfix::ErrorKind::kNotReady;
      return d;
    }
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
    ContextArg ctx(context);
    return Evaluation::From(Detail(ctx, ExpectedType(expected)));
  }

 private:
  py::object owner_;
  PyClient* client_;
  hotfix::FlagHandle handle_;
};

// ---------------------------------------------------------------- module

absl::Duration Seconds(double seconds, const char* name, bool allow_zero) {
  if (!(allow_zero ? seconds >= 0 : seconds > 0)) {
    Raise(absl::InvalidArgumentError(
        std::string(name) +
        (allow_zero ? ": must not be negative" : ": must be positive")));
  }
  return absl::Seconds(seconds);
}

std::size_t Bytes(std::int64_t bytes, const char* name) {
  if (bytes <= 0) {
    Raise(absl::InvalidArgumentError(std::string(name) + ": must be positive"));
  }
  return static_cast<std::size_t>(bytes);
}

// Client(...) keyword arguments, as hotfix.Client documents them.
hotfix::ClientOptions MakeOptions(const py::kwargs& kwargs) {
  hotfix::ClientOptions options;
  for (const auto& [key_obj, value] : kwargs) {
    const std::string key = py::cast<std::string>(key_obj);
    if (value.is_none()) continue;  // the default
    if (key == "bootstrap_json") {
      options.bootstrap_json = py::cast<std::string>(value);
    } else if (key == "bootstrap_path") {
      options.bootstrap_path = py::cast<std::string>(value);
    } else if (key == "file") {
      options.file.path = py::cast<std::string>(value);
    } else if (key == "poll_interval") {
      options.file.poll_interval =
          Seconds(py::cast<double>(value), "poll_interval", true);
    } else if (key == "max_file_bytes") {
      options.file.max_bytes =
          Bytes(py::cast<std::int64_t>(value), "max_file_bytes");
    } else if (key == "url") {
      options.remote.base_url = py::cast<std::string>(value);
    } else if (key == "sdk_key") {
      options.remote.sdk_key = py::cast<std::string>(value);
    } else if (key == "mode") {
      const std::string mode = py::cast<std::string>(value);
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
      options.remote.poll_interval =
          Seconds(py::cast<double>(value), "remote_poll_interval", false);
    } else if (key == "connect_timeout") {
      options.remote.connect_timeout =
          Seconds(py::cast<double>(value), "connect_timeout", false);
    } else if (key == "read_timeout") {
      options.remote.read_timeout =
          Seconds(py::cast<double>(value), "read_timeout", false);
    } else if (key == "heartbeat_timeout") {
      options.remote.heartbeat_timeout =
          Seconds(py::cast<double>(value), "heartbeat_timeout", false);
    } else if (key == "verify_tls") {
      options.remote.verify_tls = py::cast<bool>(value);
    } else if (key == "ca_file") {
      options.remote.ca_file = py::cast<std::string>(value);
    } else if (key == "cache_path") {
      options.cache_path = py::cast<std::string>(value);
    } else if (key == "unknown_operators") {
      const std::string policy = py::cast<std::string>(value);
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
      options.compile.max_document_bytes =
          Bytes(py::cast<std::int64_t>(value), "max_document_bytes");
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

// os.fork() holds the GIL, so a source thread delivering a change is often
// blocked on the GIL inside the core's listener dispatch at that moment, and
// the child would inherit the core's dispatch state mid-flight (a listener
// lock held by a thread that does not exist there). Before forking, let such
// dispatches finish: release the GIL until none is in flight, for at most a
// second. This narrows the window to the core's own microseconds-long
// publication step; closing it fully is the core's job (see the report on
// ClientCore and fork).
void BeforeFork() {
  if (g_dispatches_in_flight.load(std::memory_order_acquire) == 0) return;
  py::gil_scoped_release release;
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  while (g_dispatches_in_flight.load(std::memory_order_acquire) != 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Microseconds(100));
  }
}

// ---------------------------------------------------------------- fast path
//
// enabled() is the call applications make per request, so Client.enabled and
// FlagHandle.enabled are plain CPython METH_FASTCALL methods instead of going
// through pybind11's generic dispatcher (which costs about as much again as
// the rest of the call; see docs/benchmarks.md). They behave exactly like
// the pybind11 definitions they replace.

// The C++ object behind a pybind11 instance of (a subclass of) a bound class,
// or nullptr (with a Python error set) when its __init__ never ran. The
// method descriptor has already checked the type.
template <typename T>
T* Self(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (inst->simple_layout) {
    if (inst->simple_holder_constructed) {
      return static_cast<T*>(inst->simple_value_holder[0]);
    }
  } else {
    try {
      return py::cast<T*>(py::handle(self));
    } catch (...) {
    }
  }
  PyErr_SetString(PyExc_TypeError,
                  "hotfix: object not initialized (was __init__ called?)");
  return nullptr;
}

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
  std::string_view flag;
  if (PyUnicode_Check(values[0])) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(values[0], &size);
    if (data == nullptr) return nullptr;
    flag = std::string_view(data, static_cast<std::size_t>(size));
  } else if (PyBytes_Check(values[0])) {
    flag = BytesView(values[0]);
  } else {
    PyErr_Format(PyExc_TypeError, "enabled(): flag must be str, not %s",
                 Py_TYPE(values[0])->tp_name);
    return nullptr;
  }
  PyClient* client = Self<PyClient>(self);
  if (client == nullptr) return nullptr;
  return ReturnBool([&] { return client->Enabled(flag, values[1]); });
}

PyObject* FlagEnabledFast(PyObject* self, PyObject* const* args,
                          Py_ssize_t nargs, PyObject* kwnames) {
  static const char* const kNames[] = {"context"};
  PyObject* values[1] = {Py_None};
  if (!ParseArgs("enabled", kNames, 1, args, nargs, kwnames, values)) {
    return nullptr;
  }
  PyFlag* flag = Self<PyFlag>(self);
  if (flag == nullptr) return nullptr;
  return ReturnBool([&] { return flag->Enabled(values[0]); });
}

PyMethodDef kClientEnabledDef = {
    "enabled",
    reinterpret_cast<PyCFunction>(
        reinterpret_cast<void (*)()>(&ClientEnabledFast)),
    METH_FASTCALL | METH_KEYWORDS,
    "enabled(flag, context=None) -> bool\n\n"
    "True if `flag` serves boolean true for `context` (a dict, a str key or "
    "None); False when it is unknown, killed without an off variant, not "
    "boolean, or the client has no flags or is closed."};

PyMethodDef kFlagEnabledDef = {
    "enabled",
    reinterpret_cast<PyCFunction>(
        reinterpret_cast<void (*)()>(&FlagEnabledFast)),
    METH_FASTCALL | METH_KEYWORDS,
    "enabled(context=None) -> bool\n\n"
    "Same as Client.enabled(key, context); one atomic load for a flag that "
    "does not depend on the context."};

void InstallFastMethod(py::handle type, PyMethodDef* def) {
  PyObject* descr =
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(type.ptr()), def);
  if (descr == nullptr) throw py::error_already_set();
  type.attr(def->ml_name) = py::reinterpret_steal<py::object>(descr);
}

void AfterForkInChild() {
  g_dispatches_in_flight.store(0, std::memory_order_release);  // no threads
  for (PyClient* client : LiveClients()) client->AfterFork();
}

void CloseAllAtExit() {
  std::vector<PyClient*> clients(LiveClients().begin(), LiveClients().end());
  for (PyClient* client : clients) {
    try {
      client->Close();
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("hotfix: closing clients at exit");
    }
  }
  std::vector<std::unique_ptr<hotfix::Client>> orphans = std::move(Orphans());
  Orphans().clear();
  py::gil_scoped_release release;
  orphans.clear();
}

}  // namespace
}  // namespace hotfix_python

PYBIND11_MODULE(_hotfix, m) {
  using namespace hotfix_python;  // NOLINT: the module's own definitions

  m.doc() =
      "The compiled core of the hotfix package; use `import hotfix` instead.";
  m.attr("__version__") = HOTFIX_VERSION_STRING;

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
        "called from an on_change callback).",
        bases.ptr());
  }

  py::class_<Evaluation>(m, "Evaluation", "The full story of one evaluation.")
      .def_readonly("value", &Evaluation::value,
                    "The value served (bool, str, float, or the parsed JSON "
                    "object), or None when the caller's default applies.")
      .def_readonly("variant", &Evaluation::variant,
                    "Name of the variant served, or None.")
      .def_readonly(
          "reason", &Evaluation::reason,
          "\"STATIC\", \"TARGET_MATCH\", \"RULE_MATCH\", \"ROLLOUT\", "
          "\"DEFAULT\", \"KILLED\", \"PREREQUISITE_FAILED\" or "
          "\"ERROR\".")
      .def_readonly("error", &Evaluation::error,
                    "For reason \"ERROR\": \"FLAG_NOT_FOUND\", "
                    "\"TYPE_MISMATCH\", \"NOT_READY\", "
                    "\"MISSING_BUCKET_KEY\" or \"GENERAL\"; else None.")
      .def_readonly("rule_index", &Evaluation::rule_index,
                    "Index of the matching rule for \"RULE_MATCH\", else None.")
      .def_readonly("version", &Evaluation::version,
                    "Version of the flag set that answered; 0 when none.")
      .def_readonly("value_type", &Evaluation::value_type,
                    "\"bool\", \"string\", \"number\", \"json\" or \"none\".")
      .def("__repr__", [](const Evaluation& e) {
        return py::str(
                   "Evaluation(value={!r}, variant={!r}, reason={!r}, "
                   "error={!r}, rule_index={!r}, version={})")
            .format(e.value, e.variant, e.reason, e.error, e.rule_index,
                    e.version);
      });

  py::class_<Status>(m, "Status", "Health of a client's sources.")
      .def_readonly("state", &Status::state,
                    "\"initializing\", \"valid\", \"stale\", \"error\" or "
                    "\"off\" (no live source).")
      .def_readonly("origin", &Status::origin,
                    "Where the flags being served came from: \"none\", "
                    "\"bootstrap\", \"cache\", \"file\", \"poll\", \"stream\" "
                    "or \"test\".")
      .def_readonly("version", &Status::version)
      .def_readonly("snapshot_time", &Status::snapshot_time,
                    "When the flags being served were accepted (Unix "
                    "seconds), or None.")
      .def_readonly("last_success", &Status::last_success)
      .def_readonly("last_error", &Status::last_error,
                    "Message of the last source error since the last "
                    "success, or None.")
      .def_readonly("last_error_code", &Status::last_error_code)
      .def_readonly("last_error_time", &Status::last_error_time)
      .def_readonly("age", &Status::age,
                    "Seconds since the flags being served were accepted, or "
                    "None.")
      .def_readonly("config_error", &Status::config_error,
                    "True while last_error is a configuration problem that "
                    "retrying will not fix (HTTP 401, 403, 404).")
      .def_readonly("connection", &Status::connection,
                    "The remote source: \"none\", \"connecting\", "
                    "\"streaming\" or \"polling\".")
      .def_readonly("last_rejection", &Status::last_rejection,
                    "The last document a source delivered and the client "
                    "refused (survives later successes), or None.")
      .def_readonly("last_rejection_time", &Status::last_rejection_time)
      .def("__repr__", [](const Status& s) {
        return py::str(
                   "Status(state={!r}, origin={!r}, version={}, "
                   "connection={!r}, last_error={!r})")
            .format(s.state, s.origin, s.version, s.connection, s.last_error);
      });

  py::class_<ChangeEvent>(m, "ChangeEvent",
                          "One accepted change, passed to on_change callbacks.")
      .def_readonly("old_version", &ChangeEvent::old_version)
      .def_readonly("new_version", &ChangeEvent::new_version)
      .def_readonly("origin", &ChangeEvent::origin)
      .def_readonly("changed_keys", &ChangeEvent::changed_keys,
                    "Sorted keys whose evaluation may differ.")
      .def("__repr__", [](const ChangeEvent& e) {
        return py::str(
                   "ChangeEvent(old_version={}, new_version={}, origin={!r}, "
                   "changed_keys={!r})")
            .format(e.old_version, e.new_version, e.origin, e.changed_keys);
      });

  py::class_<PyFlag>(m, "FlagHandle",
                     "A flag key resolved once (Client.flag()); follows every "
                     "later flag set. enabled() on a context-independent flag "
                     "is one atomic load.")
      .def_property_readonly("key", &PyFlag::key)
      .def("enabled", &PyFlag::Enabled, py::arg("context") = py::none())
      .def(
          "get_bool",
          [](const PyFlag& f, py::object d, py::handle c) {
            return f.Get(hotfix::ValueType::kBool, std::move(d), c);
          },
          py::arg("default") = false, py::arg("context") = py::none())
      .def(
          "get_string",
          [](const PyFlag& f, py::object d, py::handle c) {
            return f.Get(hotfix::ValueType::kString, std::move(d), c);
          },
          py::arg("default") = "", py::arg("context") = py::none())
      .def("get_int", &PyFlag::GetInt, py::arg("default") = 0,
           py::arg("context") = py::none())
      .def(
          "get_float",
          [](const PyFlag& f, py::object d, py::handle c) {
            return f.Get(hotfix::ValueType::kNumber, std::move(d), c);
          },
          py::arg("default") = 0.0, py::arg("context") = py::none())
      .def(
          "get_json",
          [](const PyFlag& f, py::object d, py::handle c) {
            return f.Get(hotfix::ValueType::kJson, std::move(d), c);
          },
          py::arg("default") = py::none(), py::arg("context") = py::none())
      .def("evaluate", &PyFlag::Evaluate, py::arg("context") = py::none(),
           py::arg("expected") = py::none())
      .def("__repr__", [](const PyFlag& f) {
        return py::str("FlagHandle({!r})").format(f.key());
      });

  py::class_<PyClient>(m, "Client",
                       "The compiled client. Use hotfix.Client, which adds "
                       "the constructors and the context manager.")
      .def(py::init([](py::args args, const py::kwargs& kwargs) {
             if (!args.empty()) {
               throw py::type_error("Client() takes keyword arguments only");
             }
             return std::make_unique<PyClient>(MakeOptions(kwargs));
           }),
           "Client(**options); see hotfix.Client.")
      .def("enabled", &PyClient::Enabled, py::arg("flag"),
           py::arg("context") = py::none())
      .def(
          "get_bool",
          [](const PyClient& c, std::string_view f, py::object d,
             py::handle ctx) {
            return c.Get(f, hotfix::ValueType::kBool, std::move(d), ctx);
          },
          py::arg("flag"), py::arg("default") = false,
          py::arg("context") = py::none())
      .def(
          "get_string",
          [](const PyClient& c, std::string_view f, py::object d,
             py::handle ctx) {
            return c.Get(f, hotfix::ValueType::kString, std::move(d), ctx);
          },
          py::arg("flag"), py::arg("default") = "",
          py::arg("context") = py::none())
      .def("get_int", &PyClient::GetInt, py::arg("flag"),
           py::arg("default") = 0, py::arg("context") = py::none())
      .def(
          "get_float",
          [](const PyClient& c, std::string_view f, py::object d,
             py::handle ctx) {
            return c.Get(f, hotfix::ValueType::kNumber, std::move(d), ctx);
          },
          py::arg("flag"), py::arg("default") = 0.0,
          py::arg("context") = py::none())
      .def(
          "get_json",
          [](const PyClient& c, std::string_view f, py::object d,
             py::handle ctx) {
            return c.Get(f, hotfix::ValueType::kJson, std::move(d), ctx);
          },
          py::arg("flag"), py::arg("default") = py::none(),
          py::arg("context") = py::none())
      .def("evaluate", &PyClient::Evaluate, py::arg("flag"),
           py::arg("context") = py::none(), py::arg("expected") = py::none())
      .def(
          "flag",
          [](py::object self, std::string_view key) {
            PyClient& client = py::cast<PyClient&>(self);
            hotfix::FlagHandle handle = client.Live().Flag(key);
            return PyFlag(self, &client, handle);
          },
          py::arg("key"))
      .def("on_change", &PyClient::OnChange, py::arg("callback"))
      .def("remove_listener", &PyClient::RemoveListener, py::arg("listener_id"))
      .def("status", &PyClient::GetStatus)
      .def("wait_until_ready", &PyClient::WaitUntilReady,
           py::arg("timeout") = 0.0)
      .def("publish", &PyClient::Publish, py::arg("json"))
      .def("after_fork", &PyClient::AfterFork)
      .def("close", &PyClient::Close)
      .def_property_readonly("closed", &PyClient::closed)
      .def_property_readonly("version", &PyClient::version);

  InstallFastMethod(m.attr("Client"), &kClientEnabledDef);
  InstallFastMethod(m.attr("FlagHandle"), &kFlagEnabledDef);

  // Benchmark helpers (bindings/python/bench_enabled.py): the floor of a
  // bound call, and the same call releasing and re-taking the GIL.
  m.def("_bench_noop", []() { return false; });
  m.def("_bench_noop_release_gil", []() {
    py::gil_scoped_release release;
    return false;
  });

  // A forked child has no source threads: restart them in every live client.
  // At exit, close every client before the interpreter finalizes, so no
  // source thread is left wanting the GIL.
  py::module_::import("os").attr("register_at_fork")(
      py::arg("before") = py::cpp_function(&BeforeFork),
      py::arg("after_in_child") = py::cpp_function(&AfterForkInChild));
  py::module_::import("atexit").attr("register")(
      py::cpp_function(&CloseAllAtExit));
}
