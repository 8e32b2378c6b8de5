// tests/support/flag_server.h
//
// FlagServer is an in-process flag server for tests and benchmarks: the
// server side of docs/protocol.md (GET /v1/flags with ETag / If-None-Match,
// GET /v1/stream with put / patch / heartbeat events and Last-Event-ID
// resumption) on a real cpp-httplib server bound to 127.0.0.1 on an ephemeral
// port, optionally over TLS. Knobs make it misbehave on purpose: answer with a
// fixed status or body, hold requests unanswered, go silent, send raw bytes,
// drop every stream, stop and restart on the same port.
//
// Also: BoolFlag()/Document() to write flag sets. A FlagServer made with a
// Certificate (tests/support/certificate.h) serves HTTPS.
//
// Every wait, the server's own included, has a deadline (kWaitLimit, or the
// caller's in Eventually()), so a failing test fails instead of hanging.
//
// Thread-safe: every method may be called from any thread.

#ifndef HOTFIX_TESTS_SUPPORT_FLAG_SERVER_H_
#define HOTFIX_TESTS_SUPPORT_FLAG_SERVER_H_

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "certificate.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define HOTFIX_FLAG_SERVER_TSAN 1
#endif

namespace hotfix {
namespace testing_support {

#if defined(HOTFIX_FLAG_SERVER_TSAN)
// ThreadSanitizer and the (uninstrumented) cpp-httplib server: a worker that
// parses the first request initializes function-local statics of httplib's
// parser; other workers later read them after an inline check of the
// static's guard, which TSan cannot see, so it reports a race inside httplib
// that the guard prevents. Every worker job acquires, and every request
// releases once it is parsed (pre-routing), this token: the guard's edge,
// made visible.
inline char tsan_parsed_token = 0;

class AnnotatedThreadPool : public httplib::ThreadPool {
 public:
  using httplib::ThreadPool::ThreadPool;
  void enqueue(std::function<void()> fn) override {
    httplib::ThreadPool::enqueue([fn = std::move(fn)] {
      __tsan_acquire(&tsan_parsed_token);
      fn();
    });
  }
};
#endif

// A flag serving `on` (true) or `off` (false) to everyone.
inline std::string BoolFlag(bool on) {
  return std::string(
             R"({"variants":{"on":true,"off":false},"off_variant":"off","default":")") +
         (on ? "on" : "off") + "\"}";
}

// A whole flag set: {"version":V,"flags":{key: flag json, ...}}.
inline std::string Document(std::uint64_t version,
                            const std::map<std::string, std::string>& flags) {
  std::string out = "{\"version\":" + std::to_string(version) + ",\"flags\":{";
  bool first = true;
  for (const auto& [key, flag] : flags) {
    if (!first) out += ",";
    first = false;
    out += "\"" + key + "\":" + flag;
  }
  out += "}}";
  return out;
}

class FlagServer {
 public:
  static constexpr char kSdkKey[] = "test-sdk-key";
  // The longest the server itself ever waits for anything (its accept loop
  // to start, a held request to be released): a test that forgets to release
  // fails with a message instead of hanging.
  static constexpr std::chrono::seconds kWaitLimit{60};

  // `tls`: serve HTTPS with this certificate (must outlive the server).
  explicit FlagServer(const Certificate* tls = nullptr) : tls_(tls) {}
  ~FlagServer() { Stop(); }
  FlagServer(const FlagServer&) = delete;
  FlagServer& operator=(const FlagServer&) = delete;

  // Start()
  //
  // Listens on 127.0.0.1: on `port`, or an ephemeral port the first time (0),
  // or the previous port again after Stop(). Returns false if it cannot bind.
  bool Start(int port = -1) {
    std::lock_guard<std::mutex> start_lock(start_mu_);
    if (server_ != nullptr) return true;
    if (port < 0) port = port_;
    std::unique_ptr<httplib::Server> server;
    if (tls_ != nullptr) {
      server = std::make_unique<httplib::SSLServer>(tls_->x509(), tls_->key());
    } else {
      server = std::make_unique<httplib::Server>();
    }
    if (!server->is_valid()) return false;
#if defined(HOTFIX_FLAG_SERVER_TSAN)
    server->new_task_queue = [] {
      return new AnnotatedThreadPool(CPPHTTPLIB_THREAD_POOL_COUNT);
    };
    server->set_pre_routing_handler(
        [](const httplib::Request&, httplib::Response&) {
          __tsan_release(&tsan_parsed_token);
          return httplib::Server::HandlerResponse::Unhandled;
        });
#endif
    server->set_keep_alive_timeout(1);
    server->set_read_timeout(2, 0);
    server->set_write_timeout(2, 0);
    server->set_tcp_nodelay(true);
    Route(*server);
    int bound = port;
    if (port == 0) {
      bound = server->bind_to_any_port("127.0.0.1");
    } else if (!server->bind_to_port("127.0.0.1", port)) {
      bound = -1;
    }
    if (bound <= 0) return false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = false;
      port_ = bound;
    }
    server_ = std::move(server);
    httplib::Server* raw = server_.get();
    thread_ = std::thread([raw] { raw->listen_after_bind(); });
    // httplib's stop() is a no-op until the accept loop runs.
    const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    while (!raw->is_running()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr,
                     "FlagServer: the accept loop did not start within %lld "
                     "s\n",
                     static_cast<long long>(kWaitLimit.count()));
        raw->stop();
        thread_.join();
        server_.reset();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Stop()
  //
  // Kills the server: the listening socket and every open stream are closed
  // (mid-stream, without a final chunk), held requests are dropped.
  void Stop() {
    std::lock_guard<std::mutex> start_lock(start_mu_);
    if (server_ == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_->stop();
    thread_.join();
    server_.reset();
  }

  int port() const { return CopyUnderLock(port_); }
  std::string url() const {
    return std::string(tls_ != nullptr ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(port());
  }

  // ------------------------------------------------------------ flag data

  // Replaces the whole set at `version` (must grow) and sends a put.
  void SetAll(std::uint64_t version, std::map<std::string, std::string> flags) {
    std::lock_guard<std::mutex> lock(mu_);
    version_ = version;
    flags_ = std::move(flags);
    patches_.clear();  // history cannot bridge a put
    Broadcast(PutEventLocked());
  }

  // Sets one flag (version + 1) and sends a patch. Returns the new version.
  std::uint64_t SetFlag(const std::string& key, const std::string& flag) {
    std::lock_guard<std::mutex> lock(mu_);
    flags_[key] = flag;
    return PatchLocked(key, "\"flag\":" + flag);
  }
  std::uint64_t DeleteFlag(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    flags_.erase(key);
    return PatchLocked(key, "\"deleted\":true");
  }
  // Changes the set without telling the streams (they see it only through a
  // re-sync or polling). Returns the new version.
  std::uint64_t SetFlagQuietly(const std::string& key,
                               const std::string& flag) {
    std::lock_guard<std::mutex> lock(mu_);
    flags_[key] = flag;
    ++version_;
    patches_.clear();
    return version_;
  }

  std::uint64_t version() const { return CopyUnderLock(version_); }
  std::string document() const {
    std::lock_guard<std::mutex> lock(mu_);
    return Document(version_, flags_);
  }

  // ------------------------------------------------------------ misbehaviour

  // Raw bytes to every open stream.
  void SendRaw(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    Broadcast(bytes);
  }
  // Ends every open stream abruptly.
  void CloseStreams() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& stream : streams_) stream->closed = true;
    cv_.notify_all();
  }
  // While silent, streams get no events at all (events are dropped, no
  // heartbeats), but stay open; with `comment`, they get that SSE comment
  // line (": ...") every heartbeat interval instead: bytes, but no event.
  void SetSilent(bool silent, std::string comment = "") {
    std::lock_guard<std::mutex> lock(mu_);
    silent_ = silent;
    silent_comment_ = std::move(comment);
    cv_.notify_all();
  }
  // Streams' heartbeat interval. Default: 50 ms.
  void SetHeartbeatInterval(std::chrono::milliseconds interval) {
    std::lock_guard<std::mutex> lock(mu_);
    heartbeat_ = interval;
  }
  // GET /v1/flags answers this status (0: normal) with `body` and, if not
  // empty, `etag` (then a request whose If-None-Match equals it gets a 304,
  // as from a cache in front of the server).
  void SetFlagsResponse(int status, std::string body = "",
                        std::string content_type = "application/json",
                        std::string etag = "") {
    std::lock_guard<std::mutex> lock(mu_);
    flags_status_ = status;
    flags_body_ = std::move(body);
    flags_content_type_ = std::move(content_type);
    flags_etag_ = std::move(etag);
  }
  // GET /v1/stream answers this status (0: normal).
  void SetStreamStatus(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    stream_status_ = status;
  }
  // The Retry-After header of the statuses set above ("": none).
  void SetRetryAfter(std::string value) {
    std::lock_guard<std::mutex> lock(mu_);
    retry_after_ = std::move(value);
  }
  // The next new stream starts with these raw bytes instead of the
  // protocol's first event, and is then cut (`close_after`) or continues
  // normally. Queued openings are used one per connection, in order.
  void QueueStreamOpening(std::string bytes, bool close_after) {
    std::lock_guard<std::mutex> lock(mu_);
    openings_.push_back(Opening{std::move(bytes), close_after});
  }
  // While holding, requests to `path` ("/v1/flags" or "/v1/stream") are
  // received and then not answered until ReleaseHeld() (or Stop()).
  void Hold(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    held_paths_.insert(path);
  }
  void ReleaseHeld() {
    std::lock_guard<std::mutex> lock(mu_);
    held_paths_.clear();
    cv_.notify_all();
  }
  void Release(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    held_paths_.erase(path);
    cv_.notify_all();
  }
  int held_now() const { return CopyUnderLock(held_now_); }

  // ------------------------------------------------------------ observation

  int flags_requests() const { return CopyUnderLock(flags_requests_); }
  int not_modified_responses() const { return CopyUnderLock(not_modified_); }
  int stream_connections() const { return CopyUnderLock(stream_connections_); }
  int open_streams() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(streams_.size());
  }
  // The Last-Event-ID of each stream request ("" when absent), in order.
  std::vector<std::string> last_event_ids() const {
    return CopyUnderLock(last_event_ids_);
  }
  // The Authorization header of the last request.
  std::string last_authorization() const {
    return CopyUnderLock(last_authorization_);
  }
  // The If-None-Match header of each GET /v1/flags ("" when absent), in
  // order.
  std::vector<std::string> if_none_match_values() const {
    return CopyUnderLock(if_none_match_);
  }
  // When each GET /v1/flags / GET /v1/stream arrived (steady clock), in
  // order.
  std::vector<std::chrono::steady_clock::time_point> flags_request_times()
      const {
    return CopyUnderLock(flags_times_);
  }
  std::vector<std::chrono::steady_clock::time_point> stream_request_times()
      const {
    return CopyUnderLock(stream_times_);
  }

  // Polls `done` every millisecond for up to `timeout`.
  template <typename F>
  static bool Eventually(
      F done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
  }

 private:
  struct Stream {
    std::string pending;  // bytes to write
    bool closed = false;
    bool close_when_flushed = false;
  };
  struct Opening {
    std::string bytes;
    bool close_after = false;
  };

  // A copy of `field`, read under mu_.
  template <typename T>
  T CopyUnderLock(const T& field) const {
    std::lock_guard<std::mutex> lock(mu_);
    return field;
  }

  std::string PutEventLocked() const {
    return "event: put\nid: " + std::to_string(version_) +
           "\ndata: " + Document(version_, flags_) + "\n\n";
  }
  std::string HeartbeatLocked() const {
    return "event: heartbeat\ndata: {\"version\":" + std::to_string(version_) +
           "}\n\n";
  }
  std::uint64_t PatchLocked(const std::string& key, const std::string& body) {
    const std::uint64_t base = version_++;
    std::string event = "event: patch\nid: " + std::to_string(version_) +
                        "\ndata: {\"version\":" + std::to_string(version_) +
                        ",\"base_version\":" + std::to_string(base) +
                        ",\"key\":\"" + key + "\"," + body + "}\n\n";
    patches_[version_] = event;
    Broadcast(event);
    return version_;
  }
  void Broadcast(const std::string& bytes) {
    if (silent_) return;
    for (const auto& stream : streams_) stream->pending += bytes;
    cv_.notify_all();
  }
  // The protocol's first bytes for a stream resuming from `last_id`.
  std::string OpeningLocked(const std::string& last_id) const {
    std::uint64_t have = 0;
    bool resume = !last_id.empty();
    try {
      if (resume) have = std::stoull(last_id);
    } catch (...) {
      resume = false;
    }
    if (!resume || have > version_) return PutEventLocked();
    if (have == version_) return HeartbeatLocked();
    std::string out;
    for (std::uint64_t v = have + 1; v <= version_; ++v) {
      auto it = patches_.find(v);
      if (it == patches_.end()) return PutEventLocked();
      out += it->second;
    }
    return out;
  }
  bool Authorized(const httplib::Request& request) {
    last_authorization_ = request.get_header_value("Authorization");
    return last_authorization_ == std::string("Bearer ") + kSdkKey;
  }
  // Blocks while `path` is held, for at most kWaitLimit. Returns false if
  // the server is stopping or the limit passed.
  bool WaitIfHeld(std::unique_lock<std::mutex>& lock, const std::string& path) {
    if (held_paths_.count(path) == 0) return true;
    ++held_now_;
    const bool released = cv_.wait_for(lock, kWaitLimit, [&] {
      return stopping_ || held_paths_.count(path) == 0;
    });
    --held_now_;
    if (!released) {
      std::fprintf(stderr,
                   "FlagServer: a request to %s was held for %lld s and is "
                   "dropped; did the test forget ReleaseHeld()?\n",
                   path.c_str(), static_cast<long long>(kWaitLimit.count()));
    }
    return released && !stopping_;
  }

  void Route(httplib::Server& server) {
    server.Get("/v1/flags", [this](const httplib::Request& request,
                                   httplib::Response& response) {
      std::unique_lock<std::mutex> lock(mu_);
      ++flags_requests_;
      flags_times_.push_back(std::chrono::steady_clock::now());
      if_none_match_.push_back(request.get_header_value("If-None-Match"));
      if (!WaitIfHeld(lock, "/v1/flags")) {
        response.status = 503;
        return;
      }
      if (!Authorized(request)) {
        response.status = 401;
        response.set_content(
            R"({"error":{"code":"UNAUTHENTICATED","message":"unknown token"}})",
            "application/json");
        return;
      }
      if (flags_status_ != 0) {
        if (!flags_etag_.empty()) {
          if (request.get_header_value("If-None-Match") == flags_etag_) {
            ++not_modified_;
            response.status = 304;
            return;
          }
          response.set_header("ETag", flags_etag_);
        }
        response.status = flags_status_;
        if (!retry_after_.empty())
          response.set_header("Retry-After", retry_after_);
        response.set_content(flags_body_, flags_content_type_.c_str());
        return;
      }
      const std::string etag = "\"test-" + std::to_string(version_) + "\"";
      if (request.get_header_value("If-None-Match") == etag) {
        ++not_modified_;
        response.status = 304;
        return;
      }
      response.set_header("ETag", etag);
      response.set_header("Cache-Control", "no-cache");
      response.set_content(Document(version_, flags_), "application/json");
    });

    server.Get("/v1/stream", [this](const httplib::Request& request,
                                    httplib::Response& response) {
      std::unique_lock<std::mutex> lock(mu_);
      ++stream_connections_;
      stream_times_.push_back(std::chrono::steady_clock::now());
      last_event_ids_.push_back(request.get_header_value("Last-Event-ID"));
      if (!WaitIfHeld(lock, "/v1/stream")) {
        response.status = 503;
        return;
      }
      if (!Authorized(request)) {
        response.status = 401;
        return;
      }
      if (stream_status_ != 0) {
        response.status = stream_status_;
        if (!retry_after_.empty())
          response.set_header("Retry-After", retry_after_);
        return;
      }
      auto stream = std::make_shared<Stream>();
      if (!openings_.empty()) {
        stream->pending = openings_.front().bytes;
        stream->close_when_flushed = openings_.front().close_after;
        openings_.erase(openings_.begin());
      } else if (!silent_) {
        stream->pending =
            OpeningLocked(request.get_header_value("Last-Event-ID"));
      }
      streams_.insert(stream);
      response.set_header("Cache-Control", "no-cache");
      response.set_header("X-Accel-Buffering", "no");
      response.set_chunked_content_provider(
          "text/event-stream",
          [this, stream](std::size_t, httplib::DataSink& sink) {
            std::unique_lock<std::mutex> lock(mu_);
            const auto beat = std::chrono::steady_clock::now() + heartbeat_;
            cv_.wait_until(lock, beat, [&] {
              return stopping_ || stream->closed || !stream->pending.empty();
            });
            if (stopping_ || stream->closed) return false;  // drop abruptly
            if (stream->pending.empty()) {
              stream->pending = !silent_ ? HeartbeatLocked()
                                : silent_comment_.empty()
                                    ? std::string()
                                    : ": " + silent_comment_ + "\n\n";
            }
            std::string out = std::move(stream->pending);
            stream->pending.clear();
            stream->closed = stream->close_when_flushed;
            lock.unlock();
            if (!out.empty() && !sink.write(out.data(), out.size()))
              return false;
            return true;
          },
          [this, stream](bool) {
            std::lock_guard<std::mutex> lock(mu_);
            streams_.erase(stream);
          });
    });
  }

  const Certificate* const tls_;
  std::mutex start_mu_;  // serializes Start/Stop
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int port_ = 0;
  std::uint64_t version_ = 0;
  std::map<std::string, std::string> flags_;
  std::map<std::uint64_t, std::string> patches_;  // version -> patch event
  std::set<std::shared_ptr<Stream>> streams_;
  bool silent_ = false;
  std::string silent_comment_;
  std::chrono::milliseconds heartbeat_{50};
  int flags_status_ = 0;
  std::string flags_body_;
  std::string flags_content_type_;
  std::string flags_etag_;
  int stream_status_ = 0;
  std::string retry_after_;
  std::vector<Opening> openings_;
  std::set<std::string> held_paths_;
  int held_now_ = 0;
  int flags_requests_ = 0;
  int not_modified_ = 0;
  int stream_connections_ = 0;
  std::vector<std::string> last_event_ids_;
  std::vector<std::string> if_none_match_;
  std::vector<std::chrono::steady_clock::time_point> flags_times_;
  std::vector<std::chrono::steady_clock::time_point> stream_times_;
  std::string last_authorization_;
};

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_FLAG_SERVER_H_
