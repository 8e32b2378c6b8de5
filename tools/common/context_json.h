// tools/common/context_json.h
//
// An OpenFeature evaluation context (a JSON object) as a hotfix::Context, the
// way hotfixd's OFREP endpoints, `hotfixctl eval --context` and the
// differential tests read it:
//   - "targetingKey" (a string) is the context key;
//   - strings, numbers and booleans are attributes;
//   - nested objects become dotted names ({"user": {"tier": "gold"}} is
//     attribute "user.tier", what {"var": "user.tier"} reads);
//   - null is the same as absent;
//   - arrays, a non-string targetingKey and an attribute named "key" (the
//     context key's name in hotfix) are InvalidArgument naming the path.
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_COMMON_CONTEXT_JSON_H_
#define HOTFIX_TOOLS_COMMON_CONTEXT_JSON_H_

#include <deque>
#include <string>

#include "absl/status/status.h"
#include "hotfix/context.h"
#include "rapidjson/document.h"

namespace hotfix {
namespace tools {

// ContextFromJson()
//
// Fills `context` from `object`. The Context holds views: names built here
// are kept in `storage`, and string values point into `object`, so both must
// outlive the Context's use.
absl::Status ContextFromJson(const rapidjson::Value& object,
                             std::deque<std::string>* storage,
                             Context* context);

}  // namespace tools
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_COMMON_CONTEXT_JSON_H_
