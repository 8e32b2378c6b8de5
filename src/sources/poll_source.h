// src/sources/poll_source.h
//
// PollSource polls GET /v1/flags on one background thread: If-None-Match with
// the last ETag (304 is a success), a jittered interval (poll_interval +/-
// poll_jitter), and after a failure an earlier retry with exponential backoff
// and full jitter (never later than the interval). 401/403/404/400 are
// configuration errors, retried only every config_error_retry. A body that is
// too large, unparsable, invalid or older than the served snapshot is rejected
// and reported; the served snapshot stays.
//
// A failed request (transport error, timeout, 429, 5xx, or 400/401/403/404,
// which may be one misconfigured server) moves the shared ServerList on to
// the next server (server_list.h); the next poll goes there. A body that is
// refused (older, invalid) does not: the data is wrong, not the server.
//
// It is the whole remote source in RemoteMode::kPolling, and the fall-back of
// a StreamSource otherwise: then it starts paused, the stream pauses it while
// it holds a stream and resumes it (with an immediate poll) when the stream
// drops, and it leaves the connection state to the stream.
//
// Thread-safe: Start/Stop/RestartAfterFork from the owner; Pause/Resume from
// any thread.

#ifndef HOTFIX_SRC_SOURCES_POLL_SOURCE_H_
#define HOTFIX_SRC_SOURCES_POLL_SOURCE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "hotfix/options.h"
#include "sources/backoff.h"
#include "sources/fetch_worker.h"
#include "sources/http_fetcher.h"
#include "sources/remote_document.h"
#include "sources/server_list.h"
#include "sources/source.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

class PollSource : public Source {
 public:
  // `fallback`: a StreamSource's poller (starts paused, reports no connection
  // state).
  PollSource(std::shared_ptr<ServerList> servers, RemoteOptions options,
             SourceSink* sink, std::shared_ptr<RemoteDocument> document,
             bool fallback);
  ~PollSource() override;

  void Start() override;
  // Returns promptly even while a request is in flight (it is aborted). In a
  // forked child that did not call RestartAfterFork(), only forgets the
  // parent's thread (it cannot be joined, and its connection is the
  // parent's).
  void Stop() override;
  void RestartAfterFork() override;
  // As RestartAfterFork(), sharing `document` (the StreamSource's new one).
  void RestartAfterFork(std::shared_ptr<RemoteDocument> document);

  // Stops polling after the request in flight, if any.
  void Pause();
  // Polls now, then every interval.
  void Resume();

 private:
  // Everything a polling thread touches (see fetch_worker.h).
  struct Worker : FetchWorker {
    bool paused ABSL_GUARDED_BY(mu) = false;
    bool poll_now ABSL_GUARDED_BY(mu) = false;
    // Polling-thread state (no lock: only the thread uses it).
    Backoff backoff;
    Backoff::UniformRng rng;
    std::string etag;
    std::string last_logged_error;

    explicit Worker(const RemoteOptions& options);
  };

  std::unique_ptr<Worker> NewWorker(bool paused) const;
  void Run(Worker* worker);
  // One request; returns the wait before the next one.
  absl::Duration PollOnce(Worker* worker);

  const std::shared_ptr<ServerList> servers_;
  const RemoteOptions options_;
  SourceSink* const sink_;
  const bool fallback_;
  std::shared_ptr<RemoteDocument> document_;
  std::unique_ptr<Worker> worker_;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_POLL_SOURCE_H_
