// tools/hotfixd/core/replication.h
//
// Replicator keeps one hotfixd replica in step with the others that share
// its PostgreSQL database. The store's change feed (LISTEN/NOTIFY) says what
// changed; the Replicator re-reads it from the tables — a notification is
// only a hint, the tables are the truth:
//
//   a version of ENV   FlagService::CatchUp(ENV): installs the versions this
//                      replica lacks and publishes them to its SDK streams
//   ENV created or its settings changed: the same
//   tokens             Authenticator::Reload(); streams of tokens revoked
//                      elsewhere are closed
//   webhooks           WebhookDispatcher::Reload()
//   (re)connected      everything above, for every environment
//
// and, whatever the feed says, everything above every sync interval
// (--replica-sync-interval, 5 s), so a lost notification or a feed that
// cannot connect delays a change by at most that long. The work runs on one
// thread of its own; the feed's thread only records what to do.
//
// With SQLite (one writer, no feed) nothing is started.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_REPLICATION_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_REPLICATION_H_

#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/auth.h"
#include "core/flag_service.h"
#include "core/sse_hub.h"
#include "core/webhooks.h"
#include "store/store.h"
#include "util/sync.h"

namespace hotfix {
namespace hotfixd {

class Replicator {
 public:
  Replicator(Store* store, FlagService* flags, Authenticator* auth,
             WebhookDispatcher* webhooks, SseHub* hub,
             absl::Duration sync_interval);
  ~Replicator();  // Stop()
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Start()
  //
  // Subscribes to the store's change feed and starts the sync thread; does
  // nothing for a store without a feed.
  absl::Status Start();

  // Stops the feed and the thread. Idempotent.
  void Stop();

  // True if a feed was started (the store is shared).
  bool active() const { return feed_ != nullptr; }
  // True while the feed's connection is up.
  bool feed_connected() const;

 private:
  void OnEvent(const StoreEvent& event);
  void Loop();
  void SyncTokens();

  Store* const store_;
  FlagService* const flags_;
  Authenticator* const auth_;
  WebhookDispatcher* const webhooks_;
  SseHub* const hub_;
  const absl::Duration sync_interval_;

  internal::Mutex mu_;
  internal::CondVar wake_;  // an event arrived, or Stop()
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool all_ ABSL_GUARDED_BY(mu_) = false;
  bool tokens_ ABSL_GUARDED_BY(mu_) = false;
  bool hooks_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> envs_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ChangeFeed> feed_;
  std::thread thread_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_REPLICATION_H_
