// tools/hotfixd/store/copy.h
//
// Copying one store into another (`hotfixd migrate --from sqlite:DIR --to
// postgres://...`, or any other direction): every environment with all its
// versions, the audit log, tokens, change requests, webhooks and staged
// rollouts, ids kept, and the telemetry still kept of evaluated flags.
// Each version's checksum is verified as it is read from the source, again
// as it is written, and at the end both stores are summarized by
// StoreDigest() and the two digests must agree. The target must be empty and
// gets a new epoch (store/epoch.h): it is a new incarnation, so SDKs that
// followed the source accept its versions as newer.
//
// Thread-compatible: nothing else may write either store meanwhile.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_COPY_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_COPY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

struct CopyReport {
  std::size_t environments = 0;
  std::size_t versions = 0;
  std::size_t audit = 0;
  std::size_t tokens = 0;
  std::size_t change_requests = 0;
  std::size_t webhooks = 0;
  std::size_t rollout_plans = 0;
  std::size_t telemetry = 0;  // minutes x variants
  std::string digest;         // StoreDigest() of both
  std::uint32_t epoch = 0;    // the target's new epoch
};

// CopyStore()
//
// FailedPrecondition if `to` is not empty; DataLoss if a document fails its
// checksum or the digests differ afterwards.
//
// Cost: reads every row of `from` twice and of `to` once.
absl::StatusOr<CopyReport> CopyStore(Store& from, Store& to);

// StoreDigest()
//
// Hex SHA-256 chained over every row of every table in a fixed order (each
// version by its verified document checksum): equal digests mean equal
// contents.
absl::StatusOr<std::string> StoreDigest(Store& store);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_COPY_H_
