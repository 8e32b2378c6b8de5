// cmake/tsan/absl_sync_annotations.cc
//
// ThreadSanitizer support for a system Abseil that was not built with TSan.
//
// Debian's Abseil libraries are compiled without -fsanitize=thread, so TSan
// never sees the happens-before that absl::Mutex, absl::CondVar,
// absl::Notification and absl::Status's reference count create, and reports
// the data they order as races. This file, compiled into libhotfix only when
// HOTFIX_SANITIZE=thread, fixes that for the code linked with it:
//
//  - it interposes the Mutex / CondVar / Notification entry points: each
//    forwards to the real Abseil function (dlsym(RTLD_NEXT)) and tells TSan
//    that the object was acquired after it returns and released before it is
//    given up (conditions are wrapped the same way, see AnnotatedCondition);
//  - it replaces Status::UnrefNonInlined() with an instrumented equivalent,
//    so dropping the last reference is ordered after the other owners' reads;
//  - it turns off Abseil's lock-order (deadlock) detection, whose global graph
//    is guarded by an uninstrumented spinlock.
//
// What it does not model: TSan's own deadlock detection for absl::Mutex.
// Real races on data not guarded by these primitives are still reported.

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if !defined(__SANITIZE_THREAD__) && !__has_feature(thread_sanitizer)
#error "absl_sync_annotations.cc is only for ThreadSanitizer builds"
#endif

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/base/options.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#define HOTFIX_STR2(x) #x
#define HOTFIX_STR(x) HOTFIX_STR2(x)

namespace {

// Returns the real Abseil function whose Itanium-mangled name, inside
// absl::<inline namespace>::, is `suffix` (e.g. "5Mutex4LockEv"); `is_const`
// for const member functions.
void* Real(const char* suffix, bool is_const) {
  std::string name = is_const ? "_ZNK4absl" : "_ZN4absl";
#if ABSL_OPTION_USE_INLINE_NAMESPACE
  const std::string ns = HOTFIX_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  name += std::to_string(ns.size()) + ns;
#endif
  name += suffix;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "hotfix TSan shim: %s not found\n", name.c_str());
    std::abort();
  }
  return fn;
}

// How a member function of type `Member` is called through its symbol: as a
// function taking the object pointer first.
template <typename Member>
struct AsFunction;
template <typename R, typename C, typename... Args>
struct AsFunction<R (C::*)(Args...)> {
  using Type = R (*)(C*, Args...);
  static constexpr bool kConst = false;
};
template <typename R, typename C, typename... Args>
struct AsFunction<R (C::*)(Args...) const> {
  using Type = R (*)(const C*, Args...);
  static constexpr bool kConst = true;
};

// The real Abseil function behind the member function `kMember`, whose
// mangled name is `suffix` (see Real()).
template <auto kMember>
typename AsFunction<decltype(kMember)>::Type Get(const char* suffix) {
  using Function = AsFunction<decltype(kMember)>;
  return reinterpret_cast<typename Function::Type>(
      Real(suffix, Function::kConst));
}

void Acquire(const void* p) { __tsan_acquire(const_cast<void*>(p)); }
void Release(const void* p) { __tsan_release(const_cast<void*>(p)); }

// Acquires `p` when `acquired` (a try-lock or timed wait that succeeded);
// returns `acquired`.
bool AcquireIf(const void* p, bool acquired) {
  if (acquired) Acquire(p);
  return acquired;
}

// Acquires `p` when it goes out of scope: after the return value of the call
// it brackets is computed.
class AcquireOnExit {
 public:
  explicit AcquireOnExit(const void* p) : p_(p) {}
  AcquireOnExit(const AcquireOnExit&) = delete;
  AcquireOnExit& operator=(const AcquireOnExit&) = delete;
  ~AcquireOnExit() { Acquire(p_); }

 private:
  const void* p_;
};

// Calls `real(args...)`, a wait that gives `mu` up while it blocks and holds
// it again when it returns (whatever its result): releases `mu` before the
// call and acquires it after.
template <typename Fn, typename... Args>
auto CallReleasing(const void* mu, Fn real, Args&&... args) {
  Release(mu);
  const AcquireOnExit acquire(mu);
  return real(std::forward<Args>(args)...);
}

// Abseil evaluates a Condition inside the uninstrumented Await()/LockWhen()
// and Unlock(), with the mutex held, in the waiting thread or in the thread
// that unlocks. Wrapping the condition brackets each evaluation with an
// acquire and a release of the mutex, so the predicate's reads are ordered
// with the writes other threads make under that mutex. The wrapper itself
// is constructed before the Release() that precedes each call, so that a
// thread evaluating it on the caller's behalf sees it initialized.
class AnnotatedCondition {
 public:
  AnnotatedCondition(const absl::Condition& cond, const absl::Mutex* mu)
      : cond_(&cond), mu_(mu) {}
  absl::Condition condition() { return absl::Condition(&Eval, this); }

 private:
  static bool Eval(void* self) {
    const auto* c = static_cast<const AnnotatedCondition*>(self);
    Acquire(c->mu_);
    const bool result = c->cond_->Eval();
    Release(c->mu_);
    return result;
  }
  const absl::Condition* cond_;
  const absl::Mutex* mu_;
};

// Calls the Mutex member `real(mu, cond, rest...)` the way CallReleasing does,
// with `cond` wrapped in an AnnotatedCondition.
template <typename Fn, typename... Rest>
auto CallWithCondition(Fn real, absl::Mutex* mu, const absl::Condition& cond,
                       Rest... rest) {
  AnnotatedCondition wrapped(cond, mu);
  const absl::Condition wrapped_cond = wrapped.condition();
  return CallReleasing(mu, real, mu, wrapped_cond, rest...);
}

// Runs before main(): Abseil's deadlock detection (on in Debian's build) is
// invisible to TSan and would be reported as races on its cycle graph.
const bool kDeadlockDetectionOff = [] {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return true;
}();

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// ---------------------------------------------------------------- Status

// Drops one reference to a heap-allocated status representation and deletes
// it when that was the last one. Compiled here, with TSan, so the acquire /
// release ordering of the count is visible to it.
void Status::UnrefNonInlined(uintptr_t rep) {
  status_internal::StatusRep* r = RepToPointer(rep);
  if (r->ref.load(std::memory_order_acquire) == 1 ||
      r->ref.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    delete r;
  }
}

// ---------------------------------------------------------------- Mutex

void Mutex::Lock() {
  static const auto real = Get<&Mutex::Lock>("5Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderLock() {
  static const auto real = Get<&Mutex::ReaderLock>("5Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

bool Mutex::TryLock() {
  static const auto real = Get<&Mutex::TryLock>("5Mutex7TryLockEv");
  return AcquireIf(this, real(this));
}

bool Mutex::ReaderTryLock() {
  static const auto real =
      Get<&Mutex::ReaderTryLock>("5Mutex13ReaderTryLockEv");
  return AcquireIf(this, real(this));
}

void Mutex::Unlock() {
  static const auto real = Get<&Mutex::Unlock>("5Mutex6UnlockEv");
  Release(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  static const auto real = Get<&Mutex::ReaderUnlock>("5Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real =
      Get<&Mutex::LockWhen>("5Mutex8LockWhenERKNS0_9ConditionE");
  CallWithCondition(real, this, cond);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real =
      Get<&Mutex::ReaderLockWhen>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  CallWithCondition(real, this, cond);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Get<&Mutex::LockWhenWithTimeout>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return CallWithCondition(real, this, cond, timeout);
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Get<&Mutex::LockWhenWithDeadline>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return CallWithCondition(real, this, cond, deadline);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Get<&Mutex::ReaderLockWhenWithTimeout>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return CallWithCondition(real, this, cond, timeout);
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Get<&Mutex::ReaderLockWhenWithDeadline>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return CallWithCondition(real, this, cond, deadline);
}

void Mutex::Await(const Condition& cond) {
  static const auto real = Get<&Mutex::Await>("5Mutex5AwaitERKNS0_9ConditionE");
  CallWithCondition(real, this, cond);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Get<&Mutex::AwaitWithTimeout>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return CallWithCondition(real, this, cond, timeout);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Get<&Mutex::AwaitWithDeadline>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return CallWithCondition(real, this, cond, deadline);
}

// ---------------------------------------------------------------- CondVar

void CondVar::Wait(Mutex* mu) {
  static const auto real = Get<&CondVar::Wait>("7CondVar4WaitEPNS0_5MutexE");
  CallReleasing(mu, real, this, mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = Get<&CondVar::WaitWithTimeout>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return CallReleasing(mu, real, this, mu, timeout);
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Get<&CondVar::WaitWithDeadline>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return CallReleasing(mu, real, this, mu, deadline);
}

// ---------------------------------------------------------------- Notification

void Notification::Notify() {
  static const auto real =
      Get<&Notification::Notify>("12Notification6NotifyEv");
  Release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real = Get<&Notification::WaitForNotification>(
      "12Notification19WaitForNotificationEv");
  real(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static const auto real = Get<&Notification::WaitForNotificationWithTimeout>(
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  return AcquireIf(this, real(this, timeout));
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static const auto real = Get<&Notification::WaitForNotificationWithDeadline>(
      "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  return AcquireIf(this, real(this, deadline));
}

ABSL_NAMESPACE_END
}  // namespace absl
