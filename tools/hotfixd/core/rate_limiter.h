// tools/hotfixd/core/rate_limiter.h
//
// RateLimiter is a token bucket per key (hotfixd keys it by token id): each
// key may spend `burst` requests at once and regains `rate` per second. The
// OFREP endpoints use it to answer 429 with Retry-After to a client that
// evaluates faster than configured (--ofrep-rate-limit).
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_RATE_LIMITER_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_RATE_LIMITER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hotfix {
namespace hotfixd {

class RateLimiter {
 public:
  // `rate` requests per second per key, `burst` at once; rate 0: unlimited.
  RateLimiter(double rate, double burst);

  // Allow()
  //
  // Spends one request of `key` at `now`. Returns 0 when allowed, else the
  // whole seconds (>= 1) until one is available (the Retry-After value).
  //
  // Cost: a lock and a hash lookup.
  int Allow(std::string_view key, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  // Keys kept at most; past it, full buckets are dropped (a full bucket is
  // what a new key gets anyway).
  static constexpr std::size_t kMaxKeys = 100000;

  const double rate_;
  const double burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_RATE_LIMITER_H_
