// tools/hotfixd/core/flag_service.h
//
// FlagService owns the environments: their current state in memory (served
// to SDKs without touching the database) and the one write path every admin
// change goes through:
//
//   lock → If-Match check → edit a copy of the current document → set its
//   version to current + 1 → hotfix::Compile (the SDK's own compiler; a
//   document that fails never leaves this function) → diff → commit version
//   + audit entry in one durable transaction → publish the new state and
//   notify SSE subscribers (a `patch` for a single-flag change, else a
//   `put`) → acknowledge.
//
// A change that leaves the document identical creates no version.
//
// Replicas (several hotfixd on one PostgreSQL): the lock above is local; the
// store's compare-and-set on the version serializes writers across replicas.
// A write that loses the race to another replica first catches up (installs
// and publishes what the other committed), then: with If-Match it answers
// 412 (the version the operator saw is no longer current); without, it is
// applied again on top of the new current version, for as long as other
// replicas keep winning, up to kWriteRetryBudget (then Aborted). A fixed
// number of attempts was not enough: a replica that keeps committing from a
// caught-up state can win eight races in a row against one that must first
// catch up, on a loaded machine. CatchUp() is also how
// versions committed elsewhere reach this replica's SDK streams
// (core/replication.h): they are installed and published exactly like local
// ones, never committed again.
//
// Versions: `version` is the local version of the admin API; what SDKs see
// (the served document's "version", ETags, SSE ids) is the wire version of
// store/epoch.h, equal to it while the database's epoch is 0.
//
// Thread-safe. Writes and catch-ups are serialized; reads (Get, List) take a
// shared lock and return immutable states.

#ifndef HOTFIX_TOOLS_HOTFIXD_CORE_FLAG_SERVICE_H_
#define HOTFIX_TOOLS_HOTFIXD_CORE_FLAG_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/auth.h"
#include "core/diff.h"
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
  std::uint64_t version = 0;       // local (admin API)
  std::uint64_t wire_version = 0;  // what SDKs see (store/epoch.h)
  SharedText document;  // compact JSON; its "version" equals `wire_version`
  std::string etag;     // "\"<env>-<wire_version>\"" (quotes included)
  std::shared_ptr<const Snapshot> snapshot;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  // Changes need a second person's approval (kills excepted).
  bool protected_env = false;

  // GzipDocument()
  //
  // `document` gzip-compressed, computed on first use. Null if compression
  // failed. Cost: the first call compresses the document.
  SharedText GzipDocument() const;

  // HasVariant()
  //
  // True if the set has flag `flag` with a variant named `variant` (what SDK
  // telemetry may report on). Cost: the first call indexes every variant.
  bool HasVariant(std::string_view flag, std::string_view variant) const;

 private:
  mutable absl::once_flag gzip_once_;
  mutable SharedText gzip_;
  mutable absl::once_flag variants_once_;
  // "flag\0variant" for every variant of every flag.
  mutable absl::flat_hash_set<std::string> variants_;
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
  // Compute and validate everything, store nothing (the answer of a dry run).
  bool dry_run = false;
  // For a rollback: the version whose set is restored.
  std::uint64_t restored_version = 0;
};

struct WriteResult {
  std::string env;
  std::uint64_t version = 0;  // the new version (for a dry run: it would be)
  bool changed = false;
  bool dry_run = false;
  std::string event;  // "patch", "put" or "" when unchanged
  std::vector<std::string> changed_keys;
  std::string etag;
  DocumentDiff diff;
  // One line per changed flag: "fix-123: killed".
  std::vector<std::string> summary;
  // Accepted, but probably not meant: an `expires` in the past, a
  // percentage on a kill switch.
  std::vector<std::string> warnings;
};

// What listeners (webhooks) hear of each committed change.
struct ChangeNotice {
  std::string env;
  std::uint64_t version = 0;
  std::string actor;
  std::string action;
  std::string reason;
  std::int64_t time = 0;  // Unix microseconds
  std::vector<std::string> changed_keys;
  std::vector<std::string> summary;
};
using ChangeObserver = std::function<void(const ChangeNotice&)>;

class FlagService {
 public:
  using Mutation = std::function<absl::Status(rapidjson::Document& doc)>;

  FlagService(Store* store, SseHub* hub, Metrics* metrics,
              std::size_t resume_history);

  // A write that keeps losing the compare-and-set to other replicas gives up
  // (Aborted, 409) once it has tried for this long (monotonic clock).
  static constexpr std::chrono::milliseconds kWriteRetryBudget{10000};

  // Load()
  //
  // Reads every environment's current version (checksums verified) and
  // recent history from the store and registers them with the hub.
  absl::Status Load();

  // CatchUp()
  //
  // Brings `env` up to the store: installs and publishes to the hub the
  // versions other replicas committed since the one held here (a new
  // environment is added; a changed protection is taken over). Returns how
  // many versions were new. NotFound if the store has no such environment.
  //
  // Cost: two to three queries and one compile when something is new; one
  // query otherwise.
  absl::StatusOr<int> CatchUp(const std::string& env);

  // CatchUpAll()
  //
  // CatchUp() for every environment in the store, new ones included.
  // Returns how many versions were new in all.
  absl::StatusOr<int> CatchUpAll();

  // The database epoch every wire version carries.
  std::uint32_t epoch() const { return epoch_; }

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

  // SetProtected()
  //
  // Marks `env` protected (writes become change requests) or not, audited
  // (`audit_extra`: more detail members, may be empty). NotFound if there is
  // no such environment.
  absl::Status SetProtected(const std::string& env, bool protected_env,
                            const std::string& actor, const std::string& reason,
                            const std::string& audit_extra);

  // Called after every change committed by this replica, on the writing
  // thread, outside the write lock; must not block (webhooks queue the
  // notice). Versions learned from other replicas are announced by the
  // replica that committed them. Set before serving.
  void SetObserver(ChangeObserver observer) { observer_ = std::move(observer); }

  // CreateEnvironment()
  //
  // Creates `name` at version 1 with `document_json` (a flag set; its version
  // is replaced). AlreadyExists if taken.
  absl::StatusOr<WriteResult> CreateEnvironment(
      const std::string& name, const std::string& document_json,
      const std::string& actor, const std::string& reason,
      const std::string& audit_extra);

 private:
  absl::StatusOr<int> CatchUpLocked(const std::string& env)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // One attempt at Write(); *lost_race when another replica committed first.
  absl::StatusOr<WriteResult> WriteOnce(const WriteRequest& request,
                                        const Mutation& mutation,
                                        bool* lost_race)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The recent changes of `env` ending at `version` (wire versions).
  absl::StatusOr<std::vector<StreamChange>> RecentChanges(
      const std::string& env, std::uint64_t after, std::uint64_t version);
  absl::StatusOr<std::shared_ptr<EnvironmentState>> MakeState(
      const std::string& env, std::uint64_t version, std::string document,
      std::int64_t created_at, std::int64_t updated_at, bool must_compile,
      bool protected_env);
  void Install(std::shared_ptr<const EnvironmentState> state)
      ABSL_LOCKS_EXCLUDED(mu_);

  Store* const store_;
  SseHub* const hub_;
  ChangeObserver observer_;
  Metrics* const metrics_;
  const std::size_t resume_history_;
  const std::uint32_t epoch_;

  absl::Mutex write_mu_;  // serializes Write / CreateEnvironment
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const EnvironmentState>>
      states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_CORE_FLAG_SERVICE_H_
