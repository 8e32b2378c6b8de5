// tools/hotfixd/http/server.h
//
// HttpServer is hotfixd's HTTP/1.1 front, event-driven on Boost.Asio with
// Boost.Beast's request parser: a few event loops own every socket, so ten
// thousand idle SSE streams cost memory, not threads. It owns the listening
// socket (bound exclusively, or inherited with --listen-fd), reads requests
// within the limits below — all of which hold before the request reaches a
// handler, so before authentication and before a body is buffered — hands
// each to the RequestHandler, and writes the Reply, or keeps writing a
// streaming reply until its EventSource ends. It knows nothing of hotfixd's
// resources; everything above HTTP is the handler's.
//
// Limits (FrontOptions; docs/operations.md, "Limits"): request line plus
// headers in bytes and in count (431), body bytes whether declared or chunked
// (413 as soon as the limit is crossed; a declared length over it is refused
// before any of the body is read), a deadline for the header block from its
// first byte (slowloris), one for the whole request, an idle keep-alive
// timeout, a write timeout, connections in all and per client address (503
// at accept), queued blocking work (503), and per stream the bytes written
// but not yet taken by the client (past it the stream is closed; the client
// resumes with Last-Event-ID).
//
// Thread-safe: Stop() may be called from any thread while Run() runs; the
// handler is called concurrently from the event loops, its work from the
// worker threads.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/reply.h"
#include "http/request.h"

namespace hotfix {
namespace hotfixd {

struct FrontOptions {
  std::string host = "127.0.0.1";
  int port = 8420;       // 0: any free port
  int listen_fd = -1;    // >= 0: serve this inherited listening socket
  std::string tls_cert;  // both set: HTTPS only
  std::string tls_key;
  // Event loops (threads owning sockets) and worker threads (blocking
  // handlers), and how many blocking requests may wait for a worker.
  int io_threads = 2;
  int worker_threads = 8;
  std::size_t max_queued_work = 1024;
  // Request limits.
  std::size_t max_header_bytes = 16 << 10;  // request line + headers
  int max_header_count = 100;
  std::size_t max_body_bytes = std::size_t{16} << 20;
  absl::Duration header_timeout = absl::Seconds(10);   // first byte → headers
  absl::Duration request_timeout = absl::Seconds(30);  // first byte → body
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(10);
  int keep_alive_max = 10000;  // requests per connection
  // Connections.
  int max_connections = 20000;
  int max_connections_per_address = 10000;
  // A stream whose client has not taken this many bytes is closed.
  std::size_t max_stream_backlog = 256 << 10;
};

// What the front does with a request it has read: send `reply` at once, or
// run `work` on a worker thread and send what it returns.
struct Dispatch {
  std::optional<Reply> reply;
  std::function<Reply()> work;
};

// Called on an event loop for each request; must not block (blocking work
// goes into Dispatch::work).
using RequestHandler = std::function<Dispatch(HttpRequest request)>;
// Told of each request the front answered itself (malformed, too large, too
// slow, over a connection limit), for metrics and logs.
using FrontErrorObserver =
    std::function<void(const HttpRequest& request, int status)>;

class HttpServer {
 public:
  // Create()
  //
  // InvalidArgument if the TLS certificate or key cannot be loaded.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(
      const FrontOptions& options, RequestHandler handler,
      FrontErrorObserver on_error);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Bind()
  //
  // Binds host:port exclusively (or adopts listen_fd) and returns the bound
  // port. Unavailable naming the address when it is taken.
  absl::StatusOr<int> Bind();

  // Run()
  //
  // Serves until Stop(): returns once every connection has ended (streams
  // end when their EventSource does; requests in flight are answered; idle
  // connections are closed). False if the server could not run.
  bool Run();

  // Stop()
  //
  // Stops accepting and ends idle connections; requests in flight finish
  // and are answered with Connection: close; new requests on open
  // connections get 503. Connections still open after `grace` are closed.
  void Stop(absl::Duration grace = absl::Seconds(10));

  // True once Run() accepts connections.
  bool IsRunning() const;

  bool tls() const;

  // Open connections (all kinds) and the most this process can hold.
  int connections() const;
  int connection_capacity() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_
