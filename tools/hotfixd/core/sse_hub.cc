// tools/hotfixd/core/sse_hub.cc

#include "core/sse_hub.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json_util.h"

namespace hotfix {
namespace hotfixd {

// Publishers change the state under an exclusive lock and then call every
// subscriber's waker; subscribers read the state under a shared lock when
// their front polls them.
struct Subscription::Channel {
  explicit Channel(std::string n) : name(std::move(n)) {}

  const std::string name;
  absl::Mutex mu;
  std::atomic<int> connected{0};
  std::uint64_t version ABSL_GUARDED_BY(mu) = 0;
  SharedText document ABSL_GUARDED_BY(mu);
  // Contiguous versions ending at `version`.
  std::deque<StreamChange> history ABSL_GUARDED_BY(mu);
  bool shutdown ABSL_GUARDED_BY(mu) = false;

  // Wakers by subscriber id; called under waiters_mu, so a subscriber that
  // removes its own (in its destructor) knows it will not be called again.
  std::mutex waiters_mu;
  absl::flat_hash_map<std::uint64_t, std::function<void()>> waiters;

  void WakeAll() {
    std::lock_guard<std::mutex> lock(waiters_mu);
    for (auto& [id, wake] : waiters) wake();
  }
};

namespace {

using Channel = Subscription::Channel;

SharedText Text(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

// Appends the pieces of a `put` of the channel's current document.
void AppendPut(Channel& c, std::vector<SharedText>* out, StreamCounters& n)
    ABSL_SHARED_LOCKS_REQUIRED(c.mu) {
  // Stored documents are compact single-line JSON, so one data: line holds
  // the whole set.
  out->push_back(Text(absl::StrCat("event: put\nid: ", c.version, "\ndata: ")));
  out->push_back(c.document);
  static const SharedText kEnd = Text("\n\n");
  out->push_back(kEnd);
  n.puts.fetch_add(1, std::memory_order_relaxed);
}

// Appends what takes a client from `from` to the current version: the
// patches, if every step is one still in the history, else a put.
void AppendChangesSince(Channel& c, std::uint64_t from,
                        std::vector<SharedText>* out, StreamCounters& n)
    ABSL_SHARED_LOCKS_REQUIRED(c.mu) {
  if (from >= c.version || c.history.empty() ||
      c.history.front().version > from + 1) {
    AppendPut(c, out, n);
    return;
  }
  const std::size_t first =
      static_cast<std::size_t>(from + 1 - c.history.front().version);
  for (std::size_t i = first; i < c.history.size(); ++i) {
    if (c.history[i].patch_event == nullptr) {
      AppendPut(c, out, n);
      return;
    }
  }
  for (std::size_t i = first; i < c.history.size(); ++i) {
    out->push_back(c.history[i].patch_event);
    n.patches.fetch_add(1, std::memory_order_relaxed);
  }
}

SharedText Heartbeat(std::uint64_t version) {
  return Text(
      absl::StrCat("event: heartbeat\ndata: {\"version\":", version, "}\n\n"));
}

}  // namespace

SharedText MakePatchEvent(std::uint64_t version, const std::string& key,
                          const std::optional<std::string>& flag_json) {
  std::string data =
      absl::StrCat("{\"version\":", version, ",\"base_version\":", version - 1,
                   ",\"key\":", tools::JsonQuote(key));
  if (flag_json.has_value()) {
    absl::StrAppend(&data, ",\"flag\":", *flag_json, "}");
  } else {
    absl::StrAppend(&data, ",\"deleted\":true}");
  }
  return Text(
      absl::StrCat("event: patch\nid: ", version, "\ndata: ", data, "\n\n"));
}

Subscription::Subscription(SseHub* hub, std::shared_ptr<Channel> channel,
                           std::string token_id)
    : hub_(hub), channel_(std::move(channel)), token_id_(std::move(token_id)) {
  revocations_seen_ = hub_->revocations_.load(std::memory_order_acquire);
  tick_seen_ = hub_->tick_.load(std::memory_order_acquire);
  id_ = hub_->next_id_.fetch_add(1, std::memory_order_relaxed);
}

Subscription::~Subscription() {
  {
    std::lock_guard<std::mutex> lock(channel_->waiters_mu);
    channel_->waiters.erase(id_);
  }
  channel_->connected.fetch_sub(1, std::memory_order_relaxed);
  hub_->total_.fetch_sub(1, std::memory_order_relaxed);
  absl::MutexLock lock(&hub_->mu_);
  auto it = hub_->per_token_.find(token_id_);
  if (it != hub_->per_token_.end() && --it->second <= 0) {
    hub_->per_token_.erase(it);
  }
}

void Subscription::SetWaker(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(channel_->waiters_mu);
  channel_->waiters[id_] = std::move(wake);
}

bool Subscription::Revoked() {
  const std::uint32_t now = hub_->revocations_.load(std::memory_order_acquire);
  if (now == revocations_seen_) return false;
  revocations_seen_ = now;
  absl::MutexLock lock(&hub_->mu_);
  return hub_->closed_tokens_.contains(token_id_);
}

bool Subscription::Poll(std::vector<SharedText>* out) {
  if (Revoked()) return false;
  const std::uint64_t tick = hub_->tick_.load(std::memory_order_acquire);
  const std::size_t before = out->size();
  Channel& c = *channel_;
  {
    absl::ReaderMutexLock lock(&c.mu);
    if (c.shutdown) return false;
    if (!pending_.empty()) {
      for (SharedText& p : pending_) out->push_back(std::move(p));
      pending_.clear();
    }
    if (c.version != cursor_) {
      AppendChangesSince(c, cursor_, out, hub_->counters_);
      cursor_ = c.version;
    }
  }
  if (out->size() == before && tick != tick_seen_) {
    out->push_back(Heartbeat(cursor_));
    hub_->counters_.heartbeats.fetch_add(1, std::memory_order_relaxed);
  }
  if (out->size() != before) tick_seen_ = tick;
  return true;
}

namespace {
constexpr absl::string_view kRetryAfterPayload = "type.hotfix.dev/retry-after";
}  // namespace

int RetryAfterSeconds(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryAfterPayload);
  int seconds = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &seconds)) {
    return 0;
  }
  return seconds;
}

SseHub::SseHub(absl::Duration heartbeat, std::size_t history_limit,
               int max_streams, int max_streams_per_key, int admission_rate)
    : heartbeat_(heartbeat),
      history_limit_(history_limit),
      max_streams_(max_streams),
      max_streams_per_key_(max_streams_per_key),
      admission_rate_(std::max(1, admission_rate)),
      admission_tokens_(admission_rate_),
      admission_refilled_(absl::Now()),
      ticker_([this] { Tick(); }) {}

void SseHub::Tick() {
  const auto period = std::chrono::microseconds(
      std::max<std::int64_t>(1000, absl::ToInt64Microseconds(heartbeat_)));
  std::unique_lock<std::mutex> lock(ticker_mu_);
  auto next = std::chrono::steady_clock::now() + period;
  while (!ticker_cv_.wait_until(lock, next, [this] { return ticker_stop_; })) {
    next += period;
    tick_.fetch_add(1, std::memory_order_release);
    lock.unlock();
    WakeEveryone();
    lock.lock();
  }
}

void SseHub::WakeEveryone() {
  std::vector<std::shared_ptr<Channel>> channels;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, c] : channels_) channels.push_back(c);
  }
  for (auto& c : channels) c->WakeAll();
}

SseHub::~SseHub() { Shutdown(); }

void SseHub::AddEnvironment(const std::string& env, std::uint64_t version,
                            SharedText document,
                            std::vector<StreamChange> history) {
  std::shared_ptr<Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = channels_[env];
    if (slot == nullptr) slot = std::make_shared<Channel>(env);
    channel = slot;
  }
  {
    absl::MutexLock lock(&channel->mu);
    channel->version = version;
    channel->document = std::move(document);
    channel->history.clear();
    for (StreamChange& h : history) channel->history.push_back(std::move(h));
    while (channel->history.size() > history_limit_) {
      channel->history.pop_front();
    }
    if (!channel->history.empty() &&
        channel->history.back().version != version) {
      channel->history.clear();  // not contiguous with `version`: unusable
    }
    channel->shutdown = shutdown_.load();
  }
  channel->WakeAll();
}

void SseHub::Publish(const std::string& env, SharedText document,
                     StreamChange change) {
  std::vector<StreamChange> changes;
  changes.push_back(std::move(change));
  PublishChanges(env, std::move(document), std::move(changes));
}

void SseHub::PublishChanges(const std::string& env, SharedText document,
                            std::vector<StreamChange> changes) {
  if (changes.empty()) return;
  std::shared_ptr<Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(env);
    if (it == channels_.end()) return;
    channel = it->second;
  }
  {
    absl::MutexLock lock(&channel->mu);
    if (changes.back().version <= channel->version) return;  // had them all
    for (StreamChange& change : changes) {
      if (change.version <= channel->version) continue;  // already had it
      if (change.version != channel->version + 1) channel->history.clear();
      channel->version = change.version;
      if (history_limit_ > 0) {
        channel->history.push_back(std::move(change));
        while (channel->history.size() > history_limit_) {
          channel->history.pop_front();
        }
      }
    }
    channel->document = std::move(document);
  }
  channel->WakeAll();
}

absl::StatusOr<std::unique_ptr<Subscription>> SseHub::Subscribe(
    const std::string& env, std::optional<std::uint64_t> last_event_id,
    const std::string& token_id) {
  std::shared_ptr<Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(env);
    if (it == channels_.end()) {
      return absl::NotFoundError(
          absl::StrCat("environment \"", env, "\" does not exist"));
    }
    channel = it->second;
    if (shutdown_.load()) return absl::UnavailableError("shutting down");
    if (total_.load(std::memory_order_relaxed) >= max_streams_) {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(
          absl::StrCat("too many streams (", max_streams_, "); retry later"));
    }
    // Admission rate: refill the bucket, then take one token or ask the
    // caller to come back later — later the more were turned away this
    // second, so a storm returns spread over several seconds.
    const absl::Time now = absl::Now();
    admission_tokens_ = std::min(
        admission_rate_,
        admission_tokens_ +
            absl::ToDoubleSeconds(now - admission_refilled_) * admission_rate_);
    admission_refilled_ = now;
    if (admission_tokens_ < 1.0) {
      const std::int64_t second = absl::ToUnixSeconds(now);
      if (second != rejection_second_) {
        rejection_second_ = second;
        rejections_this_second_ = 0;
      }
      const int retry =
          1 + static_cast<int>(++rejections_this_second_ / admission_rate_);
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      absl::Status busy = absl::ResourceExhaustedError(
          absl::StrCat("too many new streams at once; retry in ", retry, " s"));
      busy.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(retry)));
      return busy;
    }
    admission_tokens_ -= 1.0;
    int& mine = per_token_[token_id];
    if (mine >= max_streams_per_key_) {
      counters_.rejected.fetch_add(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(
          absl::StrCat("this token already holds ", mine,
                       " streams (--max-streams-per-key); retry later"));
    }
    ++mine;
    total_.fetch_add(1, std::memory_order_relaxed);
  }
  // From here the destructor balances the counts.
  std::unique_ptr<Subscription> sub(new Subscription(this, channel, token_id));
  channel->connected.fetch_add(1, std::memory_order_relaxed);
  absl::ReaderMutexLock lock(&channel->mu);
  // docs/protocol.md, "Connecting and resuming".
  if (last_event_id.has_value() && *last_event_id == channel->version) {
    sub->pending_.push_back(Heartbeat(channel->version));
    counters_.heartbeats.fetch_add(1, std::memory_order_relaxed);
  } else if (last_event_id.has_value() && *last_event_id < channel->version) {
    AppendChangesSince(*channel, *last_event_id, &sub->pending_, counters_);
  } else {
    AppendPut(*channel, &sub->pending_, counters_);
  }
  sub->cursor_ = channel->version;
  return sub;
}

void SseHub::CloseStreamsOf(const std::string& token_id) {
  {
    absl::MutexLock lock(&mu_);
    closed_tokens_.insert(token_id);
    revocations_.fetch_add(1, std::memory_order_release);
  }
  WakeEveryone();
}

void SseHub::Shutdown() {
  shutdown_.store(true);
  {
    std::lock_guard<std::mutex> lock(ticker_mu_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  {
    // Shutdown may be called from several threads (the signal handler's and
    // main's): one joins, the others wait for that.
    std::lock_guard<std::mutex> lock(join_mu_);
    if (ticker_.joinable()) ticker_.join();
  }
  std::vector<std::shared_ptr<Channel>> channels;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, c] : channels_) channels.push_back(c);
  }
  for (auto& c : channels) {
    {
      absl::MutexLock lock(&c->mu);
      c->shutdown = true;
    }
    c->WakeAll();
  }
}

std::map<std::string, int> SseHub::ConnectedByEnvironment() const {
  std::vector<std::shared_ptr<Channel>> channels;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, c] : channels_) channels.push_back(c);
  }
  std::map<std::string, int> out;
  for (auto& c : channels) {
    out[c->name] = c->connected.load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace hotfixd
}  // namespace hotfix
