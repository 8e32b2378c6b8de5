// src/sources/stream_source.h
//
// StreamSource holds an SSE stream (GET /v1/stream, docs/protocol.md) on one
// background thread and applies its events as they arrive: `put` replaces the
// flag set, `patch` changes one flag on top of its base version, `heartbeat`
// proves liveness (and that no change was missed).
//
// Connection state machine (ClientStatus::connection):
//
//   kConnecting ──first event──► kStreaming ──stream lost──► kPolling
//        │                           ▲                           │
//        └──────attempt failed───────┼──────────► kPolling       │
//                                    └──── reconnected, first event ◄┘
//
// - "Stream lost" is any of: the server closed it, a transport error, no event
//   for heartbeat_timeout (the read timeout of the stream's socket, and
//   checked per received chunk as well), a rejected event, or a gap.
// - While not streaming, the fall-back PollSource polls GET /v1/flags (at once,
//   then every poll interval); the first event of a new stream pauses it.
// - Reconnects wait Backoff::Next() (full jitter, reset once a stream stayed
//   healthy for backoff_reset_after); configuration errors (401/403/404/400)
//   wait at least config_error_retry.
// - A connection that fails (transport error, timeout, 429, 5xx,
//   400/401/403/404, the server closing the stream) moves the shared ServerList
//   on to the next server (server_list.h): the reconnect, after the backoff,
//   goes there and resumes with Last-Event-ID. Gaps and rejected events re-sync
//   on the same server.
// - A reconnect sends Last-Event-ID (the document's version) so the server can
//   send only the missed patches; after a gap or a rejected event it does not,
//   forcing a full `put` (a gap is never papered over).
//
// Stop() is prompt: it aborts the request in flight by shutting its socket
// down, even if the stream is blocked in a read.
//
// Thread-safe: Start/Stop/RestartAfterFork from the owning Client.

#ifndef HOTFIX_SRC_SOURCES_STREAM_SOURCE_H_
#define HOTFIX_SRC_SOURCES_STREAM_SOURCE_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotfix/options.h"
#include "sources/backoff.h"
#include "sources/fetch_worker.h"
#include "sources/http_fetcher.h"
#include "sources/poll_source.h"
#include "sources/remote_document.h"
#include "sources/server_list.h"
#include "sources/source.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

class StreamSource : public Source {
 public:
  StreamSource(std::shared_ptr<ServerList> servers, RemoteOptions options,
               SourceSink* sink, std::shared_ptr<RemoteDocument> document);
  ~StreamSource() override;

  void Start() override;
  // Prompt; in a forked child that did not call RestartAfterFork(), only
  // forgets the parent's threads (see PollSource::Stop()).
  void Stop() override;
  void RestartAfterFork() override;

 private:
  // Everything the stream thread touches (see fetch_worker.h).
  struct Worker : FetchWorker {
    // Stream-thread state.
    Backoff backoff;

    explicit Worker(const RemoteOptions& options);
  };

  // How one connection ended.
  struct Ending {
    absl::Status error;         // why (OK only when stopping)
    bool reported = false;      // already reported (a rejection)
    bool resync = false;        // reconnect without Last-Event-ID
    bool gap = false;           // a version gap (not an error)
    bool config_error = false;  // wait at least config_error_retry
    // The server's Retry-After (a 429 or 503, e.g. hotfixd admitting a
    // reconnect storm at a bounded rate): waited on top of the backoff.
    absl::Duration retry_after = absl::ZeroDuration();
    absl::Duration healthy_for;  // time since the first event, if any
  };

  void Run(Worker* worker);
  Ending Connect(Worker* worker, bool resume);
  bool Stopping(Worker* worker);

  const std::shared_ptr<ServerList> servers_;
  const RemoteOptions options_;
  SourceSink* const sink_;
  std::shared_ptr<RemoteDocument> document_;
  std::unique_ptr<PollSource> poller_;
  std::unique_ptr<Worker> worker_;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_STREAM_SOURCE_H_
