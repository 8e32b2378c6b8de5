// tools/hotfixd/core/sse_hub.cc

#include "core/sse_hub.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json_util.h"

namespace hotfix {
namespace hotfixd {

// Publishers change the state under an exclusive lock and then bump `seq`
// and wake every waiter at once (a futex on Linux). Subscribers read the
// state under a shared lock. A condition variable would instead hand the
// mutex from one woken subscriber to the next, one context switch at a time:
// with a thousand streams that chain alone costs tens of milliseconds.
struct Subscription::Channel {
  explicit Channel(std::string n) : name(std::move(n)) {}

  const std::string name;
  absl::Mutex mu;
  std::atomic<std::uint32_t> seq{0};  // bumped after every change
  std::atomic<int> connected{0};
  std::uint64_t version ABSL_GUARDED_BY(mu) = 0;
  SharedText document ABSL_GUARDED_BY(mu);
  // Contiguous versions ending at `version`.
  std::deque<StreamChange> history ABSL_GUARDED_BY(mu);
  bool shutdown ABSL_GUARDED_BY(mu) = false;
};

namespace {

using Channel = Subscription::Channel;

SharedText Text(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

// Blocks while `*word == expected`, at most `timeout` (spurious wake-ups
// allowed).
void WaitWhileEqual(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                    absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return;
#if defined(__linux__)
  const timespec ts = absl::ToTimespec(timeout);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_PRIVATE,
          expected, &ts, nullptr, 0);
#else
  if (word->load() == expected) {
    absl::SleepFor(std::min(timeout, absl::Milliseconds(5)));
  }
#endif
}

// Marks a change and wakes every waiter.
void WakeAll(std::atomic<std::uint32_t>* word) {
  word->fetch_add(1, std::memory_order_release);
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE,
          INT_MAX, nullptr, nullptr, 0);
#endif
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
}

Subscription::~Subscription() {
  channel_->connected.fetch_sub(1, std::memory_order_relaxed);
  hub_->total_.fetch_sub(1, std::memory_order_relaxed);
  absl::MutexLock lock(&hub_->mu_);
  auto it = hub_->per_token_.find(token_id_);
  if (it != hub_->per_token_.end() && --it->second <= 0) {
    hub_->per_token_.erase(it);
  }
}

bool Subscription::Revoked() {
  const std::uint32_t now = hub_->revocations_.load(std::memory_order_acquire);
  if (now == revocations_seen_) return false;
  revocations_seen_ = now;
  absl::MutexLock lock(&hub_->mu_);
  return hub_->closed_tokens_.contains(token_id_);
}

bool Subscription::Next(std::vector<SharedText>* out) {
  static const SharedText kProbe = Text(":\n");
  Channel& c = *channel_;
  for (;;) {
    const std::uint32_t seen = c.seq.load(std::memory_order_acquire);
    if (Revoked()) return false;
    const absl::Time now = absl::Now();
    {
      absl::ReaderMutexLock lock(&c.mu);
      if (c.shutdown) return false;
      if (!pending_.empty()) {
        for (SharedText& p : pending_) out->push_back(std::move(p));
        pending_.clear();
      } else if (c.version != cursor_) {
        AppendChangesSince(c, cursor_, out, hub_->counters_);
        cursor_ = c.version;
      }
    }
    if (out->empty()) {
      if (now >= next_heartbeat_) {
        out->push_back(Heartbeat(cursor_));
        hub_->counters_.heartbeats.fetch_add(1, std::memory_order_relaxed);
      } else if (now >= next_probe_) {
        out->push_back(kProbe);
        next_probe_ = now + hub_->probe_;
        return true;  // a probe does not postpone the heartbeat
      } else {
        WaitWhileEqual(&c.seq, seen,
                       std::min(next_heartbeat_, next_probe_) - now);
        continue;
      }
    }
    next_heartbeat_ = now + hub_->heartbeat_;
    next_probe_ = now + hub_->probe_;
    return true;
  }
}

SseHub::SseHub(absl::Duration heartbeat, std::size_t history_limit,
               int max_streams, int max_streams_per_key)
    : heartbeat_(heartbeat),
      probe_(std::min(heartbeat, kProbeInterval)),
      history_limit_(history_limit),
      max_streams_(max_streams),
      max_streams_per_key_(max_streams_per_key) {}

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
  WakeAll(&channel->seq);
}

void SseHub::Publish(const std::string& env, SharedText document,
                     StreamChange change) {
  std::shared_ptr<Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(env);
    if (it == channels_.end()) return;
    channel = it->second;
  }
  {
    absl::MutexLock lock(&channel->mu);
    if (change.version != channel->version + 1) channel->history.clear();
    channel->version = change.version;
    channel->document = std::move(document);
    if (history_limit_ > 0) {
      channel->history.push_back(std::move(change));
      while (channel->history.size() > history_limit_) {
        channel->history.pop_front();
      }
    }
  }
  WakeAll(&channel->seq);
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
  sub->next_heartbeat_ = absl::Now() + heartbeat_;
  sub->next_probe_ = absl::Now() + probe_;
  return sub;
}

void SseHub::CloseStreamsOf(const std::string& token_id) {
  std::vector<std::shared_ptr<Channel>> channels;
  {
    absl::MutexLock lock(&mu_);
    closed_tokens_.insert(token_id);
    revocations_.fetch_add(1, std::memory_order_release);
    for (auto& [name, c] : channels_) channels.push_back(c);
  }
  for (auto& c : channels) WakeAll(&c->seq);
}

void SseHub::Shutdown() {
  shutdown_.store(true);
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
    WakeAll(&c->seq);
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
