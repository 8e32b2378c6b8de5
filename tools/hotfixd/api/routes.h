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
};

// The scope names an access level needs, for 403 messages ("read").
std::string_view AccessName(Access access);

struct RouteSpec {
  Method method;
  // The path pattern; also the route's label in metrics and logs.
  const char* pattern;
  Access access;
  Handler handler;
};

// Every route hotfixd serves.
const std::vector<RouteSpec>& ApiRoutes();

class Api {
 public:
  explicit Api(ApiContext* context);

  // Handle()
  //
  // Serves `request`. Never throws; every outcome is a Reply.
  //
  // Cost: a route scan (a few dozen string compares), the token check (one
  // SHA-256), and the handler.
  Reply Handle(const HttpRequest& request) const;

  // Counts and logs a request the front answered itself.
  void ObserveFrontError(const HttpRequest& request, int status) const;

 private:
  Reply Serve(const HttpRequest& request, const RouteSpec** route,
              const Principal** who, Principal* storage) const;

  ApiContext* const context_;
  Router<const RouteSpec*> router_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_ROUTES_H_
