// tools/hotfixd/store/postgres_feed.cc

#include "store/postgres_feed.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/server_log.h"
#include "store/pg_conn.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr int kProbeMs = 5000;
constexpr int kBackoffInitialMs = 100;
constexpr int kBackoffCapMs = 5000;

}  // namespace

std::string NotificationPayload(const StoreEvent& event) {
  switch (event.kind) {
    case StoreEvent::Kind::kVersion:
      return absl::StrCat("v ", event.env, " ", event.version);
    case StoreEvent::Kind::kEnvironment:
      return absl::StrCat("e ", event.env);
    case StoreEvent::Kind::kTokens:
      return "t";
    case StoreEvent::Kind::kWebhooks:
      return absl::StrCat("w ", event.env);
    case StoreEvent::Kind::kResync:
      break;
  }
  return std::string();
}

std::optional<StoreEvent> ParseNotification(std::string_view text) {
  const absl::string_view payload(text.data(), text.size());
  std::vector<absl::string_view> parts = absl::StrSplit(payload, ' ');
  StoreEvent e;
  if (parts.size() == 3 && parts[0] == "v") {
    e.kind = StoreEvent::Kind::kVersion;
    e.env = std::string(parts[1]);
    if (!absl::SimpleAtoi(parts[2], &e.version)) return std::nullopt;
    return e;
  }
  if (parts.size() == 2 && (parts[0] == "e" || parts[0] == "w")) {
    e.kind = parts[0] == "e" ? StoreEvent::Kind::kEnvironment
                             : StoreEvent::Kind::kWebhooks;
    e.env = std::string(parts[1]);
    return e;
  }
  if (parts.size() == 1 && parts[0] == "t") {
    e.kind = StoreEvent::Kind::kTokens;
    return e;
  }
  return std::nullopt;
}

PostgresFeed::PostgresFeed(std::string url, std::string describe,
                           std::function<void(const StoreEvent&)> on_event)
    : url_(std::move(url)),
      describe_(std::move(describe)),
      on_event_(std::move(on_event)) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread([this] { Run(); });
}

PostgresFeed::~PostgresFeed() {
  stop_.store(true);
  if (wake_[1] >= 0) {
    const char byte = 1;
    (void)!write(wake_[1], &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

bool PostgresFeed::WaitStop(int timeout_ms) {
  pollfd p{wake_[0], POLLIN, 0};
  if (wake_[0] >= 0) {
    poll(&p, 1, timeout_ms);
  } else {
    usleep(static_cast<useconds_t>(timeout_ms) * 1000);
  }
  return stop_.load();
}

void PostgresFeed::Run() {
  std::mt19937 rng(std::random_device{}());
  int backoff_ms = kBackoffInitialMs;
  bool logged_down = false;
  while (!stop_.load()) {
    auto conn = PgConnection::Connect(url_, describe_);
    absl::Status st = conn.ok()
                          ? (*conn)->Exec("LISTEN", "LISTEN hotfixd").status()
                          : conn.status();
    if (!st.ok()) {
      if (!logged_down) {
        tools::LogWarning(absl::StrCat("change feed: ", st.message(),
                                       "; retrying with backoff"));
        logged_down = true;
      }
      // Full jitter: uniform(0, backoff).
      std::uniform_int_distribution<int> jitter(0, backoff_ms);
      if (WaitStop(jitter(rng))) return;
      backoff_ms = std::min(backoff_ms * 2, kBackoffCapMs);
      continue;
    }
    if (logged_down) tools::LogInfo("change feed: listening again");
    logged_down = false;
    backoff_ms = kBackoffInitialMs;
    connected_.store(true);
    on_event_(StoreEvent{});  // kResync: what was missed is in the tables
    PGconn* raw = (*conn)->raw();
    while (!stop_.load()) {
      pollfd fds[2] = {{PQsocket(raw), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      const int n = poll(fds, wake_[0] >= 0 ? 2 : 1, kProbeMs);
      if (stop_.load()) break;
      if (n == 0) {
        // Idle: make sure the server is still there.
        if (!(*conn)->Exec("probe", "SELECT 1").ok()) break;
      } else if (PQconsumeInput(raw) == 0) {
        break;  // the connection is gone
      }
      while (PGnotify* note = PQnotifies(raw)) {
        std::optional<StoreEvent> e = ParseNotification(note->extra);
        PQfreemem(note);
        if (e.has_value()) on_event_(*e);
      }
      if ((*conn)->broken()) break;
    }
    connected_.store(false);
    if (!stop_.load()) {
      tools::LogWarning(absl::StrCat("change feed: lost the connection to ",
                                     describe_, "; reconnecting"));
      logged_down = true;
    }
  }
}

}  // namespace hotfixd
}  // namespace hotfix
