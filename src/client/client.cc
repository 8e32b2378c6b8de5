// Client and ClientCore: compile-and-publish on the source side, lock-free
// evaluation on the application side.

#include "hotfix/client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/client_core.h"
#include "client/publisher.h"
#include "eval/evaluate.h"
#include "internal/log.h"
#include "internal/strings.h"
#include "snapshot/compile.h"
#include "sources/file_source.h"

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
    } else if (i == old->flags.size() || next.flags[j].key < old->flags[i].key) {
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

ClientCore::ClientCore(const ClientOptions& options)
    : compile_options_(options.compile) {}

ClientCore::~ClientCore() { StopSources(); }

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

  absl::MutexLock dispatch(&dispatch_mu_);
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
      return absl::OkStatus();  // identical: nothing to publish
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
    }
  }
  if (!event.changed_keys.empty()) Notify(event);
  return absl::OkStatus();
}

void ClientCore::ReportSuccess(SnapshotOrigin origin) {
  absl::MutexLock lock(&status_mu_);
  status_.last_success = absl::Now();
  status_.last_error = absl::OkStatus();
  status_.state = has_live_source_ ? SourceState::kValid : SourceState::kOff;
}

void ClientCore::ReportError(SnapshotOrigin origin, const absl::Status& error) {
  absl::MutexLock lock(&status_mu_);
  status_.last_error = error;
  status_.last_error_time = absl::Now();
  if (has_live_source_) {
    status_.state =
        status_.version != 0 || status_.origin != SnapshotOrigin::kNone
            ? SourceState::kStale
            : SourceState::kError;
  }
}

void ClientCore::AddSource(std::unique_ptr<Source> source) {
  {
    absl::MutexLock lock(&status_mu_);
    if (!has_live_source_) {
      has_live_source_ = true;
      if (status_.origin == SnapshotOrigin::kNone ||
          status_.origin == SnapshotOrigin::kBootstrap) {
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
  listeners_.emplace_back(id,
                          std::make_shared<ChangeListener>(std::move(listener)));
  return id;
}

void ClientCore::RemoveListener(int id) {
  const bool in_listener = dispatching_thread_.load(std::memory_order_relaxed) ==
                           std::this_thread::get_id();
  // Outside a listener, wait for an in-flight dispatch to finish first.
  if (!in_listener) dispatch_mu_.Lock();
  {
    absl::MutexLock lock(&listeners_mu_);
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (it->first == id) {
        listeners_.erase(it);
        break;
      }
    }
  }
  if (!in_listener) dispatch_mu_.Unlock();
}

void ClientCore::Notify(const ChangeEvent& event) {
  std::vector<std::pair<int, std::shared_ptr<ChangeListener>>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    listeners = listeners_;
  }
  dispatching_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
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
  return status_;
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

absl::StatusOr<std::unique_ptr<Client>> Client::Create(
    const ClientOptions& options) {
  if (options.file.max_bytes == 0) {
    return absl::InvalidArgumentError("file.max_bytes: must be positive");
  }
  std::unique_ptr<Client> client(new Client());
  client->core_ = std::make_unique<internal::ClientCore>(options);
  internal::ClientCore& core = *client->core_;

  std::string bootstrap = options.bootstrap_json;
  if (!options.bootstrap_path.empty()) {
    if (!bootstrap.empty()) {
      return absl::InvalidArgumentError(
          "bootstrap_json and bootstrap_path are exclusive; set one");
    }
    absl::StatusOr<std::string> data = internal::ReadFileToString(
        options.bootstrap_path, options.file.max_bytes);
    if (!data.ok()) {
      return absl::Status(data.status().code(),
                          absl::StrCat("bootstrap_path: ", data.status().message()));
    }
    bootstrap = *std::move(data);
  }
  if (!bootstrap.empty()) {
    absl::Status status = core.Offer(bootstrap, SnapshotOrigin::kBootstrap,
                                     /*require_newer=*/false);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bootstrap: ", status.message()));
    }
  }
  if (!options.file.path.empty()) {
    auto file = std::make_unique<internal::FileSource>(options.file, &core);
    internal::FileSource* raw = file.get();
    core.AddSource(std::move(file));
    raw->LoadNow().IgnoreError();  // reported through GetStatus()
  }
  core.StartSources();
  return client;
}

bool Client::Enabled(std::string_view flag, const Context& context) const noexcept {
  Publisher::ReadGuard guard(core_->publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return false;
  const internal::CompiledFlagSet& set = *p->set;
  std::uint32_t index;
  if (!internal::FindFlag(set, flag, &index)) return false;
  const internal::CompiledFlag& f = set.flags[index];
  if (f.static_variant >= 0) {  // set only for flags that are not killed
    const Value& v = f.variants[f.static_variant].value;
    return v.type == ValueType::kBool && v.bool_value;
  }
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
