// tools/hotfixd/http/router.h
//
// Route matching: a table of (method, path pattern) → target, where a
// pattern such as "/v1/admin/envs/{env}/flags/{key}" has literal segments and
// named parameters. A parameter matches one non-empty path segment of
// [A-Za-z0-9._-] (at most 256 bytes); anything else in a parameter's place
// does not match. Find() tells a path nobody serves (404) from a method the
// path does not accept (405, with the methods it does accept for Allow).
//
// Thread-compatible: built once, then read concurrently.

#ifndef HOTFIX_TOOLS_HOTFIXD_HTTP_ROUTER_H_
#define HOTFIX_TOOLS_HOTFIXD_HTTP_ROUTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotfix {
namespace hotfixd {

enum class Method : std::uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kPatch,
  kDelete,
  kOptions,
  kOther,
};

Method ParseMethod(std::string_view method);
std::string_view MethodName(Method method);

// The parameters a matched path bound, in pattern order.
class PathParams {
 public:
  // The value of parameter `name`; empty if the pattern has none.
  std::string_view Get(std::string_view name) const;
  void Add(std::string_view name, std::string_view value) {
    params_.emplace_back(name, std::string(value));
  }
  void Clear() { params_.clear(); }

 private:
  std::vector<std::pair<std::string_view, std::string>> params_;
};

// A compiled pattern. `pattern` must outlive it (patterns are literals).
class RoutePattern {
 public:
  explicit RoutePattern(std::string_view pattern);
  bool Match(std::string_view path, PathParams* params) const;
  std::string_view text() const { return text_; }

 private:
  struct Segment {
    std::string_view text;  // literal text, or the parameter's name
    bool is_param = false;
  };
  std::string_view text_;
  std::vector<Segment> segments_;
};

// True for 1-256 bytes of [A-Za-z0-9._-]: what a parameter segment may be.
bool IsParamSegment(std::string_view segment);

template <typename Target>
class Router {
 public:
  struct Found {
    const Target* target = nullptr;  // null: not found, or method not allowed
    std::string_view pattern;
    PathParams params;
    // When the path exists for other methods only: those methods ("GET,
    // PUT"), for the Allow header of a 405.
    std::string allow;
  };

  void Add(Method method, std::string_view pattern, Target target) {
    routes_.push_back(Route{method, RoutePattern(pattern), std::move(target)});
  }

  Found Find(Method method, std::string_view path) const {
    Found found;
    for (const Route& r : routes_) {
      found.params.Clear();
      if (!r.pattern.Match(path, &found.params)) continue;
      if (r.method == method ||
          (method == Method::kHead && r.method == Method::kGet)) {
        found.target = &r.target;
        found.pattern = r.pattern.text();
        return found;
      }
      const std::string_view name = MethodName(r.method);
      if (found.allow.find(name) == std::string::npos) {
        if (!found.allow.empty()) found.allow += ", ";
        found.allow += name;
        if (r.method == Method::kGet) found.allow += ", HEAD";
      }
    }
    found.params.Clear();
    return found;
  }

 private:
  struct Route {
    Method method;
    RoutePattern pattern;
    Target target;
  };
  std::vector<Route> routes_;
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_HTTP_ROUTER_H_
