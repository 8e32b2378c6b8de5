// src/sources/backoff.h
//
// Backoff computes reconnect delays with exponential growth and full jitter:
// the n-th consecutive failure (n = 0, 1, ...) waits a uniformly random time in
// [0, min(cap, base * 2^n)). Full jitter spreads a thousand clients that lost
// their server at the same moment over the whole window instead of bringing
// them back in the same millisecond. The failure count resets once a
// connection has stayed healthy for `reset_after`.
//
// Each default-constructed Backoff draws from its own generator seeded from
// std::random_device, so independent processes (and a forked child, which
// builds new ones) do not share a sequence. Tests inject a generator.
//
// Thread-compatible: owned by one source thread.
//
// Example:
//
//   Backoff backoff(absl::Milliseconds(500), absl::Seconds(30),
//                   absl::Seconds(60));
//   while (!Connect()) Sleep(backoff.Next());

#ifndef HOTFIX_SRC_SOURCES_BACKOFF_H_
#define HOTFIX_SRC_SOURCES_BACKOFF_H_

#include <functional>

#include "absl/time/time.h"

namespace hotfix {
namespace internal {

class Backoff {
 public:
  // Returns a uniformly distributed number in [0, 1).
  using UniformRng = std::function<double()>;

  // A UniformRng over a std::mt19937_64 seeded from std::random_device.
  static UniformRng DefaultRng();

  // `base` and `cap` must be positive; `reset_after` may be infinite (never
  // reset). An empty `rng` means DefaultRng().
  Backoff(absl::Duration base, absl::Duration cap, absl::Duration reset_after,
          UniformRng rng = nullptr);

  // Next()
  //
  // The delay before the next attempt after one more consecutive failure.
  absl::Duration Next();

  // The upper bound Next() would draw under now: min(cap, base * 2^failures).
  absl::Duration CurrentCeiling() const;

  // RecordHealthy()
  //
  // A connection stayed healthy for `duration`; resets the failure count if
  // that is at least `reset_after`.
  void RecordHealthy(absl::Duration duration);

  // Forgets every failure.
  void Reset() { failures_ = 0; }

  int failures() const { return failures_; }

 private:
  const absl::Duration base_;
  const absl::Duration cap_;
  const absl::Duration reset_after_;
  UniformRng rng_;
  int failures_ = 0;
};

// Jittered()
//
// `interval` scaled by a uniform factor in [1 - fraction, 1 + fraction], using
// `rng` (a UniformRng); fraction is clamped to [0, 1].
absl::Duration Jittered(absl::Duration interval, double fraction,
                        const Backoff::UniformRng& rng);

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_SOURCES_BACKOFF_H_
