// src/client/client_core.h
//
// ClientCore is the state behind a Client: the Publisher, the string pool the
// snapshots share, handle cells, listeners, status and the sources. It is the
// SourceSink every source publishes through.
//
// Thread-safe. Publications are serialized by publish_mu_; readers only touch
// the Publisher.

#ifndef HOTFIX_SRC_CLIENT_CLIENT_CORE_H_
#define HOTFIX_SRC_CLIENT_CLIENT_CORE_H_

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/publisher.h"
#include "hotfix/client.h"
#include "model/string_pool.h"
#include "sources/source.h"

namespace hotfix {
namespace internal {

class ClientCore : public SourceSink {
 public:
  explicit ClientCore(const ClientOptions& options);
  ~ClientCore() override;

  const Publisher& publisher() const { return publisher_; }

  // SourceSink.
  absl::Status Offer(std::string_view json, SnapshotOrigin origin,
                     bool require_newer) override;
  void ReportSuccess(SnapshotOrigin origin) override;
  void ReportError(SnapshotOrigin origin, const absl::Status& error) override;
  void ReportRejected(SnapshotOrigin origin,
                      const absl::Status& error) override;
  void ReportConnection(RemoteConnection connection) override;

  // Adds a source; `live` sources make the state kInitializing/kValid/kStale
  // instead of kOff. Not started.
  void AddSource(std::unique_ptr<Source> source);
  void StartSources();
  void StopSources();
  void RestartSourcesAfterFork();

  const HandleCell* Cell(std::string_view key);

  int AddListener(ChangeListener listener);
  void RemoveListener(int id);

  // fork() support, called by pthread_atfork handlers for every live core:
  // the prepare step takes the core's locks (in the order Offer takes them)
  // so the child never inherits one held by a thread that is gone; the child
  // step also resets the listener dispatch state. Sources are restarted
  // separately by Client::AfterFork().
  void PrepareFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void ParentAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void ChildAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;

  ClientStatus GetStatus() const;
  bool WaitUntilReady(absl::Duration timeout) const;

 private:
  void UpdateCell(HandleCell* cell, const Published* published)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_);
  void Notify(const ChangeEvent& event);

  const CompileOptions compile_options_;
  const std::shared_ptr<StringPool> pool_ = std::make_shared<StringPool>();
  Publisher publisher_;

  // Serializes publications and guards the handle cells.
  absl::Mutex publish_mu_;
  absl::node_hash_map<std::string, std::unique_ptr<HandleCell>> cells_
      ABSL_GUARDED_BY(publish_mu_);

  mutable absl::Mutex status_mu_;
  ClientStatus status_ ABSL_GUARDED_BY(status_mu_);
  bool has_live_source_ ABSL_GUARDED_BY(status_mu_) = false;

  // Listeners: calls are serialized by dispatch_mu_ (taken before
  // listeners_mu_ is released by the dispatcher).
  // Heap-allocated so a forked child can replace it: a dispatch in flight at
  // fork() leaves it held by a thread that does not exist in the child.
  std::unique_ptr<absl::Mutex> dispatch_mu_ = std::make_unique<absl::Mutex>();
  absl::Mutex listeners_mu_;
  std::vector<std::pair<int, std::shared_ptr<ChangeListener>>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::atomic<std::thread::id> dispatching_thread_{};

  std::vector<std::unique_ptr<Source>> sources_;
};

}  // namespace internal
}  // namespace hotfix

#endif  // HOTFIX_SRC_CLIENT_CLIENT_CORE_H_
