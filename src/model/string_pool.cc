#include "model/string_pool.h"

#include "absl/strings/string_view.h"
#include "util/strings.h"

namespace hotfix {
namespace internal {

std::string_view StringPool::Intern(std::string_view s) {
  MutexLock lock(&mu_);
  auto it = strings_.find(ToAbsl(s));
  if (it == strings_.end()) it = strings_.emplace(s).first;
  return std::string_view(*it);
}

std::size_t StringPool::size() const {
  MutexLock lock(&mu_);
  return strings_.size();
}

}  // namespace internal
}  // namespace hotfix
