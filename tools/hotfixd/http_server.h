// tools/hotfixd/http_server.h
//
// HttpServer is the listening socket and cpp-httplib server (HTTPS with
// --tls-cert/--tls-key) configured for hotfixd's load: TCP_NODELAY (SSE
// events leave at once), an elastic thread pool large enough for
// --max-streams streams plus --workers other connections, a listen backlog
// raised from cpp-httplib's 5 so a thousand SDKs reconnecting at once are
// not refused, long keep-alive, the body size limit, and every route.
//
// Thread-safe: Stop() may be called from any thread while Run() runs.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_

#include <functional>
#include <memory>

#include <httplib.h>

#include "absl/status/statusor.h"
#include "http_util.h"

namespace hotfix {
namespace hotfixd {

class HttpServer {
 public:
  // Create()
  //
  // Builds the server and registers the routes. InvalidArgument if the TLS
  // certificate or key cannot be loaded.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(ApiContext* api);

  // Bind()
  //
  // Binds --host:--port (or adopts --listen-fd) and returns the bound port
  // (useful with --port 0).
  absl::StatusOr<int> Bind();

  // Run()
  //
  // Accepts connections until Stop(); returns once every connection has
  // finished. False if accepting failed.
  bool Run();

  // Stops accepting; Run() returns when open connections end (streams end
  // when the SseHub shuts down; idle keep-alive connections within
  // --keep-alive-timeout).
  void Stop();

  // True once Run() accepts connections.
  bool IsRunning() const { return server_->is_running(); }

  bool tls() const { return tls_; }

 private:
  HttpServer() = default;

  absl::StatusOr<int> AdoptListeningSocket(int fd);

  ApiContext* api_ = nullptr;
  bool tls_ = false;
  std::unique_ptr<httplib::Server> server_;
  std::function<void(int)> set_backlog_;
  std::function<void(int)> adopt_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_SERVER_H_
