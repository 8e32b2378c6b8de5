#include "sources/stream_source.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sources/sse_parser.h"
#include "util/log.h"
#include "util/strings.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {
namespace {

constexpr char kStreamPath[] = "/v1/stream";

absl::Status Annotate(std::string_view what, const absl::Status& error) {
  return absl::Status(error.code(),
                      absl::StrCat(ToAbsl(what), ": ", error.message()));
}

}  // namespace

StreamSource::Worker::Worker(const RemoteOptions& options)
    : backoff(options.backoff_base, options.backoff_cap,
              options.backoff_reset_after) {}

StreamSource::StreamSource(std::shared_ptr<ServerList> servers,
                           RemoteOptions options, SourceSink* sink,
                           std::shared_ptr<RemoteDocument> document)
    : servers_(std::move(servers)),
      options_(std::move(options)),
      sink_(sink),
      document_(std::move(document)),
      poller_(std::make_unique<PollSource>(servers_, options_, sink_, document_,
                                           /*fallback=*/true)) {}

StreamSource::~StreamSource() { Stop(); }

void StreamSource::Start() {
  if (worker_ != nullptr) return;
  worker_ = std::make_unique<Worker>(options_);
  worker_->fetcher = std::make_unique<HttpFetcher>(servers_, options_,
                                                   options_.heartbeat_timeout);
  poller_->Start();  // paused until the stream fails
  sink_->ReportConnection(RemoteConnection::kConnecting);
  Worker* worker = worker_.get();
  worker->thread = std::thread([this, worker] { Run(worker); });
}

void StreamSource::Stop() {
  if (worker_ != nullptr && InForkedChild(*worker_)) {
    // A forked child that never called AfterFork(): the thread is not ours.
    AbandonInForkedChild(&worker_);
  }
  if (worker_ != nullptr && worker_->thread.joinable()) {
    StopAndJoin(worker_.get());  // aborting the request unblocks a read
  }
  poller_->Stop();
}

void StreamSource::RestartAfterFork() {
  AbandonInForkedChild(&worker_);  // its thread did not survive fork()
  std::shared_ptr<RemoteDocument> fresh = document_->FreshAfterFork();
  new std::shared_ptr<RemoteDocument>(std::move(document_));  // NOLINT: leak
  document_ = std::move(fresh);
  poller_->RestartAfterFork(document_);  // starts it, paused
  Start();
}

bool StreamSource::Stopping(Worker* worker) {
  MutexLock lock(&worker->mu);
  return worker->stop;
}

void StreamSource::Run(Worker* worker) {
  bool resync = false;
  std::string last_logged;
  while (!Stopping(worker)) {
    const bool resume = !resync && document_->has_document();
    Ending ending = Connect(worker, resume);
    if (Stopping(worker)) break;
    if (!ending.gap && !ending.reported) {
      // The server failed (not the data): follow the next one.
      servers_->FailOver(worker->fetcher->server());
    }
    resync = ending.resync;
    worker->backoff.RecordHealthy(ending.healthy_for);
    // The connection state first: no reader of the status may see the
    // stream's failure (kStale) while the connection still says kStreaming.
    sink_->ReportConnection(RemoteConnection::kPolling);
    if (!ending.reported)
      sink_->ReportError(SnapshotOrigin::kStream, ending.error);
    std::string text =
        ending.error.ToString(absl::StatusToStringMode::kWithNoExtraData);
    if (text != last_logged) {
      Log(ending.gap ? LogLevel::kInfo : LogLevel::kWarning,
          absl::StrCat("flag stream lost, polling until it reconnects: ",
                       text));
      last_logged = std::move(text);
    }
    if (ending.healthy_for > absl::ZeroDuration()) last_logged.clear();
    poller_->Resume();
    // The jittered backoff spreads the herd; a Retry-After comes on top.
    absl::Duration delay = worker->backoff.Next() + ending.retry_after;
    if (ending.config_error)
      delay = std::max(delay, options_.config_error_retry);
    const SteadyTime deadline = DeadlineAfter(delay);
    MutexLock lock(&worker->mu);
    while (!worker->stop && worker->cv.WaitUntil(&worker->mu, deadline)) {
    }
  }
  MutexLock lock(&worker->mu);
  MarkDone(worker);
}

StreamSource::Ending StreamSource::Connect(Worker* worker, bool resume) {
  Ending ending;
  HttpHeaders headers = {{"Accept", "text/event-stream"},
                         {"Cache-Control", "no-cache"},
                         {"Accept-Encoding", "identity"}};
  if (resume) {
    headers.emplace_back("Last-Event-ID", absl::StrCat(document_->version()));
  }
  worker->fetcher->Select();
  const std::string url = worker->fetcher->Url(kStreamPath);
  SseParser parser(options_.max_body_bytes);
  bool streaming = false;
  // On the steady clock: silence and health must not jump with the wall
  // clock.
  SteadyTime first_event;
  SteadyTime last_event = SteadyClock::now();
  // A connection opened without Last-Event-ID must begin with a put: until
  // one arrives, a heartbeat cannot prove that the client is in step.
  bool put_received = false;

  // Ends the connection; returns false for the callbacks to return.
  auto end = [&](absl::Status error, bool reported, bool resync) {
    ending.error = std::move(error);
    ending.reported = reported;
    ending.resync = resync;
    return false;
  };
  auto reject = [&](std::string_view what, const absl::Status& error) {
    absl::Status annotated = Annotate(what, error);
    sink_->ReportRejected(SnapshotOrigin::kStream, annotated);
    return annotated;
  };
  auto mark_streaming = [&] {
    if (streaming) return;
    streaming = true;
    first_event = SteadyClock::now();
    poller_->Pause();
    sink_->ReportConnection(RemoteConnection::kStreaming);
  };
  auto on_event = [&](const SseEvent& event) {
    last_event = SteadyClock::now();
    if (event.type == "put" || event.type == "patch") {
      const bool put = event.type == "put";
      put_received |= put;
      const RemoteDocument::Result result =
          put ? document_->ApplyFull(event.data, SnapshotOrigin::kStream)
              : document_->ApplyPatch(event.data, SnapshotOrigin::kStream);
      const std::string what = absl::StrCat(
          "GET ", url, ": ", put ? "put" : "patch", " event",
          event.id.empty() ? "" : absl::StrCat(" (id ", event.id, ")"));
      switch (result.outcome) {
        case RemoteDocument::Outcome::kApplied:
        case RemoteDocument::Outcome::kUnchanged:
          mark_streaming();
          sink_->ReportSuccess(SnapshotOrigin::kStream);
          return true;
        case RemoteDocument::Outcome::kOlder:
          // Ignored; the stream itself is fine.
          Log(LogLevel::kWarning,
              absl::StrCat("flag update ignored: ",
                           reject(what, result.error).message()));
          mark_streaming();
          return true;
        case RemoteDocument::Outcome::kGap:
          // Not an error: re-sync with a fresh put.
          ending.gap = true;
          return end(Annotate(absl::StrCat(what, ": re-syncing"), result.error),
                     /*reported=*/true, /*resync=*/true);
        case RemoteDocument::Outcome::kRejected:
          return end(reject(what, result.error), /*reported=*/true,
                     /*resync=*/true);
      }
      return true;
    }
    if (event.type == "heartbeat") {
      const RemoteDocument::Result result =
          resume || put_received
              ? document_->CheckHeartbeat(event.data)
              : RemoteDocument::Result{
                    RemoteDocument::Outcome::kGap,
                    absl::FailedPreconditionError(
                        "heartbeat before any put on a connection opened "
                        "without Last-Event-ID")};
      if (result.outcome == RemoteDocument::Outcome::kGap) {
        ending.gap = true;
        return end(
            Annotate(absl::StrCat("GET ", url, ": heartbeat: re-syncing"),
                     result.error),
            /*reported=*/true, /*resync=*/true);
      }
      mark_streaming();
      sink_->ReportSuccess(SnapshotOrigin::kStream);
      return true;
    }
    return true;  // unknown event types are ignored (forward compatibility)
  };
  auto on_headers = [&](const HttpFetcher::Response& head) {
    const int status = head.status;
    const std::string& content_type = head.content_type;
    if (status != 200) {
      absl::Status error = HttpStatusError(url, status, "");
      ending.config_error = IsConfigError(error);
      ending.retry_after = head.retry_after;
      return end(std::move(error), /*reported=*/false, /*resync=*/false);
    }
    if (!absl::StartsWith(absl::AsciiStrToLower(content_type),
                          "text/event-stream")) {
      return end(absl::UnavailableError(absl::StrCat(
                     "GET ", url, ": expected text/event-stream, got \"",
                     content_type, "\"")),
                 /*reported=*/false, /*resync=*/false);
    }
    // Before any event is applied: whoever sees the new flags sees the
    // server they came from.
    sink_->ReportServer(worker->fetcher->Url(""));
    return true;
  };
  auto on_data = [&](std::string_view data) {
    if (SinceSteady(last_event) > options_.heartbeat_timeout) {
      return end(absl::DeadlineExceededError(absl::StrCat(
                     "GET ", url, ": no event for ",
                     absl::FormatDuration(options_.heartbeat_timeout))),
                 /*reported=*/false, /*resync=*/false);
    }
    absl::Status parsed = parser.Feed(data, on_event);
    if (parsed.ok()) return true;
    if (absl::IsCancelled(parsed)) return false;  // `ending` is set
    return end(reject(absl::StrCat("GET ", url), parsed), /*reported=*/true,
               /*resync=*/true);
  };

  absl::Status status =
      worker->fetcher->Stream(kStreamPath, headers, on_headers, on_data);
  if (streaming) ending.healthy_for = SinceSteady(first_event);
  if (ending.error.ok()) {
    ending.error = status.ok()
                       ? absl::UnavailableError(absl::StrCat(
                             "GET ", url, ": the server closed the stream"))
                       : status;
  }
  return ending;
}

}  // namespace internal
}  // namespace hotfix
