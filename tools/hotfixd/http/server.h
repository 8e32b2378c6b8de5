// tools/hotfixd/http/server.h
//
// HttpServer is hotfixd's HTTP front: it owns the listening socket (bound
// exclusively, or inherited with --listen-fd), reads requests, hands each to
// the RequestHandler as an HttpRequest, and writes the Reply (streaming
// replies until their EventSource ends). It knows nothing of hotfixd's
// resources; everything above HTTP is the handler's.
//
// This front is cpp-httplib (HTTPS with a certificate and key) with an
// elastic thread pool large enough for `threads` connections, TCP_NODELAY (SSE
// events leave at once), a listen backlog raised from cpp-httplib's 5, long
// keep-alive, and the body size limit.
//
// Thread-safe: Stop() may be called from any thread while Run() runs; the
// handler is called concurrently.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/reply.h"
#include "http/request.h"

namespace httplib {
class Server;
}

namespace hotfix {
namespace hotfixd {

struct FrontOptions {
  std::string host = "127.0.0.1";
  int port = 8420;       // 0: any free port
  int listen_fd = -1;    // >= 0: serve this inherited listening socket
  std::string tls_cert;  // both set: HTTPS only
  std::string tls_key;
  std::size_t max_body_bytes = std::size_t{16} << 20;
  std::size_t threads = 2176;  // concurrent connections served
  int keep_alive_max = 10000;
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  absl::Duration io_timeout = absl::Seconds(10);
};

// Answers one request. Called concurrently from the front's threads.
using RequestHandler = std::function<Reply(const HttpRequest& request)>;
// Told of each request the front answered itself (malformed, too large), for
// metrics and logs.
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

  // Bind()
  //
  // Binds host:port exclusively (or adopts listen_fd) and returns the bound
  // port. Unavailable naming the address when it is taken.
  absl::StatusOr<int> Bind();

  // Run()
  //
  // Accepts connections until Stop(); returns once every connection has
  // finished. False if accepting failed.
  bool Run();

  // Stops accepting; Run() returns when open connections end (streams end
  // when their EventSource does; idle keep-alive connections within
  // keep_alive_timeout).
  void Stop();

  // True once Run() accepts connections.
  bool IsRunning() const;

  bool tls() const { return tls_; }

 private:
  HttpServer() = default;
  absl::StatusOr<int> AdoptListeningSocket(int fd);

  FrontOptions options_;
  bool tls_ = false;
  std::unique_ptr<httplib::Server> server_;
  std::function<void(int)> set_backlog_;
  std::function<void(int)> adopt_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_
