// tools/hotfixd/http_server.cc

#include "http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "admin_api.h"
#include "sdk_api.h"
#include "thread_pool.h"

namespace hotfix {
namespace hotfixd {
namespace {

// cpp-httplib listens with a backlog of 5 (compiled into the library); the
// listening socket is a protected member, so a subclass can listen() again
// with a larger backlog (Linux updates it in place).
template <typename Base>
class Listener : public Base {
 public:
  using Base::Base;
  void SetBacklog(int backlog) { ::listen(this->svr_sock_, backlog); }
  void Adopt(int fd) { this->svr_sock_ = fd; }
};

constexpr int kBacklog = 4096;  // capped by net.core.somaxconn

time_t Seconds(absl::Duration d) {
  return static_cast<time_t>(std::ceil(absl::ToDoubleSeconds(d)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(
    ApiContext* api) {
  const ServerConfig& config = *api->config;
  std::unique_ptr<HttpServer> http(new HttpServer());
  http->api_ = api;
  if (!config.tls_cert.empty()) {
    auto server = std::make_unique<Listener<httplib::SSLServer>>(
        config.tls_cert.c_str(), config.tls_key.c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load the TLS certificate \"", config.tls_cert,
                       "\" or key \"", config.tls_key, "\""));
    }
    auto* raw = server.get();
    http->set_backlog_ = [raw](int n) { raw->SetBacklog(n); };
    http->adopt_ = [raw](int fd) { raw->Adopt(fd); };
    http->server_ = std::move(server);
    http->tls_ = true;
  } else {
    auto server = std::make_unique<Listener<httplib::Server>>();
    auto* raw = server.get();
    http->set_backlog_ = [raw](int n) { raw->SetBacklog(n); };
    http->adopt_ = [raw](int fd) { raw->Adopt(fd); };
    http->server_ = std::move(server);
  }
  httplib::Server& s = *http->server_;
  const std::size_t threads = static_cast<std::size_t>(config.max_streams) +
                              static_cast<std::size_t>(config.workers);
  s.new_task_queue = [threads] { return new ElasticThreadPool(threads); };
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(static_cast<std::size_t>(config.keep_alive_max));
  s.set_keep_alive_timeout(Seconds(config.keep_alive_timeout));
  s.set_read_timeout(Seconds(config.io_timeout), 0);
  s.set_write_timeout(Seconds(config.io_timeout), 0);
  s.set_payload_max_length(config.max_body_bytes);
  InstallErrorHandlers(s, api);
  RegisterSdkApi(s, api);
  RegisterAdminApi(s, api);
  return http;
}

absl::StatusOr<int> HttpServer::Bind() {
  const ServerConfig& config = *api_->config;
  if (config.listen_fd >= 0) return AdoptListeningSocket(config.listen_fd);
  int port = config.port;
  if (port == 0) {
    port = server_->bind_to_any_port(config.host);
    if (port < 0) port = 0;
  } else if (!server_->bind_to_port(config.host, port)) {
    port = 0;
  }
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.host, ":", config.port,
                     " (address in use, or not a local address?)"));
  }
  set_backlog_(kBacklog);
  return port;
}

absl::StatusOr<int> HttpServer::AdoptListeningSocket(int fd) {
  int listening = 0;
  socklen_t len = sizeof(listening);
  sockaddr_storage addr{};
  socklen_t addr_len = sizeof(addr);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
      listening == 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
      (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen-fd ", fd, ": not a listening TCP socket"));
  }
  const int port =
      addr.ss_family == AF_INET
          ? ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port)
          : ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  adopt_(fd);
  set_backlog_(kBacklog);
  return port;
}

bool HttpServer::Run() { return server_->listen_after_bind(); }

void HttpServer::Stop() { server_->stop(); }

}  // namespace hotfixd
}  // namespace hotfix
