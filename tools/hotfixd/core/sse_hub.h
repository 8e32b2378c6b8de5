// tools/hotfixd/core/sse_hub.h
//
// SseHub fans flag-set changes out to every connected GET /v1/stream client
// of an environment (docs/protocol.md, "GET /v1/stream"). Each environment
// has a channel holding its current version, its current document (for
// `put`) and a bounded history of recent changes: single-flag changes keep
// their serialized `patch` event, other changes are markers that force a
// `put`. Every subscriber keeps a cursor (the version its client has) and, on
// each wake-up, is sent either the patches from its cursor to the current
// version — when every step is a patch still in the history — or one `put`
// of the current set. The same rule answers a reconnect with Last-Event-ID,
// so resume and live fan-out behave identically. Events are serialized once
// per change and shared by all subscribers; a slow client only delays
// itself (it blocks in its own write, never holding the channel lock).
//
// Thread-safe. Subscription::Next() is called by the one thread serving that
// connection.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_SSE_HUB_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_SSE_HUB_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/text.h"

namespace hotfix {
namespace hotfixd {

using tools::SharedText;

// One change in a channel's history.
struct StreamChange {
  std::uint64_t version = 0;
  // The serialized `patch` event ("event: patch\nid: ...\n\n"), or null when
  // the change was not a single-flag change (clients need a `put`).
  SharedText patch_event;
};

// Builds the `patch` event for a change from `version - 1` to `version`;
// `flag_json` nullopt means the flag was deleted.
SharedText MakePatchEvent(std::uint64_t version, const std::string& key,
                          const std::optional<std::string>& flag_json);

struct StreamCounters {
  std::atomic<std::uint64_t> puts{0};
  std::atomic<std::uint64_t> patches{0};
  std::atomic<std::uint64_t> heartbeats{0};
  std::atomic<std::uint64_t> rejected{0};  // over --max-streams (per key)
};

class SseHub;

class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Next()
  //
  // Blocks until there is something to send: the initial events, changes,
  // a heartbeat after `heartbeat` of silence, or, more often, a liveness
  // probe (an SSE comment line, ignored by clients) whose failed write
  // reveals a client that has gone away, releasing its thread and stream
  // slot within seconds instead of heartbeats. Appends the pieces to write,
  // in order, to `out`. Returns false when the hub shuts down.
  bool Next(std::vector<SharedText>* out);

  std::uint64_t cursor() const { return cursor_; }

  // Per-environment state, defined in sse_hub.cc.
  struct Channel;

 private:
  friend class SseHub;
  Subscription(SseHub* hub, std::shared_ptr<Channel> channel,
               std::string token_id);
  // True once the hub was told to close this token's streams.
  bool Revoked();

  SseHub* const hub_;
  const std::shared_ptr<Channel> channel_;
  const std::string token_id_;
  std::uint32_t revocations_seen_ = 0;
  std::uint64_t cursor_ = 0;
  std::vector<SharedText> pending_;
  absl::Time next_heartbeat_;
  absl::Time next_probe_;
};

class SseHub {
 public:
  // Liveness probes are written after min(heartbeat, kProbeInterval) of
  // silence.
  static constexpr absl::Duration kProbeInterval = absl::Seconds(2);

  // `max_streams` in all; `max_streams_per_key` for one token (so one leaked
  // SDK key cannot take every slot).
  SseHub(absl::Duration heartbeat, std::size_t history_limit, int max_streams,
         int max_streams_per_key);
  ~SseHub();

  // AddEnvironment()
  //
  // Registers (or resets) `env` at `version` with its document and the
  // recent changes leading to it (oldest first, contiguous, ending at
  // `version`; may be empty).
  void AddEnvironment(const std::string& env, std::uint64_t version,
                      SharedText document, std::vector<StreamChange> history);

  // Publish()
  //
  // `env` moved to `change.version` (its previous version + 1) with
  // `document`; wakes every subscriber of `env`.
  void Publish(const std::string& env, SharedText document,
               StreamChange change);

  // Subscribe()
  //
  // A new stream for `env` held by token `token_id`, positioned by
  // Last-Event-ID (nullopt when absent or unparsable). NotFound for an
  // unknown environment, ResourceExhausted when --max-streams streams are
  // open in all or --max-streams-per-key for this token.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::string& env, std::optional<std::uint64_t> last_event_id,
      const std::string& token_id);

  // CloseStreamsOf()
  //
  // Ends every open stream of token `token_id` (revoked: it must not keep
  // receiving changes).
  void CloseStreamsOf(const std::string& token_id);

  // Ends every stream (Next() returns false) and refuses new ones.
  void Shutdown();

  // Open streams per environment.
  std::map<std::string, int> ConnectedByEnvironment() const;
  int connected() const { return total_.load(std::memory_order_relaxed); }
  const StreamCounters& counters() const { return counters_; }

 private:
  friend class Subscription;
  using Channel = Subscription::Channel;

  const absl::Duration heartbeat_;
  const absl::Duration probe_;
  const std::size_t history_limit_;
  const int max_streams_;
  const int max_streams_per_key_;
  std::atomic<int> total_{0};
  std::atomic<std::uint32_t> revocations_{0};  // bumped by CloseStreamsOf
  std::atomic<bool> shutdown_{false};
  StreamCounters counters_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_token_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> closed_tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_SSE_HUB_H_
