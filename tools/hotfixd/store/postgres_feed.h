// tools/hotfixd/store/postgres_feed.h
//
// PostgresFeed: PostgresStore's change feed. A thread of its own holds a
// second connection that LISTENs on channel "hotfixd" and turns every
// notification ("v ENV VERSION", "e ENV", "t", "w ENV"; see
// postgres_store.h) into a StoreEvent; NotificationPayload() writes that
// format and ParseNotification() reads it. Each time the connection is
// (re)established it first reports kResync: notifications sent while it was
// down are lost, so the consumer re-reads the tables. A lost connection is
// retried with jittered exponential backoff (100 ms doubling to 5 s); an
// idle connection is probed every 5 s so a dead server is noticed without
// traffic.
//
// Thread-safe. The callback runs on the feed's thread, one event at a time.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_FEED_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_FEED_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "store/store.h"

namespace hotfix {
namespace hotfixd {

class PostgresFeed final : public ChangeFeed {
 public:
  PostgresFeed(std::string url, std::string describe,
               std::function<void(const StoreEvent&)> on_event);
  // Stops the thread (at most one probe or connect timeout).
  ~PostgresFeed() override;

  bool connected() const override { return connected_.load(); }

 private:
  void Run();
  // Waits `timeout` or until stopped; true if stopped.
  bool WaitStop(int timeout_ms);

  const std::string url_;
  const std::string describe_;
  const std::function<void(const StoreEvent&)> on_event_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stop_{false};
  int wake_[2] = {-1, -1};  // a pipe: the destructor writes, Run polls
  std::thread thread_;
};

// NotificationPayload()
//
// What PostgresStore sends on channel "hotfixd" for `event`: "v ENV
// VERSION", "e ENV", "t" or "w ENV"; empty for kResync, which is never
// sent.
std::string NotificationPayload(const StoreEvent& event);

// ParseNotification()
//
// A notification payload as an event; nullopt if it is not one of ours.
std::optional<StoreEvent> ParseNotification(std::string_view payload);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_POSTGRES_FEED_H_
