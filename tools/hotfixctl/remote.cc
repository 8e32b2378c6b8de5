// tools/hotfixctl/remote.cc

#include "remote.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cmath>
#include <cstdint>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/json_util.h"

namespace hotfix {
namespace hotfixctl {
namespace {

absl::StatusCode CodeForHttp(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 412:
      return absl::StatusCode::kFailedPrecondition;
    case 413:
      return absl::StatusCode::kResourceExhausted;
    default:
      return status >= 500 ? absl::StatusCode::kUnavailable
                           : absl::StatusCode::kInvalidArgument;
  }
}

// The host part of http(s)://HOST[:PORT][/...] (brackets kept off IPv6).
std::string HostOf(const std::string& url) {
  std::string_view rest(url);
  rest.remove_prefix(rest.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') {
    return std::string(rest.substr(1, rest.find(']') - 1));
  }
  return std::string(rest.substr(0, rest.rfind(':')));
}

bool Resolves(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (found != nullptr) freeaddrinfo(found);
  return rc == 0;
}

// What went wrong, in words an operator can act on.
std::string DescribeFailure(httplib::Error error, const std::string& url,
                            double timeout_seconds) {
  switch (error) {
    case httplib::Error::Connection:
      if (!Resolves(HostOf(url))) {
        return absl::StrCat("cannot resolve host \"", HostOf(url), "\" (DNS)");
      }
      return "connection refused (is hotfixd running there? check --url / "
             "$HOTFIX_URL)";
    case httplib::Error::ConnectionTimeout:
      return absl::StrCat("timed out connecting after ", timeout_seconds,
                          " s (--timeout)");
    case httplib::Error::Read:
      return absl::StrCat(
          "no complete answer within ", timeout_seconds,
          " s, or the server closed the connection (--timeout)");
    case httplib::Error::Write:
      return "sending the request failed (the connection was closed)";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed (is the server speaking HTTPS? for "
             "http:// use an http URL)";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates (--ca-cert / $HOTFIX_CA_CERT)";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate verification failed (pass the server's CA with "
             "--ca-cert FILE or $HOTFIX_CA_CERT)";
    case httplib::Error::Canceled:
      return "the request was cancelled";
    default:
      return absl::StrCat("request failed (", httplib::to_string(error), ")");
  }
}

}  // namespace

std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Remote>> Remote::Create(const Args& args) {
  if (!absl::StartsWith(args.url, "http://") &&
      !absl::StartsWith(args.url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--url: expected http://HOST:PORT or https://HOST:PORT, got \"",
        args.url, "\""));
  }
  if (args.token.empty()) {
    return absl::InvalidArgumentError(
        "no token: pass --token / --token-file or set HOTFIX_TOKEN");
  }
  std::unique_ptr<Remote> remote(new Remote());
  remote->base_url_ = args.url;
  remote->timeout_seconds_ = args.timeout_seconds;
  remote->client_ = std::make_unique<httplib::Client>(args.url);
  if (!remote->client_->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--url: cannot use \"", args.url, "\""));
  }
  httplib::Client& c = *remote->client_;
  const double t = args.timeout_seconds;
  const time_t sec = static_cast<time_t>(t);
  const time_t usec = static_cast<time_t>((t - std::floor(t)) * 1e6);
  c.set_connection_timeout(sec, usec);
  c.set_read_timeout(sec, usec);
  c.set_write_timeout(sec, usec);
  c.set_bearer_token_auth(args.token.c_str());
  c.set_keep_alive(false);
  c.set_tcp_nodelay(true);
  if (absl::StartsWith(args.url, "https://")) {
    c.enable_server_certificate_verification(true);
    if (!args.ca_cert.empty()) c.set_ca_cert_path(args.ca_cert.c_str());
  }
  return remote;
}

absl::StatusOr<Reply> Remote::Request(const std::string& method,
                                      const std::string& path,
                                      const std::string& body,
                                      const httplib::Headers& extra) {
  httplib::Headers headers = extra;
  // Never brotli: the server sends large sets uncompressed or gzip.
  headers.emplace("Accept-Encoding", "gzip");
  const std::string type = "application/json";
  if (method != "GET" && method != "POST" && method != "PUT" &&
      method != "DELETE") {
    return absl::InternalError(absl::StrCat("unsupported method ", method));
  }
  httplib::Result result =
      method == "GET"    ? client_->Get(path, headers)
      : method == "POST" ? client_->Post(path, headers, body, type)
      : method == "PUT"  ? client_->Put(path, headers, body, type)
                         : client_->Delete(path, headers, body, type);
  if (!result) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach ", base_url_, ": ",
        DescribeFailure(result.error(), base_url_, timeout_seconds_)));
  }
  Reply reply;
  reply.status = result->status;
  reply.body = result->body;
  reply.headers = result->headers;
  if ((reply.status >= 200 && reply.status < 300) || reply.status == 304) {
    return reply;
  }
  std::string message = absl::StrCat("HTTP ", reply.status);
  rapidjson::Document doc;
  if (tools::ParseJson(reply.body, "reply", &doc).ok()) {
    const rapidjson::Value* error = tools::FindMember(doc, "error");
    const rapidjson::Value* m =
        error != nullptr ? tools::FindMember(*error, "message") : nullptr;
    if (m != nullptr && m->IsString()) {
      message = std::string(m->GetString(), m->GetStringLength());
    }
    // A rejected flag set lists every compile error (the first is the
    // message): one more line each, then how many were not listed.
    const rapidjson::Value* list =
        error != nullptr ? tools::FindMember(*error, "errors") : nullptr;
    const rapidjson::Value* count =
        error != nullptr ? tools::FindMember(*error, "error_count") : nullptr;
    if (list != nullptr && list->IsArray() && list->Size() > 1) {
      for (rapidjson::SizeType i = 1; i < list->Size(); ++i) {
        if (!(*list)[i].IsString()) continue;
        absl::StrAppend(&message, "\n  ",
                        absl::string_view((*list)[i].GetString(),
                                          (*list)[i].GetStringLength()));
      }
      if (count != nullptr && count->IsUint64() &&
          count->GetUint64() > list->Size()) {
        const std::uint64_t more = count->GetUint64() - list->Size();
        absl::StrAppend(&message, "\n  and ", more, " more error",
                        more == 1 ? "" : "s");
      }
    }
  }
  if (reply.status == 401) {
    message = "unauthorized: the token is missing, unknown or revoked";
  }
  return absl::Status(CodeForHttp(reply.status), message);
}

}  // namespace hotfixctl
}  // namespace hotfix
