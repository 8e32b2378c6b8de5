// src/client/client.cc
//
// Client: creation (cache, bootstrap, file and remote sources, in that order)
// and lock-free evaluation on the application side. The source side is
// ClientCore (client_core.cc).

#include "hotfix/client.h"

#include <utility>

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

EvaluationDetail NotReady() {
  EvaluationDetail detail;
  detail.reason = Reason::kError;
  detail.error = ErrorKind::kNotReady;
  return detail;
}

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
  const bool remote =
      !urls.empty() && options.remote.mode != RemoteMode::kOff;
  std::shared_ptr<internal::ServerList> servers;
  if (remote) {
    absl::StatusOr<internal::ServerList> parsed =
        internal::ServerList::Create(options.remote);
    if (!parsed.ok()) return parsed.status();
    servers = std::make_shared<internal::ServerList>(*parsed);
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
