// src/model/string_pool.h
//
// StringPool interns the strings that evaluation hands back to callers
// (variant names, string and JSON values). A Client shares one pool with every
// snapshot it compiles, so a std::string_view returned by an evaluation stays
// valid for the Client's whole life even after its snapshot is reclaimed. The
// pool only grows, by the distinct strings ever served, which for flag sets is
// small.
//
// Thread-safe.

#ifndef HOTFIX_SRC_MODEL_STRING_POOL_H_
#define HOTFIX_SRC_MODEL_STRING_POOL_H_

#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_set.h"
#include "util/sync.h"

namespace hotfix {
namespace internal {

class StringPool {
 public:
  // Intern()
  //
  // Returns a view of a pooled copy of `s`, stable until the pool dies.
  //
  // Cost: a lock and a hash lookup; an allocation the first time `s` is seen.
  std::string_view Intern(std::string_view s);

  std::size_t size() const;

  // fork() support: hold / release the lock across fork().
  void LockForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Lock(); }
  void UnlockAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Unlock(); }

 private:
  mutable Mutex mu_;
  // node_hash_set: element addresses (and so SSO buffers) never move.
  absl::node_hash_set<std::string> strings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_MODEL_STRING_POOL_H_
