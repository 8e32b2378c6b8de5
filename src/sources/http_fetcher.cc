#include "sources/http_fetcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "sources/server_list.h"
#include "sources/source.h"
#include "util/json_parse.h"
#include "util/strings.h"
#include "util/sync.h"

// The Debian package builds cpp-httplib as a library with these features; the
// header must be compiled with the same ones (they change class layouts).
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include <httplib.h>
#include <openssl/x509.h>

namespace hotfix {
namespace internal {
namespace {

constexpr std::size_t kErrorBodyBytes = 4096;
constexpr char kUserAgent[] = "hotfix-cpp/0.1";

std::chrono::microseconds ToChrono(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return std::chrono::microseconds(absl::ToInt64Microseconds(d));
}

httplib::Headers ToHttplib(const HttpHeaders& headers) {
  httplib::Headers out;
  for (const auto& [name, value] : headers) out.emplace(name, value);
  out.emplace("User-Agent", kUserAgent);
  return out;
}

}  // namespace

absl::StatusOr<HttpEndpoint> ParseBaseUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("remote.base_url \"", ToAbsl(url), "\": ", ToAbsl(why)));
  };
  HttpEndpoint endpoint;
  std::string_view rest = url;
  const std::size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) {
    return bad("expected http://host[:port][/prefix] or https://...");
  }
  const std::string scheme =
      absl::AsciiStrToLower(ToAbsl(rest.substr(0, scheme_end)));
  if (scheme == "https") {
    endpoint.https = true;
  } else if (scheme != "http") {
    return bad("the scheme must be http or https");
  }
  rest.remove_prefix(scheme_end + 3);
  const std::size_t authority_end = rest.find('/');
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path = authority_end == std::string_view::npos
                              ? std::string_view()
                              : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("user info is not supported; use sdk_key");
  }
  if (path.find_first_of("?#") != std::string_view::npos ||
      authority.find_first_of("?#") != std::string_view::npos) {
    return bad("a query or fragment is not allowed");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return bad("unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return bad("no host");
  endpoint.host = std::string(host);
  endpoint.port = endpoint.https ? 443 : 80;
  if (!port.empty()) {
    int value = 0;
    if (!absl::SimpleAtoi(ToAbsl(port), &value) || value <= 0 ||
        value > 65535) {
      return bad("invalid port");
    }
    endpoint.port = value;
  }
  const bool v6 = endpoint.host.find(':') != std::string::npos;
  endpoint.origin =
      absl::StrCat(endpoint.https ? "https://" : "http://", v6 ? "[" : "",
                   endpoint.host, v6 ? "]" : "", ":", endpoint.port);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  endpoint.path_prefix = std::string(path);
  return endpoint;
}

absl::Status HttpStatusError(std::string_view url, int status,
                             std::string_view body, std::string_view method) {
  std::string detail;
  rapidjson::Document doc;
  // A hostile server's error body: the strict parser bounds its nesting.
  if (ParseJsonStrict(body, &doc).ok() && doc.IsObject()) {
    auto error = doc.FindMember("error");
    if (error != doc.MemberEnd() && error->value.IsObject()) {
      auto message = error->value.FindMember("message");
      if (message != error->value.MemberEnd() && message->value.IsString()) {
        detail = std::string(message->value.GetString(),
                             message->value.GetStringLength());
        if (detail.size() > 200) detail.resize(200);
      }
    }
  }
  std::string text =
      absl::StrCat(ToAbsl(method), " ", ToAbsl(url), ": HTTP ", status);
  auto with = [&](std::string_view explanation) {
    absl::StrAppend(&text, " (", ToAbsl(explanation), ")");
    if (!detail.empty()) absl::StrAppend(&text, ": ", detail);
    return text;
  };
  absl::Status result;
  switch (status) {
    case 400:
      result = absl::InvalidArgumentError(with("bad request"));
      break;
    case 401:
      result =
          absl::UnauthenticatedError(with("configuration error: the SDK key "
                                          "was refused; check remote.sdk_key"));
      break;
    case 403:
      result = absl::PermissionDeniedError(with(
          "configuration error: the SDK key may not read this environment"));
      break;
    case 404:
      result = absl::NotFoundError(
          with("configuration error: unknown path; check remote.base_url"));
      break;
    case 429:
      return absl::ResourceExhaustedError(with("server overloaded"));
    default:
      return absl::UnavailableError(
          with(status >= 500 ? "server error" : "unexpected status"));
  }
  MarkConfigError(&result);
  return result;
}

HttpFetcher::HttpFetcher(std::shared_ptr<ServerList> servers,
                         const RemoteOptions& options,
                         absl::Duration read_timeout)
    : servers_(std::move(servers)), read_timeout_(read_timeout) {
  active_.store(servers_->current());
  for (std::size_t i = 0; i < servers_->size(); ++i) {
    const HttpEndpoint& endpoint = servers_->endpoint(i);
    auto client = std::make_unique<httplib::Client>(endpoint.origin);
    client->set_connection_timeout(ToChrono(options.connect_timeout));
    client->set_read_timeout(ToChrono(read_timeout));
    client->set_write_timeout(ToChrono(read_timeout));
    client->set_keep_alive(false);
    client->set_follow_location(false);
    client->set_tcp_nodelay(true);
    if (!options.sdk_key.empty())
      client->set_bearer_token_auth(options.sdk_key);
    client->set_socket_options([this](socket_t fd) { socket_fd_.store(fd); });
    if (endpoint.https) {
      client->enable_server_certificate_verification(options.verify_tls);
      if (!options.ca_file.empty()) client->set_ca_cert_path(options.ca_file);
    }
    clients_.push_back(std::move(client));
  }
}

void HttpFetcher::Select() { active_.store(servers_->current()); }

httplib::Client& HttpFetcher::Begin() {
  Select();
  return *clients_[active_.load()];
}

const HttpEndpoint& HttpFetcher::endpoint() const {
  return servers_->endpoint(active_.load());
}

HttpFetcher::~HttpFetcher() = default;

std::string HttpFetcher::FullPath(std::string_view path) const {
  return absl::StrCat(endpoint().path_prefix, ToAbsl(path));
}

std::string HttpFetcher::Url(std::string_view path) const {
  return absl::StrCat(endpoint().origin, FullPath(path));
}

absl::Status HttpFetcher::TransportError(int error, std::string_view path,
                                         absl::Duration idle,
                                         std::string_view method) const {
  const std::string what = absl::StrCat(ToAbsl(method), " ", Url(path), ": ");
  switch (static_cast<httplib::Error>(error)) {
    case httplib::Error::Success:
      return absl::OkStatus();
    case httplib::Error::Canceled:
      return absl::CancelledError(absl::StrCat(what, "cancelled"));
    case httplib::Error::Connection:
      return absl::UnavailableError(absl::StrCat(what, "cannot connect"));
    case httplib::Error::ConnectionTimeout:
      return absl::DeadlineExceededError(
          absl::StrCat(what, "connect timed out"));
    case httplib::Error::Read:
      if (idle >= read_timeout_ * 0.9) {
        return absl::DeadlineExceededError(absl::StrCat(
            what, "no data for ", absl::FormatDuration(read_timeout_)));
      }
      return absl::UnavailableError(
          absl::StrCat(what, "connection closed while reading"));
    case httplib::Error::Write:
      return absl::UnavailableError(absl::StrCat(what, "write failed"));
    case httplib::Error::SSLConnection:
      return absl::UnavailableError(absl::StrCat(what, "TLS handshake failed"));
    case httplib::Error::SSLLoadingCerts: {
      absl::Status status = absl::FailedPreconditionError(absl::StrCat(
          what, "cannot load the TLS trust store (remote.ca_file)"));
      MarkConfigError(&status);
      return status;
    }
    case httplib::Error::SSLServerVerification: {
      const long result = clients_[active_.load()]->get_openssl_verify_result();
      const std::string reason =
          result == X509_V_OK
              ? std::string("the certificate does not match the host name")
              : std::string(X509_verify_cert_error_string(result));
      return absl::UnavailableError(absl::StrCat(
          what, "TLS server certificate verification failed: ", reason));
    }
    case httplib::Error::Compression:
      return absl::DataLossError(absl::StrCat(what, "invalid compressed body"));
    default:
      return absl::UnavailableError(absl::StrCat(
          what, httplib::to_string(static_cast<httplib::Error>(error))));
  }
}

absl::Duration ParseRetryAfter(std::string_view value, absl::Time now) {
  const absl::string_view text = absl::StripAsciiWhitespace(ToAbsl(value));
  if (text.empty()) return absl::ZeroDuration();
  absl::Duration wait = absl::ZeroDuration();
  if (std::int64_t seconds = 0; absl::SimpleAtoi(text, &seconds)) {
    if (seconds <= 0) return absl::ZeroDuration();
    wait = absl::Seconds(std::min<std::int64_t>(
        seconds, absl::ToInt64Seconds(kMaxRetryAfter) + 1));
  } else {
    absl::Time at;
    std::string error;
    if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", text, absl::UTCTimeZone(),
                         &at, &error)) {
      return absl::ZeroDuration();
    }
    wait = at - now;
  }
  return std::clamp(wait, absl::ZeroDuration(), kMaxRetryAfter);
}

namespace {

// The head of `response` (no body), as the fetcher reports it.
HttpFetcher::Response HeadOf(const httplib::Response& response) {
  HttpFetcher::Response head;
  head.status = response.status;
  head.etag = response.get_header_value("ETag");
  head.content_type = response.get_header_value("Content-Type");
  if (response.status == 429 || response.status == 503) {
    head.retry_after =
        ParseRetryAfter(response.get_header_value("Retry-After"), absl::Now());
  }
  return head;
}

}  // namespace

absl::StatusOr<HttpFetcher::Response> HttpFetcher::Get(
    std::string_view path, const HttpHeaders& headers, std::size_t max_bytes) {
  if (cancelled_.load()) {
    return absl::CancelledError(absl::StrCat("GET ", Url(path), ": cancelled"));
  }
  httplib::Client& client = Begin();
  Response out;
  bool too_large = false;
  SteadyTime last_data = SteadyClock::now();
  httplib::Result result = client.Get(
      FullPath(path), ToHttplib(headers),
      [&](const httplib::Response& response) {
        out = HeadOf(response);
        last_data = SteadyClock::now();
        // Content-Length counts the encoded bytes; the limit applies to the
        // decoded body, checked as it arrives below.
        if (response.status == 200 && response.has_header("Content-Length") &&
            !response.has_header("Content-Encoding") &&
            response.get_header_value<std::uint64_t>("Content-Length") >
                max_bytes) {
          too_large = true;
          return false;
        }
        return !cancelled_.load();
      },
      [&](const char* data, std::size_t size) {
        // httplib hands over the decoded (gunzipped) bytes.
        last_data = SteadyClock::now();
        if (cancelled_.load()) return false;
        const std::size_t limit =
            out.status == 200 ? max_bytes : kErrorBodyBytes;
        if (out.body.size() + size > limit) {
          if (out.status == 200) {
            too_large = true;
          } else {
            out.body.append(data, limit - out.body.size());
          }
          return false;
        }
        out.body.append(data, size);
        return true;
      });
  socket_fd_.store(-1);
  if (too_large) {
    return absl::ResourceExhaustedError(
        absl::StrCat("GET ", Url(path), ": body larger than the limit of ",
                     max_bytes, " bytes"));
  }
  if (cancelled_.load()) {
    return absl::CancelledError(absl::StrCat("GET ", Url(path), ": cancelled"));
  }
  // An error body cut at kErrorBodyBytes ends the read early: still an answer.
  if (out.status != 0 && out.status != 200) return out;
  if (!result) {
    return TransportError(static_cast<int>(result.error()), path,
                          SinceSteady(last_data));
  }
  out.status = result->status;
  return out;
}

absl::Status HttpFetcher::Stream(std::string_view path,
                                 const HttpHeaders& headers,
                                 const HeadersCallback& on_headers,
                                 const DataCallback& on_data) {
  if (cancelled_.load()) {
    return absl::CancelledError(absl::StrCat("GET ", Url(path), ": cancelled"));
  }
  httplib::Client& client = Begin();
  bool stopped_by_callback = false;
  SteadyTime last_data = SteadyClock::now();
  httplib::Result result = client.Get(
      FullPath(path), ToHttplib(headers),
      [&](const httplib::Response& response) {
        last_data = SteadyClock::now();
        if (cancelled_.load()) return false;
        if (!on_headers(HeadOf(response))) {
          stopped_by_callback = true;
          return false;
        }
        return true;
      },
      [&](const char* data, std::size_t size) {
        last_data = SteadyClock::now();
        if (cancelled_.load()) return false;
        if (!on_data(std::string_view(data, size))) {
          stopped_by_callback = true;
          return false;
        }
        return true;
      });
  socket_fd_.store(-1);
  if (cancelled_.load()) {
    return absl::CancelledError(absl::StrCat("GET ", Url(path), ": cancelled"));
  }
  if (stopped_by_callback) {
    return absl::CancelledError(
        absl::StrCat("GET ", Url(path), ": closed by the client"));
  }
  if (!result) {
    return TransportError(static_cast<int>(result.error()), path,
                          SinceSteady(last_data));
  }
  return absl::OkStatus();
}

absl::StatusOr<HttpFetcher::Response> HttpFetcher::Post(
    std::string_view path, std::string_view body, std::string_view content_type,
    bool gzip) {
  if (cancelled_.load()) {
    return absl::CancelledError(
        absl::StrCat("POST ", Url(path), ": cancelled"));
  }
  httplib::Client& client = Begin();
  client.set_compress(gzip);
  const SteadyTime start = SteadyClock::now();
  httplib::Result result = client.Post(FullPath(path), body.data(), body.size(),
                                       std::string(content_type));
  client.set_compress(false);
  socket_fd_.store(-1);
  if (cancelled_.load()) {
    return absl::CancelledError(
        absl::StrCat("POST ", Url(path), ": cancelled"));
  }
  if (!result) {
    return TransportError(static_cast<int>(result.error()), path,
                          SinceSteady(start), "POST");
  }
  Response out = HeadOf(*result);
  out.body = result->body.substr(0, kErrorBodyBytes);
  return out;
}

void HttpFetcher::Cancel() {
  cancelled_.store(true);
  for (auto& client : clients_) client->stop();
}

void HttpFetcher::AbandonInForkedChild(std::unique_ptr<HttpFetcher> fetcher) {
  if (fetcher == nullptr) return;
  HttpFetcher* raw = fetcher.release();  // deliberately leaked, see header
  const int fd = raw->socket_fd_.load();
  if (fd < 0) return;
  // Close only what is certainly our socket to the server: a descriptor
  // number can be reused.
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) {
    return;
  }
  int port = -1;
  if (peer.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
  } else if (peer.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
  }
  if (port == raw->endpoint().port) ::close(fd);
}

}  // namespace internal
}  // namespace hotfix
