// tools/hotfixd/http/router.cc

#include "http/router.h"

namespace hotfix {
namespace hotfixd {
namespace {

constexpr std::size_t kMaxParamBytes = 256;

// Splits "/a/b/c" into segments; false if `path` does not start with '/'.
// A trailing slash makes an empty last segment (which nothing matches).
template <typename F>
bool ForEachSegment(std::string_view path, F&& f) {
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    if (!f(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

Method ParseMethod(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "HEAD") return Method::kHead;
  if (m == "POST") return Method::kPost;
  if (m == "PUT") return Method::kPut;
  if (m == "PATCH") return Method::kPatch;
  if (m == "DELETE") return Method::kDelete;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

bool IsParamSegment(std::string_view s) {
  if (s.empty() || s.size() > kMaxParamBytes) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view PathParams::Get(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return {};
}

RoutePattern::RoutePattern(std::string_view pattern) : text_(pattern) {
  ForEachSegment(pattern, [this](std::string_view seg) {
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      segments_.push_back({seg.substr(1, seg.size() - 2), true});
    } else {
      segments_.push_back({seg, false});
    }
    return true;
  });
}

bool RoutePattern::Match(std::string_view path, PathParams* params) const {
  std::size_t i = 0;
  const bool ok = ForEachSegment(path, [&](std::string_view seg) {
    if (i >= segments_.size()) return false;
    const Segment& want = segments_[i++];
    if (!want.is_param) return seg == want.text;
    if (!IsParamSegment(seg)) return false;
    params->Add(want.text, seg);
    return true;
  });
  return ok && i == segments_.size();
}

}  // namespace hotfixd
}  // namespace hotfix
