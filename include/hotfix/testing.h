// include/hotfix/testing.h
//
// TestFlags lets application unit tests force flag values without files or
// servers. It owns a real Client (same evaluation code as production) and
// republishes a generated flag set on every change.
//
// Thread-safe: setters may race with evaluations on client() from any thread.
//
// Example:
//
//   hotfix::testing::TestFlags flags;
//   flags.Set("fix-123", true);
//   CheckoutService service(flags.client());
//   EXPECT_EQ(service.Charge(order), kChargedOnce);
//   flags.Kill("fix-123");

#ifndef HOTFIX_TESTING_H_
#define HOTFIX_TESTING_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "hotfix/client.h"

namespace hotfix {
namespace testing {

class HOTFIX_EXPORT TestFlags {
 public:
  TestFlags();
  ~TestFlags();

  // Each setter makes `key` a static flag serving `value` (replacing any
  // earlier definition) and publishes at once.
  void Set(std::string_view key, bool value);
  void Set(std::string_view key, const char* value) {
    Set(key, std::string_view(value));
  }
  void Set(std::string_view key, std::string_view value);
  void Set(std::string_view key, double value);
  void Set(std::string_view key, int value) {
    Set(key, static_cast<double>(value));
  }
  void Set(std::string_view key, std::int64_t value) {
    Set(key, static_cast<double>(value));
  }
  // `json` must be a JSON object or array; InvalidArgument otherwise.
  absl::Status SetJson(std::string_view key, std::string_view json);
  // A full native flag definition (docs/flag-format.md), for tests of rules,
  // rollouts and targets. InvalidArgument (naming the field) if it fails to
  // compile; nothing changes then.
  absl::Status SetDefinition(std::string_view key, std::string_view flag_json);

  // Kills / revives `key` (a killed boolean flag serves false).
  void Kill(std::string_view key);
  void Revive(std::string_view key);
  void Remove(std::string_view key);
  void Clear();

  Client& client() { return *client_; }

 private:
  // Publishes definitions_ with killed_ applied; the compile error otherwise.
  // mu_ must be held.
  absl::Status PublishLocked();

  // A std::mutex (not absl::Mutex), like every lock of the library: see
  // src/util/sync.h. It guards the three members below (not annotated:
  // thread-safety attributes need an annotated lock type, and this header is
  // public).
  std::mutex mu_;
  std::uint64_t version_ = 0;
  // key -> flag definition (JSON object text), without "killed".
  absl::btree_map<std::string, std::string> definitions_;
  absl::btree_map<std::string, bool> killed_;
  std::unique_ptr<Client> client_;
};

}  // namespace testing
}  // namespace hotfix

#endif  // HOTFIX_TESTING_H_
