// Client and ClientCore: compile-and-publish on the source side, lock-free
// evaluation on the application side.

#include "hotfix/client.h"

#include <pthread.h>

#include <algorithm>
#include <mutex>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/client_core.h"
#include "client/publisher.h"
#include "eval/evaluate.h"
#include "internal/log.h"
#include "internal/strings.h"
#include "snapshot/compile.h"
#include "snapshot/string_pool.h"
#include "sources/cache.h"
#include "sources/file_source.h"
#include "sources/http_fetcher.h"
#include "sources/poll_source.h"
#include "sources/remote_document.h"
#include "sources/stream_source.h"

namespace hotfix {
namespace internal {
namespace {

// Keys whose evaluation may differ between `old` (may be null) and `next`:
// both flag lists are sorted by key, so one merge pass finds additions,
// removals and fingerprint changes.
std::vector<std::string> ChangedKeys(const CompiledFlagSet* old,
                                     const CompiledFlagSet& next) {
  std::vector<std::string> changed;
  if (old == nullptr) {
    for (const CompiledFlag& f : next.flags) changed.push_back(f.key);
    return changed;
  }
  std::size_t i = 0, j = 0;
  while (i < old->flags.size() || j < next.flags.size()) {
    if (j == next.flags.size() ||
        (i < old->flags.size() && old->flags[i].key < next.flags[j].key)) {
      changed.push_back(old->flags[i++].key);  // removed
    } else if (i == old->flags.size() ||
               next.flags[j].key < old->flags[i].key) {
      changed.push_back(next.flags[j++].key);  // added
    } else {
      if (old->flags[i].fingerprint != next.flags[j].fingerprint) {
        changed.push_back(next.flags[j].key);
      }
      ++i;
      ++j;
    }
  }
  return changed;
}

}  // namespace

namespace {

// Every live ClientCore, for the fork handlers.
absl::Mutex& CoresMutex() {
  static absl::Mutex* const mu = new absl::Mutex;  // never destroyed
  return *mu;
}
std::vector<ClientCore*>& Cores() ABSL_EXCLUSIVE_LOCKS_REQUIRED(CoresMutex()) {
  static auto* const cores = new std::vector<ClientCore*>;  // never destroyed
  return *cores;
}

void PrepareForkAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  CoresMutex().Lock();
  for (ClientCore* core : Cores()) core->PrepareFork();
}
void ParentAfterForkAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (ClientCore* core : Cores()) core->ParentAfterFork();
  CoresMutex().Unlock();
}
void ChildAfterForkAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (ClientCore* core : Cores()) core->ChildAfterFork();
  CoresMutex().Unlock();
}

}  // namespace

ClientCore::ClientCore(const ClientOptions& options)
    : compile_options_(options.compile) {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(&PrepareForkAll, &ParentAfterForkAll, &ChildAfterForkAll);
  });
  absl::MutexLock lock(&CoresMutex());
  Cores().push_back(this);
}

ClientCore::~ClientCore() {
  {
    absl::MutexLock lock(&CoresMutex());
    auto& cores = Cores();
    cores.erase(std::find(cores.begin(), cores.end(), this));
  }
  StopSources();
}

// Lock order, as in Offer: publish_mu_ -> publisher -> status_mu_; the pool
// and listeners_mu_ are only ever taken alone. dispatch_mu_ is not taken: a
// listener (in Python, one waiting for the GIL the forking thread holds) may
// be running under it, so the child replaces it instead.
void ClientCore::PrepareFork() {
  publish_mu_.Lock();
  publisher_.LockForFork();
  status_mu_.Lock();
  listeners_mu_.Lock();
  pool_->LockForFork();
}

void ClientCore::ParentAfterFork() {
  pool_->UnlockAfterFork();
  listeners_mu_.Unlock();
  status_mu_.Unlock();
  publisher_.UnlockAfterFork();
  publish_mu_.Unlock();
}

void ClientCore::ChildAfterFork() {
  ParentAfterFork();
  // A dispatch may have been in flight (or waiting to publish) in a thread
  // that did not survive fork(): start from a fresh, unheld mutex. The old
  // one is leaked, not destroyed, since it may be held (possibly by this very
  // thread, if it forked from inside a listener, which then unlocks it).
  dispatch_mu_.release();  // NOLINT: deliberately leaked
  dispatch_mu_ = std::make_unique<absl::Mutex>();
  dispatching_thread_.store(std::thread::id(), std::memory_order_relaxed);
}

absl::Status ClientCore::Offer(std::string_view json, SnapshotOrigin origin,
                               bool require_newer) {
  if (dispatching_thread_.load(std::memory_order_relaxed) ==
      std::this_thread::get_id()) {
    return absl::FailedPreconditionError(
        "flags cannot be published from inside a change listener");
  }
  // Compile outside every lock: it is the expensive part.
  absl::StatusOr<std::unique_ptr<CompiledFlagSet>> set =
      CompileFlagSet(json, compile_options_, pool_);
  if (!set.ok()) return set.status();

  absl::MutexLock dispatch(dispatch_mu_.get());
  ChangeEvent event;
  {
    absl::MutexLock lock(&publish_mu_);
    const Published* old = publisher_.current_for_writer();
    const CompiledFlagSet* old_set = old == nullptr ? nullptr : old->set;
    if (require_newer && old_set != nullptr &&
        (*set)->version < old_set->version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", (*set)->version, " is older than the served version ",
          old_set->version, "; ignored"));
    }
    event.changed_keys = ChangedKeys(old_set, **set);
    if (old_set != nullptr && event.changed_keys.empty() &&
        old_set->version == (*set)->version) {
      // Identical: nothing to publish, but `origin` now confirms the snapshot
      // (e.g. the server agreeing with the cache served at start-up).
      absl::MutexLock status_lock(&status_mu_);
      status_.origin = origin;
      return absl::OkStatus();
    }
    event.old_version = old_set == nullptr ? 0 : old_set->version;
    event.new_version = (*set)->version;
    event.origin = origin;
    const absl::Time now = absl::Now();
    publisher_.Publish(SnapshotAccess::Wrap(*std::move(set)), origin, now);
    const Published* current = publisher_.current_for_writer();
    for (auto& [key, cell] : cells_) UpdateCell(cell.get(), current);
    {
      absl::MutexLock status_lock(&status_mu_);
      status_.origin = origin;
      status_.version = event.new_version;
      status_.snapshot_time = now;
      // A live source's accepted document is its success, recorded together
      // with the snapshot so that no reader (WaitUntilReady) sees one
      // without the other.
      if (has_live_source_ &&
          (origin == SnapshotOrigin::kFile || origin == SnapshotOrigin::kPoll ||
           origin == SnapshotOrigin::kStream)) {
        status_.state = SourceState::kValid;
        status_.last_success = now;
        status_.last_error = absl::OkStatus();
        status_.config_error = false;
      }
    }
  }
  if (!event.changed_keys.empty()) Notify(event);
  return absl::OkStatus();
}

void ClientCore::ReportSuccess(SnapshotOrigin origin) {
  absl::MutexLock lock(&status_mu_);
  status_.last_success = absl::Now();
  status_.last_error = absl::OkStatus();
  status_.config_error = false;
  status_.state = has_live_source_ ? SourceState::kValid : SourceState::kOff;
}

void ClientCore::ReportError(SnapshotOrigin origin, const absl::Status& error) {
  absl::MutexLock lock(&status_mu_);
  // Without payloads: they are how sources tag errors, not part of the text.
  status_.last_error = absl::Status(error.code(), error.message());
  status_.last_error_time = absl::Now();
  status_.config_error = IsConfigError(error);
  if (has_live_source_) {
    status_.state =
        status_.version != 0 || status_.origin != SnapshotOrigin::kNone
            ? SourceState::kStale
            : SourceState::kError;
  }
}

void ClientCore::ReportRejected(SnapshotOrigin origin,
                                const absl::Status& error) {
  ReportError(origin, error);
  absl::MutexLock lock(&status_mu_);
  status_.last_rejection = absl::Status(error.code(), error.message());
  status_.last_rejection_time = absl::Now();
}

void ClientCore::ReportConnection(RemoteConnection connection) {
  absl::MutexLock lock(&status_mu_);
  status_.connection = connection;
}

void ClientCore::AddSource(std::unique_ptr<Source> source) {
  {
    absl::MutexLock lock(&status_mu_);
    if (!has_live_source_) {
      has_live_source_ = true;
      if (status_.origin == SnapshotOrigin::kNone ||
          status_.origin == SnapshotOrigin::kBootstrap ||
          status_.origin == SnapshotOrigin::kCache) {
        status_.state = SourceState::kInitializing;
      }
    }
  }
  sources_.push_back(std::move(source));
}

void ClientCore::StartSources() {
  for (auto& s : sources_) s->Start();
}

void ClientCore::StopSources() {
  for (auto& s : sources_) s->Stop();
}

void ClientCore::RestartSourcesAfterFork() {
  for (auto& s : sources_) s->RestartAfterFork();
}

void ClientCore::UpdateCell(HandleCell* cell, const Published* published) {
  std::uint64_t word = HandleCell::kStaticFalse;
  std::uint32_t index;
  if (published != nullptr && FindFlag(*published->set, cell->key, &index)) {
    bool value;
    if (StaticBool(published->set->flags[index], &value)) {
      word = value ? HandleCell::kStaticTrue : HandleCell::kStaticFalse;
    } else {
      word = (static_cast<std::uint64_t>(published->generation) << 32) |
             (static_cast<std::uint64_t>(index) << 2) | HandleCell::kDynamic;
    }
  }
  cell->word.store(word, std::memory_order_release);
}

const HandleCell* ClientCore::Cell(std::string_view key) {
  absl::MutexLock lock(&publish_mu_);
  auto it = cells_.find(ToAbsl(key));
  if (it != cells_.end()) return it->second.get();
  auto cell = std::make_unique<HandleCell>();
  cell->key = std::string(key);
  UpdateCell(cell.get(), publisher_.current_for_writer());
  HandleCell* raw = cell.get();
  cells_.emplace(std::string(key), std::move(cell));
  return raw;
}

int ClientCore::AddListener(ChangeListener listener) {
  absl::MutexLock lock(&listeners_mu_);
  const int id = next_listener_id_++;
  listeners_.emplace_back(
      id, std::make_shared<ChangeListener>(std::move(listener)));
  return id;
}

void ClientCore::RemoveListener(int id) {
  const bool in_listener =
      dispatching_thread_.load(std::memory_order_relaxed) ==
      std::this_thread::get_id();
  // Outside a listener, wait for an in-flight dispatch to finish first.
  if (!in_listener) dispatch_mu_->Lock();
  {
    absl::MutexLock lock(&listeners_mu_);
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->first == id) {
        listeners_.erase(it);
        break;
      }
    }
  }
  if (!in_listener) dispatch_mu_->Unlock();
}

void ClientCore::Notify(const ChangeEvent& event) {
  std::vector<std::pair<int, std::shared_ptr<ChangeListener>>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    listeners = listeners_;
  }
  dispatching_thread_.store(std::this_thread::get_id(),
                            std::memory_order_relaxed);
  for (const auto& [id, listener] : listeners) {
    {
      // Skip listeners removed by an earlier listener in this dispatch.
      absl::MutexLock lock(&listeners_mu_);
      bool present = false;
      for (const auto& entry : listeners_) present |= entry.first == id;
      if (!present) continue;
    }
    try {
      (*listener)(event);
    } catch (const std::exception& e) {
      Log(LogLevel::kError, absl::StrCat("change listener threw: ", e.what()));
    } catch (...) {
      Log(LogLevel::kError, "change listener threw a non-std exception");
    }
  }
  dispatching_thread_.store(std::thread::id(), std::memory_order_relaxed);
}

ClientStatus ClientCore::GetStatus() const {
  absl::MutexLock lock(&status_mu_);
  ClientStatus status = status_;
  // Give the caller statuses of its own rather than references to ours: an
  // absl::Status shares its message through a reference count kept inside
  // the (uninstrumented, for ThreadSanitizer) Abseil library, and a private
  // copy needs no cross-thread reference counting at all.
  status.last_error =
      absl::Status(status_.last_error.code(), status_.last_error.message());
  status.last_rejection = absl::Status(status_.last_rejection.code(),
                                       status_.last_rejection.message());
  if (status.origin != SnapshotOrigin::kNone) {
    status.age = absl::Now() - status.snapshot_time;
  }
  return status;
}

bool ClientCore::WaitUntilReady(absl::Duration timeout) const {
  absl::MutexLock lock(&status_mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(status_mu_) {
    return status_.origin != SnapshotOrigin::kNone;
  };
  return status_mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
}

}  // namespace internal

namespace {

using internal::EvalClock;
using internal::Publisher;

EvaluationDetail NotReady() {
  EvaluationDetail detail;
  detail.reason = Reason::kError;
  detail.error = ErrorKind::kNotReady;
  return detail;
}

}  // namespace

Client::Client() = default;
Client::~Client() = default;

namespace {

// Checks the remote options that matter when a remote source is configured.
absl::Status ValidateRemote(const RemoteOptions& remote) {
  auto positive = [](absl::Duration d, std::string_view field) {
    if (d > absl::ZeroDuration() && d != absl::InfiniteDuration()) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(
        absl::StrCat("remote.", absl::string_view(field.data(), field.size()),
                     ": must be positive and finite"));
  };
  absl::Status status;
  status.Update(positive(remote.poll_interval, "poll_interval"));
  status.Update(positive(remote.connect_timeout, "connect_timeout"));
  status.Update(positive(remote.read_timeout, "read_timeout"));
  status.Update(positive(remote.heartbeat_timeout, "heartbeat_timeout"));
  status.Update(positive(remote.backoff_base, "backoff_base"));
  status.Update(positive(remote.backoff_cap, "backoff_cap"));
  if (!status.ok()) return status;
  if (remote.backoff_cap < remote.backoff_base) {
    return absl::InvalidArgumentError(
        "remote.backoff_cap: must not be less than remote.backoff_base");
  }
  if (!(remote.poll_jitter >= 0.0 && remote.poll_jitter <= 1.0)) {
    return absl::InvalidArgumentError("remote.poll_jitter: must be in [0, 1]");
  }
  if (remote.max_body_bytes == 0) {
    return absl::InvalidArgumentError(
        "remote.max_body_bytes: must be positive");
  }
  if (remote.config_error_retry < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "remote.config_error_retry: must not be negative");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    const ClientOptions& options) {
  if (options.file.max_bytes == 0) {
    return absl::InvalidArgumentError("file.max_bytes: must be positive");
  }
  const bool remote = !options.remote.base_url.empty() &&
                      options.remote.mode != RemoteMode::kOff;
  internal::HttpEndpoint endpoint;
  if (remote) {
    absl::StatusOr<internal::HttpEndpoint> parsed =
        internal::ParseBaseUrl(options.remote.base_url);
    if (!parsed.ok()) return parsed.status();
    endpoint = *std::move(parsed);
    absl::Status valid = ValidateRemote(options.remote);
    if (!valid.ok()) return valid;
  }
  std::unique_ptr<Client> client(new Client());
  client->core_ = std::make_unique<internal::ClientCore>(options);
  internal::ClientCore& core = *client->core_;

  // 1. The last-known-good cache, if it was written for this server and key
  //    and still compiles.
  std::shared_ptr<internal::Cache> cache;
  std::string cached;
  bool cache_served = false;
  if (!options.cache_path.empty()) {
    cache = std::make_shared<internal::Cache>(
        options.cache_path, internal::CacheIdentity(options.remote.base_url,
                                                    options.remote.sdk_key));
    absl::StatusOr<std::string> data =
        cache->Load(options.remote.max_body_bytes);
    if (data.ok()) {
      absl::Status status =
          core.Offer(*data, SnapshotOrigin::kCache, /*require_newer=*/false);
      if (status.ok()) {
        cache_served = true;
        cached = *std::move(data);
      } else {
        internal::Log(LogLevel::kWarning,
                      absl::StrCat("last-known-good cache ", options.cache_path,
                                   " ignored: ", status.message()));
      }
    } else if (!absl::IsNotFound(data.status())) {
      internal::Log(LogLevel::kWarning,
                    absl::StrCat("last-known-good cache ignored: ",
                                 data.status().message()));
    }
  }

  // 2. The bootstrap: served only without a cache, but always validated.
  std::string bootstrap = options.bootstrap_json;
  if (!options.bootstrap_path.empty()) {
    if (!bootstrap.empty()) {
      return absl::InvalidArgumentError(
          "bootstrap_json and bootstrap_path are exclusive; set one");
    }
    absl::StatusOr<std::string> data = internal::ReadFileToString(
        options.bootstrap_path, options.file.max_bytes);
    if (!data.ok()) {
      return absl::Status(
          data.status().code(),
          absl::StrCat("bootstrap_path: ", data.status().message()));
    }
    bootstrap = *std::move(data);
  }
  if (!bootstrap.empty()) {
    absl::Status status;
    if (cache_served) {
      status =
          internal::CompileFlagSet(bootstrap, options.compile,
                                   std::make_shared<internal::StringPool>())
              .status();
    } else {
      status = core.Offer(bootstrap, SnapshotOrigin::kBootstrap,
                          /*require_newer=*/false);
    }
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bootstrap: ", status.message()));
    }
  }

  // 3. The file source, loaded before returning.
  if (!options.file.path.empty()) {
    auto file = std::make_unique<internal::FileSource>(options.file, &core);
    internal::FileSource* raw = file.get();
    core.AddSource(std::move(file));
    raw->LoadNow().IgnoreError();  // reported through GetStatus()
  }

  // 4. The remote source, entirely in the background.
  if (remote) {
    auto document = std::make_shared<internal::RemoteDocument>(&core, cache);
    if (cache_served) document->Seed(cached);  // a stream may resume from it
    if (options.remote.mode == RemoteMode::kPolling) {
      core.AddSource(std::make_unique<internal::PollSource>(
          endpoint, options.remote, &core, std::move(document),
          /*fallback=*/false));
    } else {
      core.AddSource(std::make_unique<internal::StreamSource>(
          endpoint, options.remote, &core, std::move(document)));
    }
  }
  core.StartSources();
  return client;
}

bool Client::Enabled(std::string_view flag,
                     const Context& context) const noexcept {
  Publisher::ReadGuard guard(core_->publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return false;
  const internal::CompiledFlagSet& set = *p->set;
  std::uint32_t index;
  if (!internal::FindFlag(set, flag, &index)) return false;
  const std::int8_t answer = set.enabled_answer[index];
  if (answer >= 0) return answer != 0;  // context-independent
  EvalClock clock;
  const EvaluationDetail d =
      internal::EvaluateFlag(set, index, context, ValueType::kBool, clock);
  return d.value.type == ValueType::kBool && d.value.bool_value;
}

EvaluationDetail Client::Evaluate(std::string_view flag, const Context& context,
                                  ValueType expected) const noexcept {
  Publisher::ReadGuard guard(core_->publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return NotReady();
  EvalClock clock;
  return internal::EvaluateByName(*p->set, flag, context, expected, clock);
}

bool Client::GetBool(std::string_view flag, bool default_value,
                     const Context& context) const noexcept {
  return internal::BoolOr(Evaluate(flag, context, ValueType::kBool),
                          default_value);
}

std::string_view Client::GetString(std::string_view flag,
                                   std::string_view default_value,
                                   const Context& context) const noexcept {
  return internal::StringOr(Evaluate(flag, context, ValueType::kString),
                            ValueType::kString, default_value);
}

std::int64_t Client::GetInt(std::string_view flag, std::int64_t default_value,
                            const Context& context) const noexcept {
  return internal::Int64Or(Evaluate(flag, context, ValueType::kNumber),
                           default_value);
}

double Client::GetDouble(std::string_view flag, double default_value,
                         const Context& context) const noexcept {
  return internal::DoubleOr(Evaluate(flag, context, ValueType::kNumber),
                            default_value);
}

std::string_view Client::GetJson(std::string_view flag,
                                 std::string_view default_value,
                                 const Context& context) const noexcept {
  return internal::StringOr(Evaluate(flag, context, ValueType::kJson),
                            ValueType::kJson, default_value);
}

FlagHandle Client::Flag(std::string_view key) {
  return FlagHandle(this, core_->Cell(key));
}

int Client::AddListener(ChangeListener listener) {
  return core_->AddListener(std::move(listener));
}

void Client::RemoveListener(int id) { core_->RemoveListener(id); }

ClientStatus Client::GetStatus() const { return core_->GetStatus(); }

bool Client::WaitUntilReady(absl::Duration timeout) const {
  return core_->WaitUntilReady(timeout);
}

std::uint64_t Client::version() const noexcept {
  return core_->publisher().version();
}

void Client::AfterFork() { core_->RestartSourcesAfterFork(); }

absl::Status Client::Publish(std::string_view json, SnapshotOrigin origin) {
  return core_->Offer(json, origin, /*require_newer=*/false);
}

}  // namespace hotfix
