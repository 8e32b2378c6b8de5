#include "util/sync.h"

namespace hotfix {
namespace internal {

SteadyTime DeadlineAfter(absl::Duration timeout) {
  const SteadyTime now = SteadyClock::now();
  if (timeout <= absl::ZeroDuration()) return now;
  if (timeout == absl::InfiniteDuration() ||
      timeout >= absl::FromChrono(SteadyTime::max() - now)) {
    return SteadyTime::max();
  }
  return now + std::chrono::duration_cast<SteadyClock::duration>(
                   absl::ToChronoNanoseconds(timeout));
}

}  // namespace internal
}  // namespace hotfix
