// src/sources/http_fetcher.h
//
// HttpFetcher performs the remote source's HTTP(S) requests (cpp-httplib
// underneath, kept out of this header): a size-limited GET for polling, and a
// streaming GET that hands the body to a callback as it arrives. Each request
// goes to the server its ServerList (server_list.h) follows when the request
// starts; server() says which one that was. It applies
// the RemoteOptions' timeouts, TLS verification and CA file, sends the SDK key
// as a bearer token (never logging it), and turns every failure into an
// absl::Status naming the URL and the problem.
//
// Cancel() may be called from any thread to abort the request in flight; it
// shuts the socket down, so a stream blocked in a read returns at once.
//
// Thread-safe only as stated: one thread issues requests; Cancel() may race
// with them.

#ifndef HOTFIX_SRC_SOURCES_HTTP_FETCHER_H_
#define HOTFIX_SRC_SOURCES_HTTP_FETCHER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hotfix/options.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace hotfix {
namespace internal {

class ServerList;

// A parsed RemoteOptions::base_url.
struct HttpEndpoint {
  bool https = false;
  std::string host;         // without brackets for IPv6 literals
  int port = 0;             // explicit or the scheme's default
  std::string origin;       // "http(s)://host:port" (brackets kept)
  std::string path_prefix;  // "" or "/prefix" (no trailing slash)
};

// ParseBaseUrl()
//
// Accepts "http(s)://host[:port][/prefix]"; InvalidArgument naming the problem
// otherwise (user info, query and fragment are refused).
absl::StatusOr<HttpEndpoint> ParseBaseUrl(std::string_view url);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// HttpStatusError()
//
// The status for an HTTP answer other than 200/304 from `url`, per
// docs/protocol.md: 401 Unauthenticated, 403 PermissionDenied, 404 NotFound
// and 400 InvalidArgument are configuration errors (marked with
// MarkConfigError: retried only slowly); 429 ResourceExhausted; anything
// else Unavailable. The message carries the server's error message from a
// {"error":{"message":...}} body, if any. `method` names the request in the
// message.
absl::Status HttpStatusError(std::string_view url, int status,
                             std::string_view body,
                             std::string_view method = "GET");

// ParseRetryAfter()
//
// A Retry-After header's value (RFC 9110: delay-seconds, or an HTTP-date
// taken relative to `now`) as a wait: zero if empty, unparsable or in the
// past, at most kMaxRetryAfter (a hostile or confused server cannot park a
// client for hours).
inline constexpr absl::Duration kMaxRetryAfter = absl::Minutes(5);
absl::Duration ParseRetryAfter(std::string_view value, absl::Time now);

class HttpFetcher {
 public:
  struct Response {
    int status = 0;
    std::string etag;
    std::string content_type;
    // How long the server asked us to wait before the next request
    // (Retry-After on a 429 or 503; zero otherwise).
    absl::Duration retry_after = absl::ZeroDuration();
    // The body of a 200 (at most max_bytes), or the first bytes of an error
    // body (at most 4 KiB) for error messages.
    std::string body;
  };

  // Called once the status line and headers of a streamed response are in
  // (`head` has no body); return false to abandon the response.
  using HeadersCallback = std::function<bool(const Response& head)>;
  // Called with each piece of a streamed body; return false to stop reading.
  using DataCallback = std::function<bool(std::string_view data)>;

  // `read_timeout` bounds each wait for bytes (the heartbeat timeout for
  // streams).
  HttpFetcher(std::shared_ptr<ServerList> servers, const RemoteOptions& options,
              absl::Duration read_timeout);
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // Get()
  //
  // GET path_prefix + `path`. A 200 body larger than `max_bytes` fails with
  // ResourceExhausted. Any HTTP status is returned as a Response; transport
  // failures are Unavailable (DeadlineExceeded for timeouts), Cancelled after
  // Cancel().
  absl::StatusOr<Response> Get(std::string_view path,
                               const HttpHeaders& headers,
                               std::size_t max_bytes);

  // Stream()
  //
  // GET path_prefix + `path`, delivering the body to `on_data` as it arrives.
  // Returns OK if the server ended the response, Cancelled if a callback
  // returned false or Cancel() was called, DeadlineExceeded if no byte came
  // for the read timeout, Unavailable for other transport failures.
  absl::Status Stream(std::string_view path, const HttpHeaders& headers,
                      const HeadersCallback& on_headers,
                      const DataCallback& on_data);

  // Post()
  //
  // POST path_prefix + `path` with `body` of `content_type`, compressed with
  // gzip (Content-Encoding: gzip) when `gzip`. Any HTTP status is returned
  // as a Response (with the first 4 KiB of the answer's body); transport
  // failures as for Get().
  absl::StatusOr<Response> Post(std::string_view path, std::string_view body,
                                std::string_view content_type, bool gzip);

  // Cancel()
  //
  // Aborts the request in flight, if any, and makes later requests fail with
  // Cancelled. Thread-safe; may be called repeatedly (a request that started
  // just after a call is aborted by the next one).
  void Cancel();

  // AbandonInForkedChild()
  //
  // In a child process after fork(): releases `fetcher` without touching the
  // connection it may have had open at the fork (the parent still uses it; a
  // normal destruction would shut it down for both). Only the child's copy of
  // that socket's descriptor is closed. The object is deliberately leaked.
  static void AbandonInForkedChild(std::unique_ptr<HttpFetcher> fetcher);

  // The full URL of `path` on the server of the latest request, for
  // messages.
  std::string Url(std::string_view path) const;

  // The index (in the ServerList) of the server the latest request went to.
  std::size_t server() const { return active_.load(); }

  // Select()
  //
  // Points Url() at the server the list follows now (every request does this
  // itself; call it first to name that server in messages).
  void Select();

 private:
  // Picks the server the list follows now for the next request.
  httplib::Client& Begin();
  const HttpEndpoint& endpoint() const;

  std::string FullPath(std::string_view path) const;
  // `error` is an httplib::Error; `idle` how long the socket had been silent.
  absl::Status TransportError(int error, std::string_view path,
                              absl::Duration idle,
                              std::string_view method = "GET") const;

  const std::shared_ptr<ServerList> servers_;
  // One client per server, made at construction (Cancel() may touch them
  // from another thread, so they are never replaced).
  std::vector<std::unique_ptr<httplib::Client>> clients_;
  std::atomic<std::size_t> active_{0};
  std::atomic<bool> cancelled_{false};
  // The socket of the request in flight, -1 if none; for AbandonInForkedChild.
  std::atomic<int> socket_fd_{-1};
  const absl::Duration read_timeout_;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_HTTP_FETCHER_H_
