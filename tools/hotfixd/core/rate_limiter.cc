// tools/hotfixd/core/rate_limiter.cc

#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace hotfix {
namespace hotfixd {

RateLimiter::RateLimiter(double rate, double burst)
    : rate_(rate), burst_(std::max(1.0, burst)) {}

int RateLimiter::Allow(std::string_view key, absl::Time now) {
  if (rate_ <= 0) return 0;
  absl::MutexLock lock(&mu_);
  if (buckets_.size() >= kMaxKeys) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double refilled =
          it->second.tokens +
          absl::ToDoubleSeconds(now - it->second.updated) * rate_;
      if (refilled >= burst_) {
        buckets_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  auto [it, inserted] = buckets_.try_emplace(std::string(key));
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = burst_;
  } else {
    const double elapsed =
        std::max(0.0, absl::ToDoubleSeconds(now - b.updated));
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  }
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

}  // namespace hotfixd
}  // namespace hotfix
