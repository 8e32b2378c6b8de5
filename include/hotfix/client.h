// include/hotfix/client.h
//
// Client is the application's view of the current flags. It owns the sources
// that keep a compiled Snapshot up to date in the background and publishes
// each new snapshot so that evaluations never wait for a publication, never
// see half a snapshot and (but for `matches` clauses, below) never allocate
// or lock.
//
// Thread-safe: every method may be called concurrently from any thread, except
// that the Client must outlive every evaluation, FlagHandle and returned
// string_view (string values stay valid until the Client is destroyed).
// Every string_view an evaluation returns (string and JSON values, variant
// names) is followed by a NUL byte, so `.data()` is also a C string.
//
// What an evaluation (Enabled, the Get* methods, Evaluate, and the same on a
// FlagHandle) costs:
//  - A few atomic loads and two stores to a cache line of the calling
//    thread's own (its hazard slot), a hash lookup (not for handles), and the
//    flag's rules. No lock, no allocation, no system call.
//  - A thread's first evaluation claims its hazard slot from a preallocated
//    pool (it is given back when the thread exits); only when more threads
//    than the pool holds evaluate at once does a first evaluation allocate
//    (one block of 32 slots, 2 KiB, for the process).
//  - A `matches` clause runs RE2 (time linear in the attribute's length, no
//    backtracking). RE2 keeps a lazily built DFA per regex, shared by all
//    threads: every match takes that DFA's shared (reader) lock, and an input
//    that leads to DFA states not built yet takes its exclusive lock and
//    allocates them. So a `matches` clause allocates while its cache warms
//    up, and again for inputs unlike those seen before (RE2's cache is
//    bounded at about 1 MiB per regex; when it is full RE2 discards it and
//    starts over, or falls back to its NFA, which allocates per match).
//    Threads matching the same regex contend on that lock.
//  - With exposure counting on (TelemetryOptions::counting, the default), an
//    evaluation that serves a variant also counts it: a few loads and one
//    store to the calling thread's own counters (no lock, no locked
//    instruction). A thread's first count maps its counters (576 KiB of
//    address space, a 4 KiB page backed on first touch) and allocates 2 KiB;
//    later exposure counts never allocate. A thread's first outcome
//    (Guard/Report) in each block of 256 flag x variant counters allocates
//    once (4 KiB).
//  - Evaluation is not async-signal-safe: do not evaluate from a signal
//    handler.
//
// Guarded rollouts (docs/guarded-rollouts.md): Guard() and Report() record
// how the work done under a flag went; a flag whose `guard` trips in this
// process serves its fallback (reason kGuardTripped) until the server
// publishes a new definition of it. Counts and trips are posted to the
// remote source's server by a background thread.
//
// fork(): safe at any moment, whatever other threads are doing in the
// client. The client's locks are held across fork() by pthread_atfork
// handlers (a fork() waits for a publication or status update in progress,
// never for a listener), and the child re-creates
// what the parent's other threads may have been holding: condition
// variables, the listener dispatch, and the RE2 object of every `matches`
// clause (at the cost of compiling those regexes again in each child that
// does not exec). The child keeps serving the flags it had; call AfterFork()
// to restart the background sources there.
//
// Example:
//
//   hotfix::ClientOptions options;
//   options.file.path = "/etc/myservice/flags.json";
//   auto client = hotfix::Client::Create(options);
//   if (!client.ok()) { /* bad options or bootstrap: report and exit */ }
//   hotfix::Client& flags = **client;
//   if (flags.Enabled("fix-123")) { NewCodePath(); } else { OldCodePath(); }

#ifndef HOTFIX_CLIENT_H_
#define HOTFIX_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/export.h"
#include "hotfix/options.h"
#include "hotfix/snapshot.h"
#include "hotfix/status.h"
#include "hotfix/value.h"

namespace hotfix {

class Client;

namespace internal {
class ClientCore;
struct ClientAccess;

// The published per-handle state read by FlagHandle::Enabled(). Bits 0-1 are
// the state below; for kDynamic, bits 2-31 hold the flag's index in the
// snapshot whose publication generation (never 0) is in bits 32-63. For
// kStaticTrue/kStaticFalse, kCountBit says that the answer's exposure is
// counted, in the counter whose id is in bits 32-63.
// kPending (kDynamic with generation 0) matches no snapshot: readers evaluate
// by name in the snapshot they pin. It is what a static answer that is about
// to change holds while a publication swaps snapshots. kDead marks the cell
// of a destroyed Client (debug builds of the library).
struct HandleCell {
  static constexpr std::uint64_t kDynamic = 0;
  static constexpr std::uint64_t kStaticFalse = 1;
  static constexpr std::uint64_t kStaticTrue = 2;
  static constexpr std::uint64_t kDead = 3;
  static constexpr std::uint64_t kPending = 0;
  static constexpr std::uint64_t kCountBit = 4;
  // counts_serial when the Client counts nothing.
  static constexpr std::uint64_t kNoCounts = ~std::uint64_t{0};
  std::atomic<std::uint64_t> word{kStaticFalse};
  // The serial of the Client's exposure counters (ThreadCounts), or
  // kNoCounts. Immutable.
  std::uint64_t counts_serial = kNoCounts;
  std::string key;
};

// Counts the exposure of a static handle answer (`word` has kCountBit), and
// caches the calling thread's counters of that Client in tls_thread_counts.
HOTFIX_EXPORT void CountStaticExposure(const Client* client,
                                       std::uint64_t word) noexcept;

// Carries the 256 exposures of counter `id` whose cell in the calling
// thread's cached counters (ThreadCounts::exposures) has just wrapped to 0
// into the counter's wide cell. The Client must be the one whose counters the
// thread has cached.
HOTFIX_EXPORT void CarryExposures(const Client* client,
                                  std::uint32_t id) noexcept;

// The calling thread's own shard of one Client's exposure counters
// (src/client/counters.h), cached by CountStaticExposure() so that a handle's
// static answer counts its exposure inline. The exposures of counter `id`
// (below kCountIds) are counted in one byte, exposures[id], whose wraps to 0
// are carried by CarryExposures(): a byte per counter keeps the exposure
// cells of 10,000 flags in a few hundred cache lines. `blocks` holds the
// wide cells (the shard's outcomes, and the exposures carried) that the
// library's own counting reads. serial 0: nothing cached. Only the library
// fills or clears it (cleared when the thread gives its hazard slot back at
// exit).
struct ThreadCounts {
  std::uint64_t serial;
  std::atomic<std::uint8_t>* exposures;
  std::atomic<std::atomic<std::uint64_t>*>* blocks;
};
// Counter ids a Client can hand out (flag x variant pairs).
inline constexpr std::uint32_t kCountIds = 1u << 16;

// GCC and Clang: the cache is a constant-initialized thread-local that inline
// code reads without a call (__thread: no TLS wrapper in C++17 code either).
// Elsewhere every static count calls CountStaticExposure().
#if defined(__GNUC__)
extern HOTFIX_EXPORT __thread ThreadCounts tls_thread_counts;
#if !defined(HOTFIX_NO_INLINE_COUNTING)
#define HOTFIX_INLINE_COUNTING 1
#endif
#endif
// Counts one outcome of counter `counter` (GuardScope, Report).
HOTFIX_EXPORT void CountOutcome(const Client* client, std::uint32_t counter,
                                bool ok) noexcept;
}  // namespace internal

// Called with each accepted change; see Client::AddListener().
using ChangeListener = std::function<void(const ChangeEvent&)>;

// GuardScope is one evaluation of a guarded flag together with the outcome of
// the work done under it: the application says whether that work succeeded,
// and the outcome is counted for the variant that was served (see
// docs/guarded-rollouts.md). Made by Client::Guard() and FlagHandle::Guard().
//
// The outcome is recorded once: by Succeed() or Fail(), or, if neither was
// called, when the scope ends: as a failure if it ends by an exception, else
// as a success. Dismiss() records nothing. Counting nothing costs nothing
// when the client's counting is off.
//
// Thread-compatible: one thread uses a scope at a time (it may be moved to
// another thread). Must not outlive its Client.
//
// Example:
//
//   hotfix::GuardScope guard = flags.Guard("fix-123", ctx);
//   if (guard.enabled()) {
//     if (!NewCheckout()) guard.Fail();
//   } else {
//     OldCheckout();
//   }
class HOTFIX_EXPORT GuardScope {
 public:
  GuardScope(GuardScope&& other) noexcept;
  GuardScope& operator=(GuardScope&& other) noexcept;
  GuardScope(const GuardScope&) = delete;
  GuardScope& operator=(const GuardScope&) = delete;
  ~GuardScope();

  // The boolean value served (false when the flag is not boolean).
  bool enabled() const noexcept {
    return detail_.value.type == ValueType::kBool && detail_.value.bool_value;
  }
  // The whole evaluation (value, variant, reason, ...).
  const EvaluationDetail& detail() const noexcept { return detail_; }

  // Succeed() / Fail()
  //
  // Records the outcome now; later calls (and the end of the scope) record
  // nothing more.
  //
  // Cost: a few loads and a store to the calling thread's own counters; no
  // lock, no allocation (but a thread's first count may allocate once).
  void Succeed() noexcept { Record(true); }
  void Fail() noexcept { Record(false); }
  // Records no outcome at all (the work did not happen).
  void Dismiss() noexcept { done_ = true; }

 private:
  friend class Client;
  friend class FlagHandle;
  GuardScope(const Client* client, std::uint32_t counter,
             const EvaluationDetail& detail) noexcept;
  void Record(bool ok) noexcept;

  const Client* client_;
  std::uint32_t counter_;
  EvaluationDetail detail_;
  int uncaught_;
  bool done_ = false;
};

// FlagHandle is a flag key resolved once. Enabled() on a flag whose value does
// not depend on the context costs one atomic load.
//
// A handle never answers from an older snapshot than Client::Enabled() on the
// same key would at that moment: once a thread has seen a publication through
// the Client (or any handle), every handle it reads answers from that
// publication or a later one.
//
// Thread-safe; cheap to copy; valid while its Client lives. Using a handle
// after its Client was destroyed is undefined; in debug builds of the
// library (no NDEBUG) it aborts with a message naming the handle's key.
class HOTFIX_EXPORT FlagHandle {
 public:
  // Enabled()
  //
  // Same result as Client::Enabled(key, context).
  //
  // Cost: one atomic load for context-independent flags (static, killed,
  // unknown); else, and for a flag whose static answer a publication is
  // changing at that instant, a snapshot read plus the flag's rules. No
  // allocation, no lock (but see `matches` clauses at the top).
  //
  // With counting on (TelemetryOptions::counting), a static answer also
  // counts its exposure: inline, a thread-local read, a few loads and a store
  // to the calling thread's own counters. A thread's first count on this
  // Client (or its first after counting on another Client) calls into the
  // library.
  bool Enabled(const Context& context = {}) const noexcept {
    const std::uint64_t word = cell_->word.load(std::memory_order_acquire);
    const std::uint64_t state = word & 3;
    if (state == internal::HandleCell::kStaticTrue ||
        state == internal::HandleCell::kStaticFalse) {
      if (word & internal::HandleCell::kCountBit) CountStatic(word);
      return state == internal::HandleCell::kStaticTrue;
    }
    return EnabledSlow(word, context);
  }
  bool GetBool(bool default_value, const Context& context = {}) const noexcept;
  std::string_view GetString(std::string_view default_value,
                             const Context& context = {}) const noexcept;
  std::int64_t GetInt(std::int64_t default_value,
                      const Context& context = {}) const noexcept;
  double GetDouble(double default_value,
                   const Context& context = {}) const noexcept;
  std::string_view GetJson(std::string_view default_value,
                           const Context& context = {}) const noexcept;
  EvaluationDetail Evaluate(
      const Context& context = {},
      ValueType expected = ValueType::kNone) const noexcept;
  // As Client::Guard() and Client::Report() for this handle's flag.
  GuardScope Guard(const Context& context = {}) const noexcept;
  void Report(bool ok, const Context& context = {}) const noexcept;

  const std::string& key() const noexcept { return cell_->key; }

 private:
  friend class Client;
  FlagHandle(const Client* client, const internal::HandleCell* cell) noexcept
      : client_(client), cell_(cell) {}
  bool EnabledSlow(std::uint64_t word, const Context& context) const noexcept;
  // Counts the exposure of the static answer `word` (which has kCountBit):
  // inline in the calling thread's cached counters when they are this
  // Client's, else through the library (which caches them).
  void CountStatic(std::uint64_t word) const noexcept {
#if defined(HOTFIX_INLINE_COUNTING)
    const internal::ThreadCounts& counts = internal::tls_thread_counts;
    if (__builtin_expect(counts.serial == cell_->counts_serial, 1)) {
      // A word with kCountBit names a counter below kCountIds. Only this
      // thread writes its shard: a load and a store, no read-modify-write
      // instruction.
      const auto id = static_cast<std::uint32_t>(word >> 32);
      std::atomic<std::uint8_t>& exposures = counts.exposures[id];
      const auto n = static_cast<std::uint8_t>(
          exposures.load(std::memory_order_relaxed) + 1);
      exposures.store(n, std::memory_order_relaxed);
      if (__builtin_expect(n == 0, 0)) internal::CarryExposures(client_, id);
      return;
    }
#endif
    internal::CountStaticExposure(client_, word);
  }

  const Client* client_;
  const internal::HandleCell* cell_;
};

class HOTFIX_EXPORT Client {
 public:
  // Create()
  //
  // Builds a client and starts its sources. Never blocks on the network: local
  // files (last-known-good cache, bootstrap, file source) are read before
  // returning, remote sources continue in the background. Until the server
  // answers, the cache is served if there is one, else the bootstrap, else
  // callers' defaults (GetStatus().origin says which). Fails (InvalidArgument)
  // only on invalid options or an invalid bootstrap document; a missing or bad
  // flag *file* is reported through GetStatus() and retried.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      const ClientOptions& options);

  // Stops the sources (joining their threads) and frees every snapshot. No
  // evaluation may be running.
  //
  // May be called from inside one of this client's own change listeners,
  // which runs on a thread the destruction would have to join: then no
  // further listener is called, and once the running listener returns, the
  // sources are stopped and the client's memory is freed on a background
  // thread (a warning is logged). Nothing of the client may be used after
  // the destructor was called, in either case.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Enabled()
  //
  // Returns the boolean value of `flag` for `context`, or false when the flag
  // is unknown, killed without an off variant, or not boolean.
  //
  // Cost: one hash lookup plus the flag's rules; no allocation, no lock,
  // except in `matches` clauses (see the top of this file).
  //
  // Example:
  //
  //   if (flags.Enabled("fix-123", ctx)) { NewCheckout(); }
  bool Enabled(std::string_view flag,
               const Context& context = {}) const noexcept;

  // Typed getters: the flag's value, or `default_value` when the flag is
  // unknown, killed without an off variant, or of another type. GetInt
  // truncates toward zero and serves the default outside the int64 range.
  // String results point into the client and live as long as it does.
  //
  // Cost: as Enabled().
  bool GetBool(std::string_view flag, bool default_value,
               const Context& context = {}) const noexcept;
  std::string_view GetString(std::string_view flag,
                             std::string_view default_value,
                             const Context& context = {}) const noexcept;
  std::int64_t GetInt(std::string_view flag, std::int64_t default_value,
                      const Context& context = {}) const noexcept;
  double GetDouble(std::string_view flag, double default_value,
                   const Context& context = {}) const noexcept;
  // The JSON variant's serialized text.
  std::string_view GetJson(std::string_view flag,
                           std::string_view default_value,
                           const Context& context = {}) const noexcept;

  // Evaluate()
  //
  // The full story of one evaluation: value, variant, reason, error kind, rule
  // index and snapshot version. `expected` other than kNone turns a type
  // difference into kError/kTypeMismatch.
  //
  // Cost: as Enabled().
  EvaluationDetail Evaluate(
      std::string_view flag, const Context& context = {},
      ValueType expected = ValueType::kNone) const noexcept;

  // Guard()
  //
  // Evaluates `flag` for `context` (as Evaluate(), counting the exposure)
  // and returns a GuardScope that records how the work done under the served
  // variant went. The outcomes feed the flag's local guard, if it has one
  // (docs/flag-format.md, "guard"), and the counts sent to the server.
  //
  // Cost: as Evaluate(), plus the outcome's count when it is recorded.
  //
  // Example:
  //
  //   auto guard = flags.Guard("fix-123", ctx);
  //   if (guard.enabled() && !NewCheckout()) guard.Fail();
  GuardScope Guard(std::string_view flag,
                   const Context& context = {}) const noexcept;

  // Report()
  //
  // Records one outcome of work done under `flag`, for the variant `flag`
  // serves `context` now (evaluated again, not counted as an exposure). When
  // the evaluation and the outcome are apart in the code and the context is
  // at hand, this is simpler than keeping a GuardScope; with a different
  // context, or after a change of the flag, it may attribute the outcome to
  // another variant than the one served: prefer Guard() then. Does nothing
  // when counting is off or the flag serves no variant.
  //
  // Cost: as Evaluate() (no allocation, no lock), plus a store to the
  // calling thread's own counters.
  //
  // Example:
  //
  //   if (flags.Enabled("fix-123", ctx)) { ok = NewCheckout(); ... }
  //   flags.Report("fix-123", ok, ctx);
  void Report(std::string_view flag, bool ok,
              const Context& context = {}) const noexcept;

  // Flag()
  //
  // Resolves `key` once; the handle follows every later snapshot.
  //
  // Cost: a lock and, the first time per key, an allocation. Call it at
  // start-up and keep the handle.
  FlagHandle Flag(std::string_view key);

  // AddListener()
  //
  // Registers `listener`, called once per snapshot accepted after this call
  // that changes any flag, never on the evaluation path. Not for one accepted
  // before, even if its event is still being delivered to older listeners:
  // a thread that saw a snapshot (or WaitUntilReady() return) and then adds
  // a listener hears of the next change, not of that snapshot again. Waits
  // for a publication in progress, not for listeners. Calls are serialized and
  // come in publication order, on a publishing thread (a source thread, or a
  // thread in Publish()): the first publishing thread that finds no delivery in
  // progress delivers its event and every event published meanwhile, while
  // other publishing threads queue theirs and return at once. So no lock is
  // held while a listener runs, and a listener may wait for a thread that
  // publishes, evaluates, calls GetStatus() or removes another listener; a
  // slow listener delays only later events and the one thread delivering
  // them. Exceptions thrown by the listener are caught and logged.
  // Publishing from inside a listener is refused (FailedPrecondition).
  // Returns an id for RemoveListener().
  int AddListener(ChangeListener listener);
  // Unregisters; when it returns the listener is not running and will not be
  // called again (unless called from within that listener). It waits only for
  // a call of that listener in progress, so it deadlocks only if that
  // listener waits for the thread calling it.
  void RemoveListener(int id);

  // GetStatus()
  //
  // Includes the flags whose guard tripped in this process (guard_trips)
  // and the telemetry's state.
  //
  // Cost: a lock and a copy.
  ClientStatus GetStatus() const;

  // WaitUntilReady()
  //
  // Blocks until a snapshot is being served or `timeout` passes (measured on
  // the steady clock: a wall-clock step neither shortens nor extends it).
  // Returns true if one is. A snapshot arriving after the timeout is still
  // applied.
  bool WaitUntilReady(absl::Duration timeout) const;

  // Version of the snapshot being served, 0 when none. It may show a new
  // snapshot a moment before GetStatus() does: the status (origin, state,
  // version) is updated just after the publication, and the change's
  // listeners are called after that.
  //
  // Cost: as an evaluation's snapshot read (a few atomic loads, two stores to
  // the thread's own hazard slot); no lock.
  std::uint64_t version() const noexcept;

  // AfterFork()
  //
  // Call in the child after fork() (not needed before exec): restarts the
  // background threads that fork() did not copy, so the child's flags keep
  // following their sources. Flags already loaded keep being served either way.
  void AfterFork();

  // Publish()
  //
  // Compiles `json` and serves it (origin kTest), as if a source had delivered
  // it. For tests and embedders that fetch flags themselves. A document that
  // fails to compile changes nothing and returns the error.
  absl::Status Publish(std::string_view json,
                       SnapshotOrigin origin = SnapshotOrigin::kTest);

 private:
  friend class FlagHandle;
  friend class GuardScope;
  friend struct internal::ClientAccess;
  Client();
  std::unique_ptr<internal::ClientCore> core_;
};

}  // namespace hotfix

#endif  // HOTFIX_CLIENT_H_
