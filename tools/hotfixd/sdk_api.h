// tools/hotfixd/sdk_api.h
//
// The SDK endpoints of docs/protocol.md, served from memory (never the
// database):
//
//   GET /v1/flags    the current flag set; ETag "<env>-<version>", 304 on a
//                    matching If-None-Match, gzip (computed once per version)
//                    when the client accepts it
//   GET /v1/stream   SSE: put / patch / heartbeat, Last-Event-ID resume
//
// plus GET /healthz and GET /metrics. An SDK key reads its own environment;
// a token with the read scope may add ?env=NAME (default: --default-env).
//
// Thread-safe: handlers run concurrently on the server's threads.

#ifndef HOTFIX_TOOLS_HOTFIXD_SDK_API_H_
#define HOTFIX_TOOLS_HOTFIXD_SDK_API_H_

#include <httplib.h>

#include "http_util.h"

namespace hotfix {
namespace hotfixd {

void RegisterSdkApi(httplib::Server& server, ApiContext* api);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_SDK_API_H_
