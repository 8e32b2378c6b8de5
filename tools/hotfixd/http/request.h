// tools/hotfixd/http/request.h
//
// HttpRequest is one HTTP/1.1 request as hotfixd's handlers see it, whatever
// front parsed it: method, percent-decoded path, decoded query parameters,
// headers with lower-case names, the body, and the peer's address.
//
// Thread-compatible (a plain value).

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_REQUEST_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_REQUEST_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotfix {
namespace hotfixd {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // percent-decoded; starts with '/'
  // Decoded query parameters in order ("a=1&b" gives {a,1}, {b,""}).
  std::vector<std::pair<std::string, std::string>> query;
  HeaderList headers;  // names lower-case, values with outer spaces removed
  std::string body;
  std::string peer;  // client address ("127.0.0.1"), for logs and limits
  bool tls = false;

  // The first value of header `name` (lower-case), or nullptr.
  const std::string* FindHeader(std::string_view name) const;
  // How often header `name` (lower-case) occurs.
  std::size_t CountHeader(std::string_view name) const;
  // The first value of query parameter `name`, or nullptr.
  const std::string* FindQuery(std::string_view name) const;
};

// PercentDecode()
//
// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query
// strings). False on a malformed escape or a decoded NUL byte.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// ParseQuery()
//
// Splits "a=1&b=%20x" into decoded pairs appended to `out`. False if any
// part is malformed (see PercentDecode).
bool ParseQuery(std::string_view raw,
                std::vector<std::pair<std::string, std::string>>* out);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_REQUEST_H_
