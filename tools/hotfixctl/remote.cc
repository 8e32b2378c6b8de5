// tools/hotfixctl/remote.cc

#include "remote.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
        "cannot reach ", base_url_, ": ", httplib::to_string(result.error())));
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
  }
  if (reply.status == 401) {
    message = "unauthorized: the token is missing, unknown or revoked";
  }
  return absl::Status(CodeForHttp(reply.status), message);
}

}  // namespace hotfixctl
}  // namespace hotfix
