// tools/hotfixd/store/store.cc

#include "store/store.h"

#include "absl/time/clock.h"

namespace hotfix {
namespace hotfixd {

std::int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

}  // namespace hotfixd
}  // namespace hotfix
