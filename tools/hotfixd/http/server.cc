// tools/hotfixd/http/server.cc
//
// The event-driven front (server.h). Structure:
//
//  * Impl owns the listening socket, `io_threads` event loops (one
//    io_context and thread each) and the worker pool. Loop 0 accepts, greedily
//    (a burst of thousands of reconnects must not overflow the kernel's accept
//    queue), checks the connection caps and hands each socket to the next
//    loop round-robin.
//  * Connection<Stream> (plain TCP or TLS) is one client, driven entirely by
//    its loop's thread: wait for a request (keep-alive timeout), read the
//    header block (deadline from its first byte, byte and count limits), read
//    the body (deadline for the whole request, body limit enforced by the
//    parser as bytes arrive, chunked or not), dispatch, write the reply
//    (write timeout), and either wait for the next request or turn into a
//    stream. A stream polls its EventSource when woken, frames the events as
//    HTTP chunks, bounds what the client has not taken, and keeps one read
//    open to notice the client leaving.
//  * Wake-ups of streams come from other threads (the hub); each loop keeps a
//    ready list, so a change to 10,000 streams costs 10,000 list appends and
//    a post per loop per 256 streams, not 10,000 posts; what else the loop
//    has to do (an admin write's reply) goes between two batches.
//
// Beast and Asio stay inside this file: it is the only translation unit that
// pays their compile time.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include "http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/text.h"
#include "http/worker_pool.h"

namespace hotfix {
namespace hotfixd {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr int kBacklog = 4096;       // capped by net.core.somaxconn
constexpr int kGreedyAccepts = 256;  // accepts per wake-up of the acceptor
constexpr int kDrainBatch = 256;     // woken streams pumped per loop turn
constexpr std::size_t kStreamReadLimit =
    4096;  // a stream client sends ~nothing
constexpr std::size_t kLingerBytes = 64 << 10;  // read after an error reply
constexpr auto kLinger = std::chrono::seconds(2);

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return std::chrono::microseconds(absl::ToInt64Microseconds(d));
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
}

// Beast's request parser, building an HttpRequest directly (lower-case
// header names, decoded path and query), with the header-count limit Beast
// lacks. A parser serves one request.
class RequestParser : public bhttp::basic_parser<true> {
 public:
  RequestParser(const FrontOptions& options, HttpRequest* out)
      : out_(out), max_fields_(options.max_header_count) {
    header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    body_limit(options.max_body_bytes);
  }

  int version() const { return version_; }
  // The problem with the request target, if that is what failed.
  const std::string& target_problem() const { return target_problem_; }
  bool too_many_fields() const { return too_many_fields_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method,
                       beast::string_view target, int version,
                       error_code& ec) override {
    out_->method.assign(method.data(), method.size());
    version_ = version;
    std::string_view t(target.data(), target.size());
    // Absolute form ("http://host/path"): keep the path.
    if (t.rfind("http://", 0) == 0 || t.rfind("https://", 0) == 0) {
      const std::size_t slash = t.find('/', t.find("//") + 2);
      t = slash == std::string_view::npos ? std::string_view("/")
                                          : t.substr(slash);
    }
    if (t.empty() || t[0] != '/') {
      target_problem_ = "the request target must be a path";
      ec = bhttp::error::bad_target;
      return;
    }
    const std::size_t q = t.find('?');
    if (!PercentDecode(t.substr(0, q), /*plus_is_space=*/false, &out_->path)) {
      target_problem_ = "malformed percent-encoding in the path";
      ec = bhttp::error::bad_target;
      return;
    }
    if (q != std::string_view::npos &&
        !ParseQuery(t.substr(q + 1), &out_->query)) {
      target_problem_ = "malformed percent-encoding in the query";
      ec = bhttp::error::bad_target;
    }
  }

  void on_response_impl(int, beast::string_view, int, error_code&) override {}

  void on_field_impl(bhttp::field, beast::string_view name,
                     beast::string_view value, error_code& ec) override {
    if (++fields_ > max_fields_) {
      too_many_fields_ = true;
      ec = bhttp::error::header_limit;
      return;
    }
    std::string lower(name.data(), name.size());
    absl::AsciiStrToLower(&lower);
    out_->headers.emplace_back(std::move(lower),
                               std::string(value.data(), value.size()));
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         error_code&) override {
    // Grows with the bytes that arrive, never with what a client declares.
    if (length.has_value()) {
      out_->body.reserve(
          static_cast<std::size_t>(std::min<std::uint64_t>(*length, 64 << 10)));
    }
  }

  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    out_->body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view,
                            error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 error_code&) override {
    out_->body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  HttpRequest* const out_;
  const int max_fields_;
  int fields_ = 0;
  int version_ = 11;
  bool too_many_fields_ = false;
  std::string target_problem_;
};

class Connection;

// One event loop: an io_context run by one thread, the connections it owns,
// the cached Date header, and the ready list of woken streams.
struct Loop {
  net::io_context io{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
  std::thread thread;
  // Live connections, touched only on this loop's thread.
  std::unordered_set<Connection*> live;
  // "Date: ...\r\n", refreshed once a second.
  std::string date_line;
  std::int64_t date_second = -1;
  // Streams woken from other threads, drained on this loop.
  std::mutex ready_mu;
  std::vector<std::weak_ptr<Connection>> ready;  // guarded by ready_mu
  bool drain_posted = false;                     // guarded by ready_mu
  // Taken from `ready`, not pumped yet; touched only on this loop's thread.
  std::deque<std::weak_ptr<Connection>> draining;

  const std::string& DateLine() {
    const absl::Time now = absl::Now();
    const std::int64_t second = absl::ToUnixSeconds(now);
    if (second != date_second) {
      date_second = second;
      date_line = absl::StrCat("Date: ",
                               absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                                now, absl::UTCTimeZone()),
                               "\r\n");
    }
    return date_line;
  }
};

}  // namespace

// ----------------------------------------------------------------- Impl

class HttpServer::Impl {
 public:
  Impl(const FrontOptions& options, RequestHandler handler,
       FrontErrorObserver on_error)
      : options_(options),
        handler_(std::move(handler)),
        on_error_(std::move(on_error)) {
    const int loops = std::max(1, options.io_threads);
    for (int i = 0; i < loops; ++i) loops_.push_back(std::make_unique<Loop>());
    workers_ = std::make_unique<WorkerPool>(
        static_cast<std::size_t>(std::max(1, options.worker_threads)),
        options.max_queued_work);
    rlimit limit{};
    capacity_ = options.max_connections;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY) {
      capacity_ = std::min<long long>(
          capacity_, static_cast<long long>(limit.rlim_cur) - 64);
    }
  }

  ~Impl() { destroying_.store(true); }

  absl::Status LoadTls() {
    if (options_.tls_cert.empty()) return absl::OkStatus();
    ssl_ = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    error_code ec;
    ssl_->set_options(
        net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
            net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
            net::ssl::context::no_tlsv1_1,
        ec);
    ssl_->use_certificate_chain_file(options_.tls_cert, ec);
    if (!ec)
      ssl_->use_private_key_file(options_.tls_key, net::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load the TLS certificate \"", options_.tls_cert,
                       "\" or key \"", options_.tls_key, "\": ", ec.message()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> Bind();
  bool Run();
  void Stop(absl::Duration grace);

  const FrontOptions& options() const { return options_; }
  bool tls() const { return ssl_ != nullptr; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  bool running() const { return running_.load(std::memory_order_acquire); }
  int connections() const {
    return connections_.load(std::memory_order_relaxed);
  }
  int capacity() const { return static_cast<int>(capacity_); }

  Dispatch Handle(HttpRequest request) { return handler_(std::move(request)); }
  void ObserveError(const HttpRequest& request, int status) {
    if (on_error_) on_error_(request, status);
  }
  WorkerPool& workers() { return *workers_; }

  // A connection ended (called on its loop).
  void Release(const std::string& peer);

 private:
  void Accept();
  void OnAccepted(Loop& loop, tcp::socket socket);
  void RejectAtAccept(tcp::socket& socket, std::string_view message);
  Loop& NextLoop() { return *loops_[next_loop_++ % loops_.size()]; }

  const FrontOptions options_;
  const RequestHandler handler_;
  const FrontErrorObserver on_error_;
  std::unique_ptr<net::ssl::context> ssl_;  // outlives every TLS stream
  long long capacity_ = 0;
  std::atomic<int> connections_{0};
  std::mutex address_mu_;
  absl::flat_hash_map<std::string, int> per_address_;  // guarded by address_mu_
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> destroying_{false};
  // Destroyed in reverse: workers first (their jobs post into the loops),
  // then what lives on loop 0, then the loops (and the connections left in
  // them, which still count themselves out above).
  std::vector<std::unique_ptr<Loop>> loops_;
  std::size_t next_loop_ = 0;  // loop 0's thread only
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<net::steady_timer> grace_timer_;
  std::unique_ptr<WorkerPool> workers_;
};

namespace {

// ----------------------------------------------------------- Connection
//
// One client connection, plain or TLS (stream_ is one of the two). All
// members are touched only on the owning loop's thread, except wake_pending_.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  Connection(HttpServer::Impl& server, Loop& loop, tcp::socket socket,
             std::string peer, net::ssl::context* ssl)
      : server_(server), loop_(loop), peer_(std::move(peer)) {
    if (ssl != nullptr) {
      tls_ = std::make_unique<TlsStream>(std::move(socket), *ssl);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(std::move(socket));
    }
  }

  ~Connection() { server_.Release(peer_); }

  void Start() {
    loop_.live.insert(this);
    if (tls_ != nullptr) {
      Tcp().expires_after(Chrono(server_.options().header_timeout));
      tls_->async_handshake(net::ssl::stream_base::server,
                            [self = shared_from_this()](error_code ec) {
                              if (ec) return self->Close();
                              self->WaitForRequest();
                            });
    } else {
      WaitForRequest();
    }
  }

  // Stop(): end the connection now if it waits for a request; otherwise it
  // closes after the reply in flight (or when its stream ends).
  void StopIdle() {
    if (state_ == State::kIdle) Close();
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    loop_.live.erase(this);
    error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
    events_.reset();
  }

  // From any thread: a stream has something new.
  void Wake() {
    if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(loop_.ready_mu);
      loop_.ready.push_back(weak_from_this());
      if (!loop_.drain_posted) loop_.drain_posted = post = true;
    }
    if (post) net::post(loop_.io, [loop = &loop_] { DrainReady(*loop); });
  }

  // Pumps the woken streams kDrainBatch at a time, posting itself again for
  // the rest, so that what was queued on the loop meanwhile (an admin
  // write's reply, a /healthz) waits for one batch, not for the whole
  // fan-out of a change to 10,000 streams.
  static void DrainReady(Loop& loop) {
    {
      std::lock_guard<std::mutex> lock(loop.ready_mu);
      for (auto& weak : loop.ready) loop.draining.push_back(std::move(weak));
      loop.ready.clear();
      loop.drain_posted = false;
    }
    for (int n = 0; n < kDrainBatch && !loop.draining.empty(); ++n) {
      std::weak_ptr<Connection> weak = std::move(loop.draining.front());
      loop.draining.pop_front();
      if (auto c = weak.lock()) {
        c->wake_pending_.store(false, std::memory_order_release);
        c->PumpEvents();
      }
    }
    if (loop.draining.empty()) return;
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(loop.ready_mu);
      if (!loop.drain_posted) loop.drain_posted = post = true;
    }
    if (post) net::post(loop.io, [l = &loop] { DrainReady(*l); });
  }

 private:
  enum class State { kIdle, kReading, kBusy, kWriting, kStreaming, kClosed };

  beast::tcp_stream& Tcp() {
    return tls_ != nullptr ? beast::get_lowest_layer(*tls_) : *plain_;
  }

  template <typename Buffers, typename Handler>
  void AsyncWrite(const Buffers& buffers, Handler&& handler) {
    if (tls_ != nullptr) {
      net::async_write(*tls_, buffers, std::forward<Handler>(handler));
    } else {
      net::async_write(*plain_, buffers, std::forward<Handler>(handler));
    }
  }

  // Waits (keep-alive timeout) for the first byte of the next request unless
  // bytes of it are already buffered.
  void WaitForRequest() {
    if (state_ == State::kClosed) return;
    if (server_.stopping() && requests_ > 0) return Close();
    state_ = State::kIdle;
    request_ = HttpRequest();
    request_.peer = peer_;
    request_.tls = tls_ != nullptr;
    parser_.emplace(server_.options(), &request_);
    if (buffer_.size() > 0) return ReadHeader();
    Tcp().expires_after(Chrono(requests_ == 0
                                   ? server_.options().header_timeout
                                   : server_.options().keep_alive_timeout));
    auto on_data = [self = shared_from_this()](error_code ec, std::size_t n) {
      if (ec || n == 0) return self->Close();  // idle timeout, or gone
      self->buffer_.commit(n);
      self->ReadHeader();
    };
    auto space = buffer_.prepare(512);
    if (tls_ != nullptr) {
      tls_->async_read_some(space, std::move(on_data));
    } else {
      plain_->async_read_some(space, std::move(on_data));
    }
  }

  void ReadHeader() {
    state_ = State::kReading;
    request_start_ = std::chrono::steady_clock::now();
    Tcp().expires_at(request_start_ + Chrono(server_.options().header_timeout));
    auto done = [self = shared_from_this()](error_code ec, std::size_t) {
      self->OnHeader(ec);
    };
    if (tls_ != nullptr) {
      bhttp::async_read_header(*tls_, buffer_, *parser_, std::move(done));
    } else {
      bhttp::async_read_header(*plain_, buffer_, *parser_, std::move(done));
    }
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    ++requests_;
    if (parser_->is_done()) return Dispatch();
    // A body follows: answer Expect: 100-continue, then read it within the
    // request deadline.
    if (const std::string* expect = request_.FindHeader("expect");
        expect != nullptr && EqualsIgnoreCase(*expect, "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      Tcp().expires_after(Chrono(server_.options().write_timeout));
      AsyncWrite(net::buffer(kContinue),
                 [self = shared_from_this()](error_code ec, std::size_t) {
                   if (ec) return self->Close();
                   self->ReadBody();
                 });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Tcp().expires_at(request_start_ +
                     Chrono(server_.options().request_timeout));
    auto done = [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->OnReadError(ec);
      self->Dispatch();
    };
    if (tls_ != nullptr) {
      bhttp::async_read(*tls_, buffer_, *parser_, std::move(done));
    } else {
      bhttp::async_read(*plain_, buffer_, *parser_, std::move(done));
    }
  }

  void OnReadError(error_code ec) {
    if (ec == beast::error::timeout) {
      // The socket is closed already; nothing can be answered.
      server_.ObserveError(request_, 408);
      return Close();
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset ||
        ec == net::ssl::error::stream_truncated ||
        ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec == bhttp::error::header_limit ||
        ec == bhttp::error::buffer_overflow) {
      return SendErrorAndClose(
          431, "RESOURCE_EXHAUSTED",
          parser_->too_many_fields()
              ? absl::StrCat("more than ", server_.options().max_header_count,
                             " header fields")
              : absl::StrCat("request line and headers exceed ",
                             server_.options().max_header_bytes, " bytes"));
    }
    if (ec == bhttp::error::body_limit) {
      return SendErrorAndClose(413, "RESOURCE_EXHAUSTED",
                               absl::StrCat("request body exceeds ",
                                            server_.options().max_body_bytes,
                                            " bytes (--max-body-bytes)"));
    }
    if (ec == bhttp::error::bad_target && !parser_->target_problem().empty()) {
      return SendErrorAndClose(400, "INVALID_ARGUMENT",
                               parser_->target_problem());
    }
    SendErrorAndClose(400, "INVALID_ARGUMENT",
                      absl::StrCat("malformed HTTP request: ", ec.message()));
  }

  void Dispatch() {
    state_ = State::kBusy;
    keep_alive_ =
        parser_->keep_alive() && requests_ < server_.options().keep_alive_max;
    version_ = parser_->version();
    head_request_ = request_.method == "HEAD";
    if (server_.stopping()) {
      keep_alive_ = false;
      return Send(
          Reply::Error(503, "UNAVAILABLE", "the server is shutting down")
              .SetHeader("Retry-After", "1"));
    }
    // The request's bytes are all in request_ now; the parser is spent.
    parser_.reset();
    hotfixd::Dispatch d = server_.Handle(std::move(request_));
    if (d.reply.has_value()) return Send(std::move(*d.reply));
    const bool queued = server_.workers().TrySubmit(
        [self = shared_from_this(), work = std::move(d.work)]() mutable {
          Reply reply;
          try {
            reply = work();
          } catch (...) {
            reply = Reply::Error(500, "INTERNAL",
                                 "internal error; see the server log");
          }
          // Hand the connection back to its loop; the worker keeps no
          // reference, so the connection always ends on its own thread.
          net::io_context& io = self->loop_.io;
          net::post(
              io, [self = std::move(self), reply = std::move(reply)]() mutable {
                self->Send(std::move(reply));
              });
        });
    if (!queued) {
      Send(Reply::Error(503, "UNAVAILABLE",
                        "too many requests waiting for a worker; retry later")
               .SetHeader("Retry-After", "1"));
    }
  }

  std::string Head(const Reply& reply, std::size_t body_size, bool chunked) {
    std::string head;
    head.reserve(256);
    absl::StrAppend(&head, "HTTP/1.1 ", reply.status, " ",
                    std::string(ReasonPhrase(reply.status)), "\r\n",
                    loop_.DateLine());
    if (!reply.content_type.empty()) {
      absl::StrAppend(&head, "Content-Type: ", reply.content_type, "\r\n");
    }
    for (const auto& [k, v] : reply.headers) {
      absl::StrAppend(&head, k, ": ", v, "\r\n");
    }
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\n";
    } else if (reply.status != 304 && reply.status != 204 &&
               reply.status >= 200) {
      absl::StrAppend(&head, "Content-Length: ", body_size, "\r\n");
    }
    if (!keep_alive_) {
      head += "Connection: close\r\n";
    } else if (!chunked) {
      // How long the connection stays open idle: clients that honour it
      // stop reusing it before this end closes it.
      absl::StrAppend(
          &head, "Keep-Alive: timeout=",
          std::max<int64_t>(
              1, absl::ToInt64Seconds(server_.options().keep_alive_timeout)),
          "\r\n");
    }
    head += "\r\n";
    return head;
  }

  void Send(Reply reply) {
    if (state_ == State::kClosed) return;
    state_ = State::kWriting;
    const bool stream = reply.events != nullptr;
    if (stream) {
      events_ = std::move(reply.events);
      // HTTP/1.0 has no chunked encoding: the stream ends with the
      // connection.
      chunked_ = version_ >= 11;
      keep_alive_ = keep_alive_ && chunked_;
    }
    SharedText body = std::move(reply.body);
    const std::size_t size = body != nullptr ? body->size() : 0;
    head_ = Head(reply, size, stream && chunked_);
    std::vector<net::const_buffer> buffers{net::buffer(head_)};
    if (body != nullptr && !head_request_ && !stream) {
      buffers.push_back(net::buffer(*body));
    }
    Tcp().expires_after(Chrono(server_.options().write_timeout));
    AsyncWrite(buffers, [self = shared_from_this(), body, stream](error_code ec,
                                                                  std::size_t) {
      if (ec) return self->Close();
      if (stream) return self->StartStream();
      if (!self->keep_alive_) return self->CloseGracefully();
      self->WaitForRequest();
    });
  }

  // ------------------------------------------------------------ streams

  void StartStream() {
    state_ = State::kStreaming;
    Tcp().expires_never();
    buffer_.consume(buffer_.size());
    buffer_.shrink_to_fit();
    // Bound what the kernel holds for a client that stops reading, so the
    // backlog limit below bounds the whole.
    const int sndbuf = static_cast<int>(std::max<std::size_t>(
        16 << 10, server_.options().max_stream_backlog / 4));
    setsockopt(Tcp().socket().native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf,
               sizeof(sndbuf));
    std::weak_ptr<Connection> weak = weak_from_this();
    events_->Start([weak] {
      if (auto c = weak.lock()) c->Wake();
    });
    ReadWhileStreaming();
    PumpEvents();
  }

  // Keeps one read open: a client that leaves (EOF, reset) ends the stream
  // at once; one that sends more than a few bytes is closed.
  void ReadWhileStreaming() {
    auto space = net::buffer(stream_read_buf_);
    stream_read_pending_ = true;
    auto done = [self = shared_from_this()](error_code ec, std::size_t n) {
      self->stream_read_pending_ = false;
      if (self->state_ == State::kClosed) return;
      if (self->state_ != State::kStreaming) {
        // The stream ended while this read was open, and Linger() cancelled
        // it (a stream takes one read at a time): linger now.
        if ((ec && ec != net::error::operation_aborted) || (!ec && n == 0)) {
          return self->Close();
        }
        self->linger_bytes_ += n;
        return self->Linger();
      }
      self->stream_read_bytes_ += n;
      if (ec || self->stream_read_bytes_ > kStreamReadLimit)
        return self->Close();
      self->ReadWhileStreaming();
    };
    if (tls_ != nullptr) {
      tls_->async_read_some(space, std::move(done));
    } else {
      plain_->async_read_some(space, std::move(done));
    }
  }

  void PumpEvents() {
    if (state_ != State::kStreaming || events_ == nullptr || ending_) return;
    std::vector<SharedText> pieces;
    const bool alive = events_->Poll(&pieces);
    std::size_t total = 0;
    for (const SharedText& p : pieces) total += p->size();
    if (total > 0) {
      if (chunked_) {
        Queue(tools::MakeShared(absl::StrCat(absl::Hex(total), "\r\n")));
      }
      for (SharedText& p : pieces) Queue(std::move(p));
      if (chunked_) Queue(CrLf());
    }
    if (!alive) {
      ending_ = true;
      if (chunked_) Queue(LastChunk());
    }
    if (queued_bytes_ > server_.options().max_stream_backlog) {
      // The client takes less than it is sent: drop it; it resumes later
      // with Last-Event-ID.
      return Close();
    }
    WriteQueued();
  }

  static SharedText CrLf() {
    static const SharedText kCrLf = tools::MakeShared("\r\n");
    return kCrLf;
  }
  static SharedText LastChunk() {
    static const SharedText kLast = tools::MakeShared("0\r\n\r\n");
    return kLast;
  }

  void Queue(SharedText piece) {
    queued_bytes_ += piece->size();
    queue_.push_back(std::move(piece));
  }

  void WriteQueued() {
    if (writing_ || state_ == State::kClosed) return;
    if (queue_.empty()) {
      if (ending_) CloseGracefully();
      return;
    }
    writing_ = true;
    std::vector<net::const_buffer> buffers;
    std::vector<SharedText> batch(queue_.begin(), queue_.end());
    queue_.clear();
    buffers.reserve(batch.size());
    for (const SharedText& p : batch) buffers.push_back(net::buffer(*p));
    Tcp().expires_after(Chrono(server_.options().write_timeout));
    AsyncWrite(buffers, [self = shared_from_this(), batch = std::move(batch)](
                            error_code ec, std::size_t n) {
      self->writing_ = false;
      self->queued_bytes_ -= std::min(self->queued_bytes_, n);
      if (ec) return self->Close();
      if (self->state_ != State::kStreaming) return;
      self->Tcp().expires_never();
      self->WriteQueued();
    });
  }

  // ------------------------------------------------------------ closing

  void SendErrorAndClose(int status, std::string_view code,
                         const std::string& message) {
    server_.ObserveError(request_, status);
    keep_alive_ = false;
    state_ = State::kWriting;
    head_request_ = false;
    Reply reply = Reply::Error(status, code, message);
    error_body_ = reply.body;
    head_ = Head(reply, error_body_->size(), false);
    std::vector<net::const_buffer> buffers{net::buffer(head_),
                                           net::buffer(*error_body_)};
    Tcp().expires_after(Chrono(server_.options().write_timeout));
    AsyncWrite(buffers,
               [self = shared_from_this()](error_code ec, std::size_t) {
                 if (ec) return self->Close();
                 self->CloseGracefully();
               });
  }

  // Half-closes, then reads and discards for a moment, so that a client
  // still sending (a refused body) reads our answer instead of a reset.
  void CloseGracefully() {
    if (state_ == State::kClosed) return;
    state_ = State::kWriting;
    error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    Linger();
  }

  void Linger() {
    if (stream_read_pending_) {
      // One read at a time: the stream's read ends (operation_aborted) and
      // its handler comes back here.
      error_code ec;
      Tcp().socket().cancel(ec);
      if (ec) Close();
      return;
    }
    Tcp().expires_after(kLinger);
    auto done = [self = shared_from_this()](error_code ec, std::size_t n) {
      self->linger_bytes_ += n;
      if (ec || n == 0 || self->linger_bytes_ > kLingerBytes)
        return self->Close();
      self->Linger();
    };
    Tcp().async_read_some(net::buffer(stream_read_buf_), std::move(done));
  }

  HttpServer::Impl& server_;
  Loop& loop_;
  const std::string peer_;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<TlsStream> tls_;
  State state_ = State::kIdle;
  beast::flat_buffer buffer_;
  HttpRequest request_;
  std::optional<RequestParser> parser_;
  std::chrono::steady_clock::time_point request_start_;
  int requests_ = 0;
  int version_ = 11;
  bool keep_alive_ = true;
  bool head_request_ = false;
  std::string head_;
  SharedText error_body_;
  // Streams.
  std::shared_ptr<EventSource> events_;
  std::deque<SharedText> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  // A ReadWhileStreaming() read is open (Linger() must not start another).
  bool stream_read_pending_ = false;
  bool chunked_ = true;
  bool ending_ = false;
  std::atomic<bool> wake_pending_{false};
  char stream_read_buf_[512];
  std::size_t stream_read_bytes_ = 0;
  std::size_t linger_bytes_ = 0;
};

}  // namespace

// ----------------------------------------------------------- Impl methods

absl::StatusOr<int> HttpServer::Impl::Bind() {
  Loop& loop = *loops_[0];
  acceptor_ = std::make_unique<tcp::acceptor>(loop.io);
  error_code ec;
  if (options_.listen_fd >= 0) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    const int fd = options_.listen_fd;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 ||
        listening == 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
        (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen-fd ", fd, ": not a listening TCP socket"));
    }
    acceptor_->assign(addr.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd,
                      ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("--listen-fd ", fd, ": ", ec.message()));
    }
    ::listen(fd, kBacklog);  // raise the backlog if the owner used less
  } else {
    const net::ip::address address = net::ip::make_address(options_.host, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("--host ", options_.host, ": not an IP address"));
    }
    const tcp::endpoint endpoint(address,
                                 static_cast<unsigned short>(options_.port));
    acceptor_->open(endpoint.protocol(), ec);
    // SO_REUSEADDR only: rebinding past TIME_WAIT. Never SO_REUSEPORT, which
    // would let a second process share the port.
    if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(kBacklog, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options_.host, ":", options_.port, ": ",
          ec.message(),
          ec == net::error::address_in_use ? " (another process holds it)"
                                           : ""));
    }
  }
  acceptor_->non_blocking(true, ec);
  return static_cast<int>(acceptor_->local_endpoint(ec).port());
}

bool HttpServer::Impl::Run() {
  if (acceptor_ == nullptr) return false;
  for (auto& loop : loops_) loop->guard.emplace(loop->io.get_executor());
  running_.store(true, std::memory_order_release);
  net::post(loops_[0]->io, [this] { Accept(); });
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    loops_[i]->thread =
        std::thread([loop = loops_[i].get()] { loop->io.run(); });
  }
  loops_[0]->io.run();
  for (std::size_t i = 1; i < loops_.size(); ++i) loops_[i]->thread.join();
  running_.store(false, std::memory_order_release);
  return true;
}

void HttpServer::Impl::Accept() {
  if (stopping()) return;
  Loop& target = NextLoop();
  acceptor_->async_accept(
      target.io, [this, &target](error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || stopping()) return;
        if (!ec) OnAccepted(target, std::move(socket));
        // Drain what else is waiting, without a round trip through the loop
        // for each: a reconnect storm must not overflow the accept queue.
        for (int i = 0; i < kGreedyAccepts && !stopping(); ++i) {
          Loop& next = NextLoop();
          tcp::socket more(next.io);
          error_code e;
          acceptor_->accept(more, e);
          if (e) break;  // would_block, or a transient error
          OnAccepted(next, std::move(more));
        }
        Accept();
      });
}

void HttpServer::Impl::RejectAtAccept(tcp::socket& socket,
                                      std::string_view message) {
  // Best effort, never blocking: the socket is fresh, so its send buffer
  // takes this whole.
  const std::string body =
      absl::StrCat("{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"",
                   absl::string_view(message.data(), message.size()), "\"}}");
  const std::string reply = absl::StrCat(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Retry-After: 5\r\nConnection: close\r\nContent-Length: ",
      body.size(), "\r\n\r\n", body);
  error_code ec;
  socket.non_blocking(true, ec);
  net::write(socket, net::buffer(reply), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  HttpRequest request;
  request.method = "(connect)";
  ObserveError(request, 503);
}

void HttpServer::Impl::OnAccepted(Loop& loop, tcp::socket socket) {
  error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;
  std::string peer = remote.address().to_string();
  if (connections_.load(std::memory_order_relaxed) >= capacity_) {
    return RejectAtAccept(socket, "too many connections; retry later");
  }
  {
    std::lock_guard<std::mutex> lock(address_mu_);
    int& n = per_address_[peer];
    if (n >= options_.max_connections_per_address) {
      if (n == 0) per_address_.erase(peer);
      return RejectAtAccept(socket,
                            "too many connections from this address; retry "
                            "later");
    }
    ++n;
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  socket.set_option(tcp::no_delay(true), ec);
  // The socket belongs to the loop it was accepted for.
  auto connection = std::make_shared<Connection>(*this, loop, std::move(socket),
                                                 std::move(peer), ssl_.get());
  net::post(loop.io, [connection] { connection->Start(); });
}

void HttpServer::Impl::Release(const std::string& peer) {
  {
    std::lock_guard<std::mutex> lock(address_mu_);
    auto it = per_address_.find(peer);
    if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  }
  if (connections_.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopping() &&
      !destroying_.load()) {
    // The last one: no need to wait out the grace period.
    net::post(loops_[0]->io, [this] {
      if (grace_timer_ != nullptr) grace_timer_->cancel();
    });
  }
}

void HttpServer::Impl::Stop(absl::Duration grace) {
  if (stopping_.exchange(true)) return;
  net::post(loops_[0]->io, [this, grace] {
    error_code ec;
    if (acceptor_ != nullptr) acceptor_->close(ec);
    grace_timer_ = std::make_unique<net::steady_timer>(loops_[0]->io);
    grace_timer_->expires_after(Chrono(grace));
    grace_timer_->async_wait([this](error_code ec) {
      // Past the grace period, end whatever is left.
      if (ec) return;
      for (auto& loop : loops_) {
        net::post(loop->io, [l = loop.get()] {
          std::vector<Connection*> live(l->live.begin(), l->live.end());
          for (Connection* c : live) c->Close();
        });
      }
    });
    if (connections_.load() == 0) grace_timer_->cancel();
  });
  for (auto& loop : loops_) {
    net::post(loop->io, [l = loop.get()] {
      std::vector<Connection*> live(l->live.begin(), l->live.end());
      for (Connection* c : live) c->StopIdle();
      l->guard.reset();  // run() returns once the last connection ends
    });
  }
}

// ------------------------------------------------------------ HttpServer

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(
    const FrontOptions& options, RequestHandler handler,
    FrontErrorObserver on_error) {
  auto impl =
      std::make_unique<Impl>(options, std::move(handler), std::move(on_error));
  absl::Status st = impl->LoadTls();
  if (!st.ok()) return st;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

absl::StatusOr<int> HttpServer::Bind() { return impl_->Bind(); }
bool HttpServer::Run() { return impl_->Run(); }
void HttpServer::Stop(absl::Duration grace) { impl_->Stop(grace); }
bool HttpServer::IsRunning() const { return impl_->running(); }
bool HttpServer::tls() const { return impl_->tls(); }
int HttpServer::connections() const { return impl_->connections(); }
int HttpServer::connection_capacity() const { return impl_->capacity(); }

}  // namespace hotfixd
}  // namespace hotfix
