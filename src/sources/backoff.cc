#include "sources/backoff.h"

#include <algorithm>
#include <memory>
#include <random>
#include <utility>

namespace hotfix {
namespace internal {

Backoff::UniformRng Backoff::DefaultRng() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device()};
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine]() {
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

Backoff::Backoff(absl::Duration base, absl::Duration cap,
                 absl::Duration reset_after, UniformRng rng)
    : base_(base),
      cap_(cap),
      reset_after_(reset_after),
      rng_(rng ? std::move(rng) : DefaultRng()) {}

absl::Duration Backoff::CurrentCeiling() const {
  absl::Duration ceiling = base_;
  for (int i = 0; i < failures_ && ceiling < cap_; ++i) ceiling *= 2;
  return std::min(ceiling, cap_);
}

absl::Duration Backoff::Next() {
  const absl::Duration ceiling = CurrentCeiling();
  if (failures_ < (1 << 30)) ++failures_;
  double u = rng_();
  u = std::clamp(u, 0.0, 1.0);
  return ceiling * u;
}

void Backoff::RecordHealthy(absl::Duration duration) {
  if (duration >= reset_after_) failures_ = 0;
}

absl::Duration Jittered(absl::Duration interval, double fraction,
                        const Backoff::UniformRng& rng) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double u = std::clamp(rng(), 0.0, 1.0);
  return interval * (1.0 - fraction + 2.0 * fraction * u);
}

}  // namespace internal
}  // namespace hotfix
