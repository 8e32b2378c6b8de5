// tools/hotfixd/core/flag_service.h
//
// FlagService owns the environments: their current state in memory (served
// to SDKs without touching the database) and the one write path every admin
// change goes through:
//
//   lock → If-Match check → edit a copy of the current document → set its
//   version to current + 1 → hotfix::Compile (the SDK's own compiler; a
//   document that fails never leaves this function) → diff → commit version
//   + audit entry in one durable SQLite transaction → publish the new state
//   and notify SSE subscribers (a `patch` for a single-flag change, else a
//   `put`) → acknowledge.
//
// A change that leaves the document identical creates no version.
//
// Thread-safe. Writes are serialized; reads (Get, List) take a shared lock
// and return immutable states.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_FLAG_SERVICE_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_FLAG_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/auth.h"
#include "core/metrics.h"
#include "core/sse_hub.h"
#include "hotfix/snapshot.h"
#include "rapidjson/document.h"
#include "store/store.h"

namespace hotfix {
namespace hotfixd {

// One environment at one version. Immutable once published (the gzip body is
// computed at most once, lazily).
struct EnvironmentState {
  std::string name;
  std::uint64_t version = 0;
  SharedText document;  // compact JSON; its "version" equals `version`
  std::string etag;     // "\"<env>-<version>\"" (quotes included)
  std::shared_ptr<const Snapshot> snapshot;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  // GzipDocument()
  //
  // `document` gzip-compressed, computed on first use. Null if compression
  // failed. Cost: the first call compresses the document.
  SharedText GzipDocument() const;

 private:
  mutable absl::once_flag gzip_once_;
  mutable SharedText gzip_;
};

struct WriteRequest {
  std::string env;
  const Principal* actor = nullptr;
  std::string reason;
  std::optional<std::uint64_t> if_match;  // expected current version
  std::string action;                     // "flag.kill", "rollback", ...
  // Extra members for the audit detail, a JSON object's inside
  // ("\"percent\":25"), may be empty.
  std::string audit_extra;
};

struct WriteResult {
  std::string env;
  std::uint64_t version = 0;
  bool changed = false;
  std::string event;  // "patch", "put" or "" when unchanged
  std::vector<std::string> changed_keys;
  std::string etag;
};

class FlagService {
 public:
  using Mutation = std::function<absl::Status(rapidjson::Document& doc)>;

  FlagService(Store* store, SseHub* hub, Metrics* metrics,
              std::size_t resume_history);

  // Load()
  //
  // Reads every environment's current version (checksums verified) and
  // recent history from the store and registers them with the hub.
  absl::Status Load();

  // The current state of `env`, or null if there is no such environment.
  std::shared_ptr<const EnvironmentState> Get(const std::string& env) const;
  // Every environment, by name.
  std::vector<std::shared_ptr<const EnvironmentState>> List() const;

  // Write()
  //
  // Applies `mutation` to a copy of the current document and commits the
  // result as described above. Errors: NotFound (environment, or whatever
  // the mutation reports), FailedPrecondition (If-Match differs),
  // InvalidArgument (the mutation, or the compiler's message naming the
  // field), Internal / Unavailable (storage).
  absl::StatusOr<WriteResult> Write(const WriteRequest& request,
                                    const Mutation& mutation);

  // CreateEnvironment()
  //
  // Creates `name` at version 1 with `document_json` (a flag set; its version
  // is replaced). AlreadyExists if taken.
  absl::StatusOr<WriteResult> CreateEnvironment(
      const std::string& name, const std::string& document_json,
      const std::string& actor, const std::string& reason,
      const std::string& audit_extra);

 private:
  absl::StatusOr<std::shared_ptr<EnvironmentState>> MakeState(
      const std::string& env, std::uint64_t version, std::string document,
      std::int64_t created_at, std::int64_t updated_at, bool must_compile);
  void Install(std::shared_ptr<const EnvironmentState> state)
      ABSL_LOCKS_EXCLUDED(mu_);

  Store* const store_;
  SseHub* const hub_;
  Metrics* const metrics_;
  const std::size_t resume_history_;

  absl::Mutex write_mu_;  // serializes Write / CreateEnvironment
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const EnvironmentState>>
      states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_FLAG_SERVICE_H_
