// tools/hotfixd/core/replication.cc

#include "core/replication.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/server_log.h"

namespace hotfix {
namespace hotfixd {
namespace {

// Unavailable is already logged by the store when the database goes away.
void LogFailure(const char* what, const absl::Status& st) {
  if (st.ok() || absl::IsUnavailable(st) || absl::IsNotFound(st)) return;
  tools::LogError(absl::StrCat("replication: ", what, ": ", st.ToString()));
}

}  // namespace

Replicator::Replicator(Store* store, FlagService* flags, Authenticator* auth,
                       WebhookDispatcher* webhooks, SseHub* hub,
                       absl::Duration sync_interval)
    : store_(store),
      flags_(flags),
      auth_(auth),
      webhooks_(webhooks),
      hub_(hub),
      sync_interval_(sync_interval) {}

Replicator::~Replicator() { Stop(); }

absl::Status Replicator::Start() {
  absl::StatusOr<std::unique_ptr<ChangeFeed>> feed =
      store_->Watch([this](const StoreEvent& e) { OnEvent(e); });
  if (!feed.ok()) return feed.status();
  if (*feed == nullptr) return absl::OkStatus();
  feed_ = std::move(*feed);
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void Replicator::Stop() {
  feed_.reset();  // joins the feed's thread: no more OnEvent
  {
    internal::MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

bool Replicator::feed_connected() const {
  return feed_ != nullptr && feed_->connected();
}

void Replicator::OnEvent(const StoreEvent& e) {
  internal::MutexLock lock(&mu_);
  wake_.SignalAll();  // the loop re-checks once the lock is released
  switch (e.kind) {
    case StoreEvent::Kind::kResync:
      all_ = true;
      break;
    case StoreEvent::Kind::kVersion:
    case StoreEvent::Kind::kEnvironment:
      envs_.insert(e.env);
      break;
    case StoreEvent::Kind::kTokens:
      tokens_ = true;
      break;
    case StoreEvent::Kind::kWebhooks:
      hooks_ = true;
      break;
  }
}

void Replicator::SyncTokens() {
  absl::StatusOr<std::vector<std::string>> gone = auth_->Reload();
  if (!gone.ok()) {
    LogFailure("tokens", gone.status());
    return;
  }
  // Revoked on another replica: their streams here end too.
  for (const std::string& id : *gone) hub_->CloseStreamsOf(id);
}

void Replicator::Loop() {
  internal::MutexLock lock(&mu_);
  for (;;) {
    // Steady-clock deadline: a step of the wall clock must not stall the
    // periodic sync.
    const internal::SteadyTime next = internal::DeadlineAfter(sync_interval_);
    bool woken = true;
    while (!stopping_ && !all_ && !tokens_ && !hooks_ && envs_.empty()) {
      if (!wake_.WaitUntil(&mu_, next)) {
        woken = false;
        break;
      }
    }
    if (stopping_) return;
    const bool all = all_ || !woken;  // the periodic sync: everything
    const bool tokens = tokens_ || all;
    const bool hooks = hooks_ || all;
    std::set<std::string> envs = std::move(envs_);
    envs_.clear();
    all_ = tokens_ = hooks_ = false;
    mu_.Unlock();
    if (all) {
      LogFailure("catching up", flags_->CatchUpAll().status());
    } else {
      for (const std::string& env : envs) {
        LogFailure("catching up", flags_->CatchUp(env).status());
      }
    }
    if (tokens) SyncTokens();
    if (hooks) LogFailure("webhooks", webhooks_->Reload());
    mu_.Lock();
  }
}

}  // namespace hotfixd
}  // namespace hotfix
