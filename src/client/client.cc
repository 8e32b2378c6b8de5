// src/client/client.cc
//
// Client: creation (cache, bootstrap, file and remote sources, in that order)
// and lock-free evaluation on the application side. The source side is
// ClientCore (client_core.cc).

#include "hotfix/client.h"

#include <exception>
#include <optional>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "client/client_core.h"
#include "client/publisher.h"
#include "eval/evaluate.h"
#include "model/string_pool.h"
#include "snapshot/compile.h"
#include "sources/cache.h"
#include "sources/file_source.h"
#include "sources/http_fetcher.h"
#include "sources/poll_source.h"
#include "sources/remote_document.h"
#include "sources/server_list.h"
#include "sources/stream_source.h"
#include "util/log.h"
#include "util/strings.h"

namespace hotfix {
namespace {

using internal::EvalClock;
using internal::Publisher;

}  // namespace

Client::Client() = default;

Client::~Client() {
  if (core_ == nullptr) return;
  core_->DetachHandles();
  if (core_->DispatchingOnThisThread()) {
    // Inside one of our own listeners: the destruction cannot join the
    // thread it runs on, so it finishes on another one.
    internal::ClientCore::DestroyFromListener(std::move(core_));
  }
}

namespace {

// Checks the remote options that matter when a remote source is configured.
absl::Status ValidateRemote(const RemoteOptions& remote) {
  auto positive = [](absl::Duration d, std::string_view field) {
    if (d > absl::ZeroDuration() && d != absl::InfiniteDuration()) {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "remote.", internal::ToAbsl(field), ": must be positive and finite"));
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
  const std::vector<std::string> urls = internal::ServerUrls(options.remote);
  const bool remote = !urls.empty() && options.remote.mode != RemoteMode::kOff;
  std::shared_ptr<internal::ServerList> servers;
  if (remote) {
    absl::StatusOr<internal::ServerList> parsed =
        internal::ServerList::Create(options.remote);
    if (!parsed.ok()) return parsed.status();
    servers = std::make_shared<internal::ServerList>(*parsed);
    absl::Status valid = ValidateRemote(options.remote);
    if (!valid.ok()) return valid;
  }
  const TelemetryOptions& telemetry = options.telemetry;
  if (telemetry.counting) {
    auto positive = [](absl::Duration d) {
      return d > absl::ZeroDuration() && d != absl::InfiniteDuration();
    };
    if (!positive(telemetry.flush_interval)) {
      return absl::InvalidArgumentError(
          "telemetry.flush_interval: must be positive and finite");
    }
    if (!positive(telemetry.guard_interval)) {
      return absl::InvalidArgumentError(
          "telemetry.guard_interval: must be positive and finite");
    }
    if (!positive(telemetry.max_unsent_age)) {
      return absl::InvalidArgumentError(
          "telemetry.max_unsent_age: must be positive and finite");
    }
    if (telemetry.close_timeout < absl::ZeroDuration() ||
        telemetry.close_timeout == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          "telemetry.close_timeout: must be finite and not negative");
    }
    if (telemetry.instance.size() > 256) {
      return absl::InvalidArgumentError(
          "telemetry.instance: at most 256 bytes");
    }
  }
  std::unique_ptr<Client> client(new Client());
  client->core_ = std::make_unique<internal::ClientCore>(options);
  internal::ClientCore& core = *client->core_;
  if (telemetry.counting) {
    std::optional<
        std::pair<std::shared_ptr<internal::ServerList>, RemoteOptions>>
        post_to;
    if (remote && telemetry.send) post_to.emplace(servers, options.remote);
    core.EnableTelemetry(telemetry, std::move(post_to));
  }

  // 1. The last-known-good cache, if it was written for this server and key
  //    and still compiles.
  std::shared_ptr<internal::Cache> cache;
  std::string cached;
  bool cache_served = false;
  if (!options.cache_path.empty()) {
    cache = std::make_shared<internal::Cache>(
        options.cache_path,
        internal::CacheIdentity(urls.empty() ? std::string() : urls.front(),
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
          servers, options.remote, &core, std::move(document),
          /*fallback=*/false));
    } else {
      core.AddSource(std::make_unique<internal::StreamSource>(
          servers, options.remote, &core, std::move(document)));
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
  const internal::FlagSlot* slot = internal::FindSlot(set, flag);
  if (slot == nullptr) return false;
  const std::uint32_t index = slot->index;
  internal::Counters* const counters = core_->counters();
  if (const std::int8_t answer = slot->enabled_answer; answer >= 0) {
    // Context-independent. The answer is read before the count, whose byte
    // store the compiler must assume could alias it.
    if (counters != nullptr) {
      counters->CountExposure(guard.slot(), slot->static_counter);
    }
    return answer != 0;
  }
  EvalClock clock;
  std::int32_t variant;
  const EvaluationDetail d = internal::EvaluateFlag(
      set, index, context, ValueType::kBool, clock, &variant);
  internal::CountExposure(counters, guard.slot(), set, index, variant,
                          internal::kExposures);
  return d.value.type == ValueType::kBool && d.value.bool_value;
}

EvaluationDetail Client::Evaluate(std::string_view flag, const Context& context,
                                  ValueType expected) const noexcept {
  Publisher::ReadGuard guard(core_->publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return internal::NotReadyDetail();
  EvalClock clock;
  std::uint32_t index = 0;
  std::int32_t variant;
  const EvaluationDetail d = internal::EvaluateByName(
      *p->set, flag, context, expected, clock, &index, &variant);
  internal::CountExposure(core_->counters(), guard.slot(), *p->set, index,
                          variant, internal::kExposures);
  return d;
}

GuardScope Client::Guard(std::string_view flag,
                         const Context& context) const noexcept {
  Publisher::ReadGuard guard(core_->publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr)
    return GuardScope(this, internal::kNoCounter, internal::NotReadyDetail());
  EvalClock clock;
  std::uint32_t index = 0;
  std::int32_t variant;
  const EvaluationDetail d = internal::EvaluateByName(
      *p->set, flag, context, ValueType::kNone, clock, &index, &variant);
  internal::Counters* const counters = core_->counters();
  if (counters == nullptr || variant < 0) {
    return GuardScope(this, internal::kNoCounter, d);
  }
  const std::uint32_t counter =
      p->set->counter_ids[p->set->counter_offset[index] + variant];
  counters->Count(guard.slot(), counter, internal::kExposures);
  return GuardScope(this, counter, d);
}

void Client::Report(std::string_view flag, bool ok,
                    const Context& context) const noexcept {
  internal::Counters* const counters = core_->counters();
  if (counters == nullptr) return;
  Publisher::ReadGuard guard(core_->publisher());
  const internal::Published* p = guard.get();
  if (p == nullptr) return;
  EvalClock clock;
  std::uint32_t index = 0;
  std::int32_t variant;
  internal::EvaluateByName(*p->set, flag, context, ValueType::kNone, clock,
                           &index, &variant);
  internal::CountExposure(counters, guard.slot(), *p->set, index, variant,
                          ok ? internal::kSuccesses : internal::kFailures);
}

GuardScope::GuardScope(const Client* client, std::uint32_t counter,
                       const EvaluationDetail& detail) noexcept
    : client_(client),
      counter_(counter),
      detail_(detail),
      uncaught_(std::uncaught_exceptions()) {}

GuardScope::GuardScope(GuardScope&& other) noexcept
    : client_(other.client_),
      counter_(other.counter_),
      detail_(other.detail_),
      uncaught_(other.uncaught_),
      done_(other.done_) {
  other.done_ = true;
}

GuardScope& GuardScope::operator=(GuardScope&& other) noexcept {
  if (this != &other) {
    if (!done_) Record(std::uncaught_exceptions() <= uncaught_);
    client_ = other.client_;
    counter_ = other.counter_;
    detail_ = other.detail_;
    uncaught_ = other.uncaught_;
    done_ = other.done_;
    other.done_ = true;
  }
  return *this;
}

GuardScope::~GuardScope() {
  // Left by an exception thrown since the scope began: the work failed.
  if (!done_) Record(std::uncaught_exceptions() <= uncaught_);
}

void GuardScope::Record(bool ok) noexcept {
  if (done_) return;
  done_ = true;
  if (counter_ == internal::kNoCounter) return;
  internal::CountOutcome(client_, counter_, ok);
}

namespace internal {

namespace {

// Counts through a slot of its own when the thread has none (its first read,
// or in a destructor at thread exit).
[[gnu::noinline]] void CountWithTemporarySlot(const Client* client,
                                              Counters* counters,
                                              std::uint32_t counter,
                                              CounterField field) noexcept {
  Publisher::ReadGuard guard(ClientAccess::publisher(*client));
  counters->Count(guard.slot(), counter, field);
}

}  // namespace

void CountStaticExposure(const Client* client, std::uint64_t word) noexcept {
  Counters* const counters = ClientAccess::core(*client).counters();
  // The thread's own slot is its own whether or not a read is in progress.
  const HazardSlot* const slot = tls_hazard_slot;
  const auto counter = static_cast<std::uint32_t>(word >> 32);
  if (ABSL_PREDICT_TRUE(slot != nullptr && counters != nullptr)) {
    // Caches the thread's shard: its next static counts on this Client are
    // inline.
    counters->Count(slot, counter, kExposures);
  } else if (counters != nullptr) {
    CountWithTemporarySlot(client, counters, counter, kExposures);
  }
}

void CarryExposures(const Client* client, std::uint32_t id) noexcept {
  Counters* const counters = ClientAccess::core(*client).counters();
  if (counters != nullptr) counters->CarryExposures(id);
}

void CountOutcome(const Client* client, std::uint32_t counter,
                  bool ok) noexcept {
  Counters* const counters = ClientAccess::core(*client).counters();
  if (counters == nullptr) return;
  const CounterField field = ok ? kSuccesses : kFailures;
  if (const HazardSlot* slot = tls_hazard_slot; slot != nullptr) {
    counters->Count(slot, counter, field);
  } else {
    CountWithTemporarySlot(client, counters, counter, field);
  }
}

}  // namespace internal

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

ClientStatus Client::GetStatus() const {
  return core_->GetStatusWithTelemetry();
}

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
