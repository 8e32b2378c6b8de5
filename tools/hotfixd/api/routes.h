// tools/hotfixd/api/routes.h
//
// The route table of hotfixd — every endpoint as method, path pattern,
// access and handler, in one place — and Api, which serves a request with
// it: match the route (404, or 405 with Allow), authenticate and check the
// access (401 / 403), run the handler, turn an error status into the JSON
// error reply, count the request under its pattern in the metrics and log it.
//
// Thread-safe: Handle() is called concurrently.

#ifndef HOTFIX_TOOLS_HOTFIXD_API_ROUTES_H_
#define HOTFIX_TOOLS_HOTFIXD_API_ROUTES_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "api/api.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server.h"

namespace hotfix {
namespace hotfixd {

// Who may call a route.
enum class Access : std::uint8_t {
  kPublic,    // anyone, no token
  kAnyToken,  // any valid token
  kSdk,       // the sdk or the read scope (the SDK endpoints)
  kRead,      // the read scope
  kWrite,     // the write scope
  kTokens,    // the tokens scope
  kApprove,   // the approve scope (approving; rejecting also for proposers)
  kReadOrApprove,  // read or approve (listing change requests)
};

// The scope names an access level needs, for 403 messages ("read").
std::string_view AccessName(Access access);

// Where a handler may run.
enum class Execution : std::uint8_t {
  kLoop,    // never blocks (memory only): on the front's event loop
  kWorker,  // may block (database, the write lock): on a worker thread
};

struct RouteSpec {
  Method method;
  // The path pattern; also the route's label in metrics and logs.
  const char* pattern;
  Access access;
  Handler handler;
  Execution execution = Execution::kWorker;
  // The token may also come as X-API-Key (the OpenFeature remote evaluation
  // protocol's second scheme); only the OFREP routes accept it.
  bool api_key_header = false;
};

// Every route hotfixd serves.
const std::vector<RouteSpec>& ApiRoutes();

class Api {
 public:
  explicit Api(ApiContext* context);

  // Prepare()
  //
  // Called by the front on its event loop for each request: matches the
  // route, authenticates and checks the access, and runs the handler at once
  // when it never blocks. Otherwise returns the handler's run as work for a
  // worker thread. Never throws; every outcome is a Reply.
  //
  // Cost: a route scan (a few dozen string compares) and the token check
  // (one SHA-256); plus the handler when it runs here.
  Dispatch Prepare(HttpRequest request) const;

  // Serves `request` completely on the calling thread (tests, tools).
  Reply Handle(HttpRequest request) const;

  // Counts and logs a request the front answered itself.
  void ObserveFrontError(const HttpRequest& request, int status) const;

 private:
  struct Routed;
  Routed Route(const HttpRequest& request) const;
  Reply Execute(const HttpRequest& request, const Routed& routed,
                const Approval* approval = nullptr) const;
  // ApiContext::replay: serves `request` as `who` (no token check).
  Reply Replay(const HttpRequest& request, const Principal& who,
               const Approval* approval) const;
  void Finish(const HttpRequest& request, const Routed& routed,
              const Reply& reply) const;

  ApiContext* const context_;
  Router<const RouteSpec*> router_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_ROUTES_H_
