#include "sources/poll_source.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/log.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {
namespace {

constexpr char kFlagsPath[] = "/v1/flags";

}  // namespace

PollSource::Worker::Worker(const RemoteOptions& options)
    : backoff(options.backoff_base, options.backoff_cap,
              options.backoff_reset_after),
      rng(Backoff::DefaultRng()) {}

PollSource::PollSource(std::shared_ptr<ServerList> servers,
                       RemoteOptions options, SourceSink* sink,
                       std::shared_ptr<RemoteDocument> document, bool fallback)
    : servers_(std::move(servers)),
      options_(std::move(options)),
      sink_(sink),
      fallback_(fallback),
      document_(std::move(document)) {}

PollSource::~PollSource() { Stop(); }

std::unique_ptr<PollSource::Worker> PollSource::NewWorker(bool paused) const {
  auto worker = std::make_unique<Worker>(options_);
  worker->fetcher =
      std::make_unique<HttpFetcher>(servers_, options_, options_.read_timeout);
  MutexLock lock(&worker->mu);
  worker->paused = paused;
  return worker;
}

void PollSource::Start() {
  if (worker_ != nullptr) return;
  worker_ = NewWorker(/*paused=*/fallback_);
  if (!fallback_) sink_->ReportConnection(RemoteConnection::kConnecting);
  Worker* worker = worker_.get();
  worker->thread = std::thread([this, worker] { Run(worker); });
}

void PollSource::Stop() {
  if (worker_ == nullptr || !worker_->thread.joinable()) return;
  if (InForkedChild(*worker_)) {
    // A forked child that never called AfterFork(): the thread is not ours.
    AbandonInForkedChild(&worker_);
    return;
  }
  StopAndJoin(worker_.get());
}

void PollSource::RestartAfterFork() {
  RestartAfterFork(document_->FreshAfterFork());
}

void PollSource::RestartAfterFork(std::shared_ptr<RemoteDocument> document) {
  AbandonInForkedChild(&worker_);  // its thread did not survive fork()
  // The old document may be mid-update too; keep a reference forever.
  new std::shared_ptr<RemoteDocument>(std::move(document_));  // NOLINT
  document_ = std::move(document);
  Start();
}

void PollSource::Pause() {
  Worker* worker = worker_.get();
  if (worker == nullptr) return;
  MutexLock lock(&worker->mu);
  worker->paused = true;
}

void PollSource::Resume() {
  Worker* worker = worker_.get();
  if (worker == nullptr) return;
  MutexLock lock(&worker->mu);
  if (!worker->paused) return;
  worker->paused = false;
  worker->poll_now = true;
  worker->cv.SignalAll();
}

void PollSource::Run(Worker* worker) {
  // Deadlines on the steady clock: a wall-clock step never delays a poll.
  SteadyTime next = SteadyClock::now();  // first poll at once
  worker->mu.Lock();
  for (;;) {
    while (!worker->stop && (worker->paused || (!worker->poll_now &&
                                                SteadyClock::now() < next))) {
      worker->cv.WaitUntil(&worker->mu,
                           worker->paused ? SteadyTime::max() : next);
    }
    if (worker->stop) break;
    worker->poll_now = false;
    worker->mu.Unlock();
    const absl::Duration wait = PollOnce(worker);
    worker->mu.Lock();
    next = DeadlineAfter(wait);
  }
  MarkDone(worker);
  worker->mu.Unlock();
}

absl::Duration PollSource::PollOnce(Worker* worker) {
  const absl::Duration interval =
      Jittered(options_.poll_interval, options_.poll_jitter, worker->rng);
  HttpHeaders headers = {{"Accept", "application/json"},
                         {"Accept-Encoding", "gzip"}};
  if (!worker->etag.empty() && document_->has_document()) {
    headers.emplace_back("If-None-Match", worker->etag);
  }
  absl::StatusOr<HttpFetcher::Response> response =
      worker->fetcher->Get(kFlagsPath, headers, options_.max_body_bytes);
  if (!fallback_) sink_->ReportConnection(RemoteConnection::kPolling);
  const std::string url = worker->fetcher->Url(kFlagsPath);

  auto report_error = [&](const absl::Status& error, bool rejected) {
    if (rejected) {
      sink_->ReportRejected(SnapshotOrigin::kPoll, error);
    } else {
      sink_->ReportError(SnapshotOrigin::kPoll, error);
    }
    std::string text =
        error.ToString(absl::StatusToStringMode::kWithNoExtraData);
    if (text != worker->last_logged_error) {
      Log(LogLevel::kWarning,
          absl::StrCat("flag poll failed, keeping the current flags: ", text));
      worker->last_logged_error = std::move(text);
    }
  };
  auto succeeded = [&] {
    sink_->ReportSuccess(SnapshotOrigin::kPoll);
    worker->backoff.Reset();
    worker->last_logged_error.clear();
  };

  if (!response.ok()) {
    if (absl::IsCancelled(response.status())) return interval;  // stopping
    // An oversize body is bad data; anything else is the transport's fault.
    const bool rejected = absl::IsResourceExhausted(response.status());
    report_error(response.status(), rejected);
    if (!rejected) servers_->FailOver(worker->fetcher->server());
    return std::min(interval, worker->backoff.Next());
  }
  if (response->status == 200 || response->status == 304) {
    // Before the document is applied: whoever sees the new flags sees the
    // server they came from.
    sink_->ReportServer(worker->fetcher->Url(""));
  }
  switch (response->status) {
    case 304:
      succeeded();
      return interval;
    case 200: {
      RemoteDocument::Result result =
          document_->ApplyFull(response->body, SnapshotOrigin::kPoll);
      if (result.outcome == RemoteDocument::Outcome::kApplied) {
        worker->etag = response->etag;
        succeeded();
        return interval;
      }
      // Older or invalid: the server answered, but with nothing usable. The
      // ETag is not kept, so the next poll fetches the body again.
      report_error(
          absl::Status(result.error.code(),
                       absl::StrCat("GET ", url, ": ", result.error.message())),
          /*rejected=*/true);
      worker->backoff.Reset();
      return interval;
    }
    default: {
      absl::Status error =
          HttpStatusError(url, response->status, response->body);
      report_error(error, /*rejected=*/false);
      servers_->FailOver(worker->fetcher->server());
      if (IsConfigError(error)) {
        return std::max(interval, options_.config_error_retry);
      }
      // A Retry-After (429, 503) comes on top of the jittered backoff.
      return std::min(interval, worker->backoff.Next()) + response->retry_after;
    }
  }
}

}  // namespace internal
}  // namespace hotfix
