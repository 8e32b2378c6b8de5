// tools/hotfixd/core/webhooks.cc

#include "core/webhooks.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json_util.h"
#include "common/server_log.h"
#include "common/text.h"
#include "httplib.h"
#include "store/crypto.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {

struct WebhookDispatcher::Hook {
  WebhookRow row;
  // Newest last; at most options_.history.
  std::deque<DeliveryPtr> recent;
  bool removed = false;
};

struct WebhookDispatcher::Delivery {
  std::shared_ptr<Hook> hook;
  std::string body;
  DeliveryStatus status;
  httplib::Client* client = nullptr;  // while an attempt is in flight
};

namespace {

using internal::ToAbsl;

struct ParsedUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // "/…" with the query
};

ParsedUrl SplitUrl(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t path_start = url.find('/', scheme_end + 3);
  ParsedUrl out;
  out.origin = std::string(url.substr(0, path_start));
  out.path = path_start == std::string_view::npos
                 ? "/"
                 : std::string(url.substr(path_start));
  return out;
}

bool Retryable(int status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

std::string ErrorText(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::ConnectionTimeout:
      return "connect timed out";
    case httplib::Error::Read:
      return "reading the answer failed or timed out";
    case httplib::Error::Write:
      return "sending failed or timed out";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate verification failed";
    case httplib::Error::Canceled:
      return "cancelled";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

WebhookDispatcher::WebhookDispatcher(Store* store, Metrics* metrics,
                                     WebhookOptions options)
    : store_(store), metrics_(metrics), options_(std::move(options)) {}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

absl::Status WebhookDispatcher::CheckUrl(std::string_view url) {
  const bool http = absl::StartsWith(ToAbsl(url), "http://");
  const bool https = absl::StartsWith(ToAbsl(url), "https://");
  if (!http && !https) {
    return absl::InvalidArgumentError(
        "url: must start with http:// or https://");
  }
  const std::string_view rest = url.substr(http ? 7 : 8);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.front() == ':') {
    return absl::InvalidArgumentError("url: needs a host");
  }
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "url: must not carry credentials (the signature authenticates "
        "hotfixd; put a receiver's token in the path if it needs one)");
  }
  if (url.find('#') != std::string_view::npos) {
    return absl::InvalidArgumentError("url: must not have a fragment");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          "url: must not contain spaces or control characters");
    }
  }
  if (url.size() > 2048) {
    return absl::InvalidArgumentError("url: at most 2048 characters");
  }
  return absl::OkStatus();
}

absl::Status WebhookDispatcher::Start() {
  absl::StatusOr<std::vector<WebhookRow>> rows = store_->ListWebhooks("");
  if (!rows.ok()) return rows.status();
  internal::MutexLock lock(&mu_);
  if (started_) return absl::OkStatus();
  for (WebhookRow& row : *rows) {
    auto hook = std::make_shared<Hook>();
    const std::string id = row.id;
    hook->row = std::move(row);
    hooks_[id] = std::move(hook);
  }
  started_ = true;
  for (int i = 0; i < std::max(1, options_.senders); ++i) {
    senders_.emplace_back([this] { SenderLoop(); });
  }
  return absl::OkStatus();
}

void WebhookDispatcher::Stop() {
  std::size_t forgotten = 0;
  {
    internal::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (const DeliveryPtr& d : attempting_) {
      if (d->client != nullptr) d->client->stop();
    }
    forgotten = queue_.size();
  }
  wake_.SignalAll();
  for (std::thread& t : senders_) t.join();
  senders_.clear();
  if (forgotten > 0) {
    tools::LogWarning(absl::StrCat("webhooks: ", forgotten,
                                   " pending deliveries not sent (stopping)"));
  }
}

void WebhookDispatcher::Record(const DeliveryPtr& d) {
  std::deque<DeliveryPtr>& recent = d->hook->recent;
  recent.push_back(d);
  while (recent.size() > std::max<std::size_t>(1, options_.history)) {
    recent.pop_front();
  }
}

void WebhookDispatcher::Enqueue(const std::shared_ptr<Hook>& hook,
                                std::string_view event, const std::string& env,
                                const std::string& data) {
  auto d = std::make_shared<Delivery>();
  d->hook = hook;
  d->status.id = RandomToken("dlv_", 12);
  d->status.webhook_id = hook->row.id;
  d->status.event = std::string(event);
  d->status.created_at = NowMicros();
  tools::JsonOut body;
  body.Begin()
      .Str("delivery", d->status.id)
      .Str("event", event)
      .Str("env", env)
      .Str("time", tools::FormatTime(d->status.created_at))
      .Raw("data", data)
      .End();
  d->body = body.Take();
  Record(d);
  if (stopping_ || queue_.size() >= options_.max_pending) {
    d->status.state = "dropped";
    d->status.last_error = stopping_
                               ? "hotfixd is stopping"
                               : absl::StrCat("queue full (", queue_.size(),
                                              " deliveries pending)");
    metrics_->CountWebhookDelivery("dropped");
    tools::LogWarning(absl::StrCat("webhook ", hook->row.id, " (",
                                   hook->row.url, "): delivery ", d->status.id,
                                   " dropped: ", d->status.last_error));
    return;
  }
  d->status.state = "pending";
  d->status.next_attempt_at = d->status.created_at;
  queue_.emplace(d->status.next_attempt_at, std::move(d));
  wake_.SignalAll();
}

void WebhookDispatcher::Publish(const std::string& env, std::string_view event,
                                std::string data) {
  internal::MutexLock lock(&mu_);
  for (const auto& [id, hook] : hooks_) {
    if (hook->row.env == env) Enqueue(hook, event, env, data);
  }
}

void WebhookDispatcher::PublishChange(const ChangeNotice& n) {
  tools::JsonOut data;
  data.Begin()
      .U64("version", n.version)
      .Str("actor", n.actor)
      .Str("action", n.action)
      .Str("reason", n.reason)
      .Str("time", tools::FormatTime(n.time))
      .Strings("changed_keys", n.changed_keys)
      .Strings("summary", n.summary)
      .End();
  Publish(n.env, "flags.changed", data.Take());
}

void WebhookDispatcher::SenderLoop() {
  for (;;) {
    DeliveryPtr d;
    {
      internal::MutexLock lock(&mu_);
      for (;;) {
        if (stopping_) return;
        auto it = queue_.begin();
        if (it != queue_.end()) {
          const absl::Time due = absl::FromUnixMicros(it->first);
          const absl::Duration wait = due - absl::Now();
          if (wait <= absl::ZeroDuration()) {
            d = it->second;
            queue_.erase(it);
            break;
          }
          // Due times are wall-clock (they are shown to operators), but the
          // wait is on the steady clock and at most a second, so a step of
          // the wall clock (NTP, libfaketime) cannot stall the queue.
          wake_.WaitUntil(
              &mu_, internal::DeadlineAfter(std::min(wait, absl::Seconds(1))));
        } else {
          wake_.WaitUntil(&mu_, internal::DeadlineAfter(absl::Seconds(1)));
        }
      }
      attempting_.push_back(d);
    }
    int status = 0;
    std::string error;
    Attempt(*d, &status, &error);
    internal::MutexLock lock(&mu_);
    attempting_.erase(std::find(attempting_.begin(), attempting_.end(), d));
    DeliveryStatus& s = d->status;
    s.attempts += 1;
    s.last_attempt_at = NowMicros();
    s.last_status = status;
    s.last_error = error;
    if (status >= 200 && status < 300) {
      s.state = "delivered";
      s.next_attempt_at = 0;
      metrics_->CountWebhookDelivery("delivered");
      continue;
    }
    if (d->hook->removed) {
      s.state = "cancelled";
      s.next_attempt_at = 0;
      continue;
    }
    if (!Retryable(status) || s.attempts >= options_.max_attempts ||
        stopping_) {
      s.state = "failed";
      s.next_attempt_at = 0;
      metrics_->CountWebhookDelivery("failed");
      tools::LogWarning(absl::StrCat(
          "webhook ", d->hook->row.id, " (", d->hook->row.url, "): delivery ",
          s.id, " failed after ", s.attempts, " attempt(s): ", error));
      continue;
    }
    absl::Duration backoff = options_.initial_backoff;
    for (int i = 1; i < s.attempts && backoff < options_.max_backoff; ++i) {
      backoff *= 2;
    }
    backoff = std::min(backoff, options_.max_backoff);
    s.next_attempt_at = s.last_attempt_at + absl::ToInt64Microseconds(backoff);
    metrics_->CountWebhookDelivery("retried");
    queue_.emplace(s.next_attempt_at, d);
    wake_.SignalAll();
  }
}

void WebhookDispatcher::Attempt(Delivery& d, int* status, std::string* error) {
  const ParsedUrl url = SplitUrl(d.hook->row.url);
  httplib::Client client(url.origin);
  const auto seconds = [](absl::Duration t) {
    return static_cast<time_t>(std::max<int64_t>(1, absl::ToInt64Seconds(t)));
  };
  client.set_connection_timeout(seconds(options_.timeout), 0);
  client.set_read_timeout(seconds(options_.timeout), 0);
  client.set_write_timeout(seconds(options_.timeout), 0);
  client.set_follow_location(false);
  client.set_keep_alive(false);
  if (!options_.ca_cert.empty())
    client.set_ca_cert_path(options_.ca_cert.c_str());
  const std::string t = absl::StrCat(absl::ToUnixSeconds(absl::Now()));
  const httplib::Headers headers = {
      {"User-Agent", "hotfixd/" HOTFIX_VERSION_STRING},
      {"X-Hotfix-Event", d.status.event},
      {"X-Hotfix-Delivery", d.status.id},
      {"X-Hotfix-Webhook", d.hook->row.id},
      {"X-Hotfix-Signature",
       absl::StrCat(
           "t=", t, ",v1=",
           HmacSha256Hex(d.hook->row.secret, absl::StrCat(t, ".", d.body)))},
  };
  {
    internal::MutexLock lock(&mu_);
    if (stopping_) {
      *error = "hotfixd is stopping";
      return;
    }
    d.client = &client;
  }
  httplib::Result result =
      client.Post(url.path.c_str(), headers, d.body, "application/json");
  {
    internal::MutexLock lock(&mu_);
    d.client = nullptr;
  }
  if (!result) {
    *error = ErrorText(result.error());
    return;
  }
  *status = result->status;
  if (*status < 200 || *status >= 300) {
    *error = absl::StrCat("HTTP ", *status);
  }
}

absl::StatusOr<WebhookRow> WebhookDispatcher::Add(WebhookRow row,
                                                  AuditRow audit) {
  if (absl::Status st = CheckUrl(row.url); !st.ok()) return st;
  row.id = RandomToken("wh_", 9);
  tools::JsonOut detail;
  detail.Begin().Str("webhook", row.id).Str("url", row.url).End();
  audit.detail = detail.Take();
  if (row.secret.empty()) row.secret = RandomToken("whsec_", 32);
  row.created_at = NowMicros();
  if (absl::Status st = store_->InsertWebhook(row, audit); !st.ok()) return st;
  auto hook = std::make_shared<Hook>();
  hook->row = row;
  internal::MutexLock lock(&mu_);
  hooks_[row.id] = std::move(hook);
  return row;
}

absl::Status WebhookDispatcher::Remove(const std::string& env,
                                       const std::string& id,
                                       const AuditRow& audit) {
  if (absl::Status st = store_->DeleteWebhook(env, id, audit); !st.ok()) {
    return st;
  }
  internal::MutexLock lock(&mu_);
  auto it = hooks_.find(id);
  if (it == hooks_.end()) return absl::OkStatus();
  Drop(it);
  return absl::OkStatus();
}

void WebhookDispatcher::Drop(
    std::map<std::string, std::shared_ptr<Hook>>::iterator it) {
  it->second->removed = true;
  for (auto q = queue_.begin(); q != queue_.end();) {
    if (q->second->hook == it->second) {
      q->second->status.state = "cancelled";
      q = queue_.erase(q);
    } else {
      ++q;
    }
  }
  hooks_.erase(it);
}

absl::Status WebhookDispatcher::Reload() {
  absl::StatusOr<std::vector<WebhookRow>> rows = store_->ListWebhooks("");
  if (!rows.ok()) return rows.status();
  internal::MutexLock lock(&mu_);
  std::map<std::string, WebhookRow> stored;
  for (WebhookRow& row : *rows) {
    const std::string id = row.id;
    stored.emplace(id, std::move(row));
  }
  for (auto it = hooks_.begin(); it != hooks_.end();) {
    auto next = std::next(it);
    if (!stored.contains(it->first)) Drop(it);
    it = next;
  }
  for (auto& [id, row] : stored) {
    if (hooks_.contains(id)) continue;
    auto hook = std::make_shared<Hook>();
    hook->row = std::move(row);
    hooks_[id] = std::move(hook);
  }
  return absl::OkStatus();
}

std::vector<WebhookInfo> WebhookDispatcher::List(const std::string& env) const {
  std::vector<WebhookInfo> out;
  internal::MutexLock lock(&mu_);
  for (const auto& [id, hook] : hooks_) {
    if (hook->row.env != env) continue;
    out.push_back({hook->row.id, hook->row.env, hook->row.url,
                   hook->row.created_at, hook->row.created_by});
  }
  std::sort(out.begin(), out.end(),
            [](const WebhookInfo& a, const WebhookInfo& b) {
              return a.created_at < b.created_at;
            });
  return out;
}

absl::StatusOr<std::vector<DeliveryStatus>> WebhookDispatcher::Deliveries(
    const std::string& env, const std::string& id) const {
  internal::MutexLock lock(&mu_);
  auto it = hooks_.find(id);
  if (it == hooks_.end() || it->second->row.env != env) {
    return absl::NotFoundError(
        absl::StrCat("webhook \"", id, "\": no such webhook in ", env));
  }
  std::vector<DeliveryStatus> out;
  for (auto d = it->second->recent.rbegin(); d != it->second->recent.rend();
       ++d) {
    out.push_back((*d)->status);
  }
  return out;
}

absl::StatusOr<DeliveryStatus> WebhookDispatcher::Ping(
    const std::string& env, const std::string& id, const std::string& actor) {
  internal::MutexLock lock(&mu_);
  auto it = hooks_.find(id);
  if (it == hooks_.end() || it->second->row.env != env) {
    return absl::NotFoundError(
        absl::StrCat("webhook \"", id, "\": no such webhook in ", env));
  }
  tools::JsonOut data;
  data.Begin().Str("actor", actor).Str("url", it->second->row.url).End();
  Enqueue(it->second, "ping", env, data.Take());
  return it->second->recent.back()->status;
}

}  // namespace hotfixd
}  // namespace hotfix
