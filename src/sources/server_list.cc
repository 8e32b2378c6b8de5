// src/sources/server_list.cc

#include "sources/server_list.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "util/log.h"

namespace hotfix {
namespace internal {

std::vector<std::string> ServerUrls(const RemoteOptions& options) {
  std::vector<std::string> urls;
  if (!options.base_url.empty()) urls.push_back(options.base_url);
  for (const std::string& url : options.base_urls) {
    if (!url.empty()) urls.push_back(url);
  }
  return urls;
}

absl::StatusOr<ServerList> ServerList::Create(const RemoteOptions& options) {
  std::vector<HttpEndpoint> endpoints;
  for (const std::string& url : ServerUrls(options)) {
    absl::StatusOr<HttpEndpoint> endpoint = ParseBaseUrl(url);
    if (!endpoint.ok()) return endpoint.status();
    endpoints.push_back(*std::move(endpoint));
  }
  if (endpoints.empty()) {
    return absl::InvalidArgumentError(
        "remote.base_url: no server (base_url and base_urls are empty)");
  }
  return ServerList(std::move(endpoints));
}

std::size_t ServerList::FailOver(std::size_t failed) {
  const std::size_t next = (failed + 1) % endpoints_.size();
  std::size_t expected = failed;
  if (endpoints_.size() > 1 &&
      current_.compare_exchange_strong(expected, next)) {
    Log(LogLevel::kInfo,
        absl::StrCat("flag server ", endpoints_[failed].origin,
                     endpoints_[failed].path_prefix, " failed; moving to ",
                     endpoints_[next].origin, endpoints_[next].path_prefix));
    return next;
  }
  return current_.load();
}

}  // namespace internal
}  // namespace hotfix
