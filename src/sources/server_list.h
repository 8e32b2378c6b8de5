// src/sources/server_list.h
//
// ServerList is the remote source's list of servers — replicas of one
// hotfixd deployment (RemoteOptions::base_url, then base_urls) — and which
// one it follows now. The stream and the poller of one client share it: when
// a request to the current server fails (transport error, timeout, 429,
// 5xx, 400/401/403/404, or an answer that is not a flag stream), the source
// calls FailOver() and its next attempt, after the usual jittered backoff,
// goes to the next server in the list, round robin; a stream resumes there with
// Last-Event-ID (every replica serves the same versions). Two sources
// failing on the same server move the list once, not twice.
//
// Thread-safe.

#ifndef HOTFIX_SRC_SOURCES_SERVER_LIST_H_
#define HOTFIX_SRC_SOURCES_SERVER_LIST_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hotfix/options.h"
#include "sources/http_fetcher.h"

namespace hotfix {
namespace internal {

class ServerList {
 public:
  // Create()
  //
  // The servers of `options` (base_url first, then base_urls; empty entries
  // skipped). InvalidArgument naming the bad URL; an empty list is an
  // error too.
  static absl::StatusOr<ServerList> Create(const RemoteOptions& options);

  ServerList(const ServerList& other)
      : endpoints_(other.endpoints_), current_(other.current_.load()) {}

  std::size_t size() const { return endpoints_.size(); }
  const HttpEndpoint& endpoint(std::size_t i) const { return endpoints_[i]; }

  // Index of the server followed now.
  std::size_t current() const { return current_.load(); }

  // FailOver()
  //
  // Moves on from server `failed` (the index a request was sent to) to the
  // next one, unless another source already moved on. Returns the index now
  // followed.
  std::size_t FailOver(std::size_t failed);

 private:
  explicit ServerList(std::vector<HttpEndpoint> endpoints)
      : endpoints_(std::move(endpoints)) {}

  std::vector<HttpEndpoint> endpoints_;
  std::atomic<std::size_t> current_{0};
};

// The base URLs of `options` in order (base_url, then base_urls).
std::vector<std::string> ServerUrls(const RemoteOptions& options);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_SERVER_LIST_H_
