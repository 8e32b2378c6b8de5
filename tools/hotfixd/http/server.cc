// tools/hotfixd/http/server.cc

#include "http/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <utility>

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "http/thread_pool.h"

namespace hotfix {
namespace hotfixd {
namespace {

// cpp-httplib listens with a backlog of 5 (compiled into the library); the
// listening socket is a protected member, so a subclass can listen() again
// with a larger backlog (Linux updates it in place) or adopt an inherited one.
template <typename Base>
class Listener : public Base {
 public:
  using Base::Base;
  void SetBacklog(int backlog) { ::listen(this->svr_sock_, backlog); }
  void Adopt(int fd) { this->svr_sock_ = fd; }
};

constexpr int kBacklog = 4096;  // capped by net.core.somaxconn

// Writes of SSE pieces at most this large are coalesced into one send.
constexpr std::size_t kCoalesceLimit = 64 * 1024;

time_t Seconds(absl::Duration d) {
  return static_cast<time_t>(std::ceil(absl::ToDoubleSeconds(d)));
}

// cpp-httplib's default sets SO_REUSEPORT, which lets a second process bind
// the same port and take half the connections. SO_REUSEADDR alone only
// allows rebinding past TIME_WAIT.
void ExclusiveSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

HttpRequest ToRequest(const httplib::Request& req, bool tls) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  for (const auto& [k, v] : req.params) out.query.emplace_back(k, v);
  out.headers.reserve(req.headers.size());
  for (const auto& [k, v] : req.headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return static_cast<char>(std::tolower(c));
    });
    out.headers.emplace_back(std::move(name), v);
  }
  out.body = req.body;
  out.peer = req.remote_addr;
  out.tls = tls;
  return out;
}

void WriteReply(Reply reply, httplib::Response& res) {
  res.status = reply.status;
  for (auto& [k, v] : reply.headers) res.set_header(k, v);
  if (reply.events != nullptr) {
    std::shared_ptr<EventSource> events = std::move(reply.events);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        reply.content_type,
        [events](std::size_t /*offset*/, httplib::DataSink& sink) {
          std::vector<SharedText> pieces;
          if (!events->Next(&pieces)) {
            sink.done();  // the stream is over: end it cleanly
            return true;
          }
          std::string batch;
          for (const SharedText& p : pieces) {
            if (p->size() <= kCoalesceLimit &&
                batch.size() + p->size() <= kCoalesceLimit) {
              batch += *p;
              continue;
            }
            if (!batch.empty()) {
              if (!sink.write(batch.data(), batch.size())) return false;
              batch.clear();
            }
            if (p->size() <= kCoalesceLimit) {
              batch += *p;
            } else if (!sink.write(p->data(), p->size())) {
              return false;
            }
          }
          return batch.empty() || sink.write(batch.data(), batch.size());
        });
    return;
  }
  if (reply.body == nullptr) return;
  SharedText body = std::move(reply.body);
  // A sized provider writes straight from the shared buffer; cpp-httplib
  // never compresses it again.
  res.set_content_provider(
      body->size(), reply.content_type,
      [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        const std::size_t n = std::min<std::size_t>(length, 1 << 20);
        return sink.write(body->data() + offset, n);
      });
}

}  // namespace

HttpServer::~HttpServer() = default;

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(
    const FrontOptions& options, RequestHandler handler,
    FrontErrorObserver on_error) {
  std::unique_ptr<HttpServer> http(new HttpServer());
  http->options_ = options;
  if (!options.tls_cert.empty()) {
    auto server = std::make_unique<Listener<httplib::SSLServer>>(
        options.tls_cert.c_str(), options.tls_key.c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load the TLS certificate \"", options.tls_cert,
                       "\" or key \"", options.tls_key, "\""));
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
  const std::size_t threads = options.threads;
  s.new_task_queue = [threads] { return new ElasticThreadPool(threads); };
  s.set_socket_options(ExclusiveSocketOptions);
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(static_cast<std::size_t>(options.keep_alive_max));
  s.set_keep_alive_timeout(Seconds(options.keep_alive_timeout));
  s.set_read_timeout(Seconds(options.io_timeout), 0);
  s.set_write_timeout(Seconds(options.io_timeout), 0);
  s.set_payload_max_length(options.max_body_bytes);

  const bool tls = http->tls_;
  auto serve = [handler = std::move(handler), tls](const httplib::Request& req,
                                                   httplib::Response& res) {
    WriteReply(handler(ToRequest(req, tls)), res);
  };
  for (auto add : {&httplib::Server::Get, &httplib::Server::Post,
                   &httplib::Server::Put, &httplib::Server::Patch,
                   &httplib::Server::Delete, &httplib::Server::Options}) {
    (s.*add)(".*", serve);
  }
  // Requests cpp-httplib answers itself (body over the limit, malformed).
  const std::size_t max_body = options.max_body_bytes;
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [on_error, max_body, tls](const httplib::Request& req,
                                httplib::Response& res) {
        if (!res.body.empty() || res.content_provider_) {
          return httplib::Server::HandlerResponse::Handled;  // ours
        }
        std::string message;
        const std::string type = req.get_header_value("Content-Type");
        switch (res.status) {
          case 413:
            if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
              message =
                  "Content-Type: application/x-www-form-urlencoded bodies are "
                  "limited to 8192 bytes by this server; send JSON with "
                  "Content-Type: application/json";
            } else {
              message = absl::StrCat("request body exceeds ", max_body,
                                     " bytes (--max-body-bytes)");
            }
            break;
          case 414:
            message = "request URI too long";
            break;
          default:
            message = absl::StrCat("malformed request (HTTP ", res.status, ")");
        }
        Reply reply = Reply::Error(res.status,
                                   res.status == 413 || res.status == 414
                                       ? "RESOURCE_EXHAUSTED"
                                       : "INVALID_ARGUMENT",
                                   message);
        const int status = res.status;
        WriteReply(std::move(reply), res);
        if (on_error) on_error(ToRequest(req, tls), status);
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler([](const httplib::Request& req,
                             httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "hotfixd: error: %s %s: %s\n",
                 tools::SanitizeForLog(req.method).c_str(),
                 tools::SanitizeForLog(req.path).c_str(),
                 tools::SanitizeForLog(what).c_str());
    WriteReply(
        Reply::Error(500, "INTERNAL", "internal error; see the server log"),
        res);
  });
  return http;
}

absl::StatusOr<int> HttpServer::Bind() {
  if (options_.listen_fd >= 0) return AdoptListeningSocket(options_.listen_fd);
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    if (port < 0) port = 0;
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = 0;
  }
  if (port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port,
                     " (address in use by another process, or not a local "
                     "address)"));
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
    return absl::InvalidArgumentError(
        absl::StrCat("--listen-fd ", fd, ": not a listening TCP socket"));
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

bool HttpServer::IsRunning() const { return server_->is_running(); }

}  // namespace hotfixd
}  // namespace hotfix
